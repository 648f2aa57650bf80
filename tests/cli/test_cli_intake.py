"""`workflow run --file` with a file name that is not valid UTF-8: a clear message."""

from __future__ import annotations

import os

from tests.support.cli import REPORTS, Cli


def test_run_file_with_undecodable_name_exits_2_with_a_clear_message(cli: Cli, tmp_path) -> None:
    cli("workflow", "import", REPORTS)
    raw = os.path.join(os.fsencode(tmp_path), b"report-\xff.txt")
    with open(raw, "wb") as f:
        f.write(b"x")
    # what argv holds for such a name: os.fsdecode's surrogate escapes
    result = cli("workflow", "run", "report-archive", "--file", os.fsdecode(raw), "--dry-run")
    assert result.code == 2, (result.out, result.err)
    assert "report-\\xff.txt is not valid UTF-8" in result.err
    assert "surrogates not allowed" not in result.out + result.err
    assert cli("runs", "list", "--json").json() == []
