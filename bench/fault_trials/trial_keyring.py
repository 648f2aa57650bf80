"""A keyring shared by the processes of one fault trial: a JSON file named by
$SOPHMATE_TRIAL_KEYRING (plaintext, so the product needs
SOPHMATE_ALLOW_INSECURE_KEYRING=1). The engines and CLI processes a trial starts, and
the trial itself, must all hold the same audit key for `audit verify` to judge the
events they wrote. For temporary trial folders only."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

PATH_ENV = "SOPHMATE_TRIAL_KEYRING"


class PlaintextTrialKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        return 1

    def _change(self, change) -> object:
        path = Path(os.environ[PATH_ENV])
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            items = json.loads(path.read_text()) if path.exists() else {}
            result = change(items)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(items))
            os.replace(tmp, path)
            return result

    def get_password(self, service: str, username: str) -> str | None:
        return self._change(lambda items: items.get(f"{service}\0{username}"))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._change(lambda items: items.__setitem__(f"{service}\0{username}", password))

    def delete_password(self, service: str, username: str) -> None:
        def delete(items: dict) -> None:
            if items.pop(f"{service}\0{username}", None) is None:
                raise PasswordDeleteError("no such password")

        self._change(delete)
