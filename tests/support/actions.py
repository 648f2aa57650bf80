"""Helpers for the action tests: secrets in a dict, step and trigger-file builders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions.base import TriggerFile
from sophmate_desktop.secrets import SecretMissing

SECRETS = {"api-token": "tok-3f9a1c7e", "smtp-pass": "pw-8c2d5b", "db-pass": "s3cr3t-value"}


def lookup(name: str) -> str:
    try:
        return SECRETS[name]
    except KeyError:
        raise SecretMissing(name)


def trigger_file(path: Path) -> TriggerFile:
    data = path.read_bytes()
    stat = path.stat()
    return TriggerFile(path, stat.st_size, stat.st_mtime_ns, hashlib.sha256(data).hexdigest())


def step(action: str, **params: Any) -> StepSpec:
    """A step; `connection`, `for_each` and `customer_facing` are step keys, not params."""
    common = {
        k: params.pop(k) for k in ("connection", "for_each", "customer_facing") if k in params
    }
    return StepSpec(action=action, params=params, **common)
