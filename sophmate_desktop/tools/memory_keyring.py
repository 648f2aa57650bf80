"""A real keyring backend that keeps secrets in a dict, in this process only.

The screenshot tool installs it so the demo's secrets never reach the person's
keyring; the tests install it the same way (tests/support/inmemory_keyring.py).
It keeps keyring's contract: `get_password` returns None for a missing secret and
`delete_password` raises PasswordDeleteError.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Secrets in process memory; safe to call from several threads."""

    @properties.classproperty
    def priority(cls) -> float:
        return 1

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            try:
                del self._items[(service, username)]
            except KeyError:
                raise PasswordDeleteError("no such password") from None

    def keys(self) -> set[tuple[str, str]]:
        """(service, username) pairs stored, for assertions."""
        with self._lock:
            return set(self._items)
