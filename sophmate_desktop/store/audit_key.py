"""The audit key: an HMAC key that only the product holds (in the keyring), for the
per-event MACs and the signed checkpoints of the chain head.

The store does not reach the keyring itself (store and secrets are sibling layers):
the console and the engine register a loader for their database handle with
`use_key_loader`; the key is loaded once per process, outside any transaction
(`prime`), and cached. Without a loader, or when the keyring cannot give the key,
events are appended without a MAC (and `key_problem` says why); verify names them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import weakref
from collections.abc import Callable

from peewee import Database

log = logging.getLogger(__name__)

RETRY_S = 60.0  # a keyring that failed is asked again after this long

_lock = threading.Lock()
_loaders: weakref.WeakKeyDictionary[Database, Callable[[], bytes]] = weakref.WeakKeyDictionary()
_keys: weakref.WeakKeyDictionary[Database, bytes] = weakref.WeakKeyDictionary()
_failed: weakref.WeakKeyDictionary[Database, tuple[float, str]] = weakref.WeakKeyDictionary()


def use_key_loader(db: Database, loader: Callable[[], bytes]) -> None:
    """Register how to get the audit key for `db` (first registration wins)."""
    with _lock:
        _loaders.setdefault(db, loader)


def use_key(db: Database, key: bytes) -> None:
    """Use `key` for `db` from now on (an auditor's key, tests)."""
    with _lock:
        _keys[db] = key
        _failed.pop(db, None)


def prime(db: Database) -> bytes | None:
    """The key of `db`, loading it now if it is not cached (call outside transactions)."""
    with _lock:
        key = _keys.get(db)
        loader = _loaders.get(db)
        failed = _failed.get(db)
    if key is not None or loader is None:
        return key
    if failed is not None and time.monotonic() - failed[0] < RETRY_S:
        return None
    try:
        key = loader()
    except Exception as exc:  # the keyring's own error (already free of values)
        with _lock:
            _failed[db] = (time.monotonic(), str(exc) or type(exc).__name__)
        log.info("audit key unavailable, events are appended without a MAC: %s", exc)
        return None
    with _lock:
        _keys[db] = key
        _failed.pop(db, None)
    return key


def cached_key(db: Database) -> bytes | None:
    """The key if this process has it (never a keyring call: safe in a transaction)."""
    with _lock:
        return _keys.get(db)


def key_problem(db: Database) -> str | None:
    """Why there is no key for `db`, or None when there is one."""
    with _lock:
        if db in _keys:
            return None
        failed = _failed.get(db)
        has_loader = db in _loaders
    if failed is not None:
        return f"the audit key could not be read from the keyring: {failed[1]}"
    if not has_loader:
        return "no audit key was configured for this database handle"
    return None


def event_mac(key: bytes, event_hash: str) -> str:
    """The MAC of one event: HMAC-SHA256 of its chain hash (which covers every field
    and the chain before it)."""
    return hmac.new(key, b"event:" + event_hash.encode(), hashlib.sha256).hexdigest()


def sign(key: bytes, text: str) -> str:
    return hmac.new(key, b"checkpoint:" + text.encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)


def key_id(key: bytes) -> str:
    """A name for the key that gives nothing of it away."""
    return hashlib.sha256(b"id:" + key).hexdigest()[:16]
