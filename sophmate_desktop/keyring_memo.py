"""A short memory, shared by one user's processes, that keyring found no usable backend.

Each command that writes loads the audit key (store/audit_key.py). When keyring has no
usable backend (a terminal or SSH session without a Secret Service), finding that out
costs a command ~90 ms: importing keyring, then every backend it ships, to try each.
A process already waits `RETRY_S` before asking a failed keyring again; this file lets
the next commands do the same: the answer "no usable backend, because ..." is kept with
a fingerprint of what keyring's choice depends on (its environment variables and config
file, this interpreter, the installed packages), and is used only while the fingerprint
matches and it is younger than `RETRY_S`.

Only that absence is remembered, never a key, a secret name or a value. Only loading the
audit key uses it, and only in a process whose keyring has not chosen a backend yet (a
backend set by the program is asked): `secret set` and the other secret commands always
ask the keyring. A key read successfully removes the memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path

RETRY_S = 60.0  # as store.audit_key.RETRY_S: a failed keyring is asked again after this
FILE_NAME = "keyring-unusable.json"
_ENV = (
    "PYTHON_KEYRING_BACKEND",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CURRENT_DESKTOP",
    "HOME",
    "KEYCHAIN_PATH",
    "SOPHMATE_ALLOW_INSECURE_KEYRING",
)


def memo_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("sophmate-desktop", appauthor=False)) / FILE_NAME


def _stamp(path: str | Path) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


def fingerprint() -> str:
    """What keyring's choice of backend depends on: a different value, another answer."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    parts = [sys.platform, sys.prefix, sys.version]
    parts += [f"{name}={os.environ.get(name, '')}" for name in _ENV]
    parts.append(_stamp(config / "python_keyring" / "keyringrc.cfg"))
    # A package installed or removed (a keyring plugin) changes its folder's mtime. Only
    # the package folders: the rest of sys.path depends on how the program was started.
    parts += [
        f"{entry}:{_stamp(entry)}"
        for entry in sys.path
        if os.path.basename(entry) in ("site-packages", "dist-packages")
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def backend_pending() -> bool:
    """True when keyring has not chosen a backend in this process yet (its choice would
    be its own discovery, which the memory stands for)."""
    core = sys.modules.get("keyring.core")
    return core is None or getattr(core, "_keyring_backend", None) is None


def recall() -> str | None:
    """Why no usable backend was found, if that was found less than RETRY_S ago here."""
    if not backend_pending():
        return None
    try:
        memo = json.loads(memo_path().read_text(encoding="utf-8"))
        age = time.time() - float(memo["at"])
        if memo["fingerprint"] != fingerprint() or not 0 <= age < RETRY_S:
            return None
        return f"{memo['message']} (found {age:.0f} s ago; asked again after {RETRY_S:.0f} s)"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(message: str) -> None:
    """Keep `message` (a keyring status text: no value in it) for the next processes."""
    path = memo_path()
    doc = {"at": time.time(), "fingerprint": fingerprint(), "message": message}
    with contextlib.suppress(OSError):  # a memory that cannot be kept costs only time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        os.replace(tmp, path)


def forget() -> None:
    with contextlib.suppress(OSError):
        memo_path().unlink()
