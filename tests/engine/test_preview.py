"""Plan-only planning of one input (engine/preview.py): the writes, and nothing else."""

from __future__ import annotations

import hashlib

import pytest

from sophmate_desktop.domain.workflow_file import parse_workflow_yaml
from sophmate_desktop.engine.service import PreviewFailed, PreviewInput, plan_preview
from tests.support.change_preview import EXTRA_STEP, preview_folders, preview_yaml


def test_plans_every_step_for_the_file_and_writes_nothing(db, tmp_path) -> None:
    defn = parse_workflow_yaml(preview_yaml(tmp_path, extra=EXTRA_STEP))
    path = preview_folders(tmp_path)["inbox"] / "a.txt"
    path.write_text("abc")
    digest = hashlib.sha256(b"abc").hexdigest()
    writes = plan_preview(defn, PreviewInput(7, path, digest, "production"))
    assert [(w.kind, w.target) for w in writes] == [
        ("write_file", str(tmp_path / "out" / "a.txt")),
        ("write_file", str(tmp_path / "out" / "a.copy")),
    ]
    assert "Hello abc" in writes[0].preview
    assert list((tmp_path / "out").iterdir()) == []


def test_a_file_that_cannot_be_read_fails_with_the_reason(db, tmp_path) -> None:
    defn = parse_workflow_yaml(preview_yaml(tmp_path))
    gone = tmp_path / "inbox" / "gone.txt"
    with pytest.raises(PreviewFailed, match="no longer exists"):
        plan_preview(defn, PreviewInput(1, gone, "0" * 64, "staging"))
