"""The in-memory keyring backend for tests: sophmate_desktop/tools/memory_keyring.py.

Install it with ``keyring.set_keyring(InMemoryKeyring())`` and restore the previous
backend afterwards, or name it in PYTHON_KEYRING_BACKEND for a child process.
"""

from __future__ import annotations

from sophmate_desktop.tools.memory_keyring import MemoryKeyring


class InMemoryKeyring(MemoryKeyring):
    """The same backend under the name the tests and their status messages use
    ("tests.support.inmemory_keyring.InMemoryKeyring" is how a status names it)."""


class PlaintextMemoryKeyring(InMemoryKeyring):
    """Judged a plaintext file backend by its class name (as keyrings.alt's are)."""
