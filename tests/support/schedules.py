"""Scheduled workflows for tests: a complete workflow file with a time trigger."""

from __future__ import annotations

import json
from pathlib import Path

SCHEDULED = """\
name: {name}
category: {category}
owner: ops-lead
description: A scheduled test workflow.
trigger: {trigger}
input: {{read: none}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
  - action: write_file
    to: {target}
    content: "{{{{ run.id }}}}"
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 0}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3}}
rollback: Delete what it wrote.
"""


def scheduled_doc(
    name: str, out: Path, *, category: str = "ops", catch_up: str | None = None, **trigger
) -> str:
    """A workflow whose trigger is `trigger` (cron=..., timezone=..., interval_s=...)."""
    if catch_up is not None:
        trigger["catch_up"] = catch_up
    return SCHEDULED.format(
        name=name,
        category=category,
        trigger=json.dumps(trigger),
        out=json.dumps(str(out)),
        target=json.dumps(str(out / (name + ".txt"))),
    )
