"""A workflow with real folders and runs recorded the way the engine records a
trigger file (path, size, mtime, sha256), for the change preview's tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run, Workflow

PREVIEW_WORKFLOW = """\
name: {name}
category: finance
owner: ops-lead
description: A test workflow.
trigger: {{folder: {inbox}, patterns: ["*.txt"]}}
input: {{read: text, max_bytes: 100000}}
output: {{paths: [{out}], staging_paths: [{staging}]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.name }}}}"
    content: "{content}"
{extra}approval: {{mode: always}}
retry: {{limit: 1, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3}}
rollback: Delete the written file.
"""

EXTRA_STEP = """\
  - action: write_file
    to: "{{ output.path }}/{{ file.stem }}.copy"
    content: "copy of {{ input }}"
"""


def preview_folders(root: Path) -> dict[str, Path]:
    folders = {name: root / name for name in ("inbox", "out", "staging")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def preview_yaml(
    root: Path, *, name: str = "wf-prev", content: str = "Hello {{ input }}", extra: str = ""
) -> str:
    f = preview_folders(root)
    return PREVIEW_WORKFLOW.format(
        name=name,
        inbox=f["inbox"],
        out=f["out"],
        staging=f["staging"],
        content=content,
        extra=extra,
    )


def recorded_run(db, workflow: str, path: Path, *, mode: str = "staging") -> Run:
    """A finished run of `workflow` triggered by `path` as it is now."""
    wf = Workflow.get(Workflow.name == workflow)
    st = path.stat()
    now = utcnow()
    with write_transaction(db):
        return Run.create(
            workflow=wf,
            revision=wf.revision,
            trigger_kind="file",
            trigger_path=str(path),
            trigger_size=st.st_size,
            trigger_mtime=st.st_mtime,
            trigger_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
            mode=mode,
            status="succeeded",
            queued_at=now,
            started_at=now,
            finished_at=now,
        )


def inputs_with_runs(db, root: Path, workflow: str, count: int) -> list[Path]:
    """`count` trigger files in root/inbox, each with a recorded run."""
    inbox = preview_folders(root)["inbox"]
    paths = []
    for n in range(count):
        path = inbox / f"in-{n:03}.txt"
        path.write_text(f"line {n}")
        recorded_run(db, workflow, path)
        paths.append(path)
    return paths
