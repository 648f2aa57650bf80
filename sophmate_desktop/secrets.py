"""Secrets in the OS keyring (DESIGN section 8).

Values never appear in logs or exception messages. Every keyring call runs in a daemon
thread with a timeout, because a locked or unanswered Secret Service can block forever.
Backends that cannot keep a secret (keyring's ``fail`` and ``null``, an empty chainer)
are refused; plaintext file backends are refused unless the user sets
``SOPHMATE_ALLOW_INSECURE_KEYRING=1``. A chainer is judged by the backend it writes to:
its first one (with keyrings.alt installed that is often a working Secret Service).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sophmate_desktop.domain.errors import BadInput, SecretsUnavailable
from sophmate_desktop.domain.secret_forms import mask_forms

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend
    from keyring.backends.chainer import ChainerBackend

# keyring is imported by the first keyring call, not with this module: a command that
# never reads a secret does not pay for it (see `_backend`).

SERVICE = "sophmate-desktop"
INSECURE_ENV = "SOPHMATE_ALLOW_INSECURE_KEYRING"

log = logging.getLogger("sophmate_desktop.secrets")

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_TRUE = frozenset({"1", "true", "yes"})
_FIX = "Start a Secret Service (GNOME Keyring or KWallet) and unlock it"
_MASK = "********"
# Timed-out calls still waiting on the keyring; past this many, fail fast instead of
# piling up threads (a GUI that polls a hung keyring would otherwise leak one per poll).
_MAX_STUCK = 4


class SecretMissing(BadInput):
    """A named secret is not in the keyring (exit 2)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"secret {name!r} is not set; set it with `sophmate-desktop secret set {name}`"
        )
        self.name = name


class KeyringUnusable(SecretsUnavailable):
    """keyring's backend cannot keep secrets (none, or an insecure one not allowed)."""


@dataclass(frozen=True)
class BackendStatus:
    """What the keyring backend is and whether the app will use it.

    ``allowed_insecure`` reflects the user's setting; the console audits a status with
    ``insecure and allowed_insecure`` (an insecure backend in use).
    """

    backend: str
    usable: bool
    insecure: bool
    allowed_insecure: bool
    message: str


# --- values seen in this process, for masking output -------------------------------

_seen_lock = threading.Lock()
_seen: set[str] = set()


def _remember(value: str) -> None:
    with _seen_lock:
        _seen.add(value)


def mask_known_values(text: str, placeholder: str = _MASK) -> str:
    """Replace every secret value set or read in this process, and every encoded
    form of it (base64, URL, JSON, HTML, hex: `domain.secret_forms`), by ``placeholder``."""
    with _seen_lock:
        values = list(_seen)
    return mask_forms(text, values, placeholder)


class MaskingFilter(logging.Filter):
    """Masks every secret seen in this process, in each of its forms, in a log record
    (its message, arguments and traceback): a library that logs a URL or a server's
    reply (apprise, urllib) never writes a secret to a log file through a handler
    that has this filter."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _seen_lock:
            if not _seen:
                return True
        record.msg = mask_known_values(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_known_values(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_known_values(record.stack_info)
        return True


# --- backend classification ----------------------------------------------------------


def _class_path(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_plaintext(backend: KeyringBackend) -> bool:
    module = type(backend).__module__
    # keyring calls everything in keyrings.alt "non-recommended"; its file backends
    # (plaintext and the weakly encrypted one) are what it silently switches to.
    return (
        module == "keyrings.alt"
        or module.startswith("keyrings.alt.")
        or "plaintext" in type(backend).__name__.lower()
    )


def _classify(backend: KeyringBackend) -> tuple[str, str]:
    """("ok" | "insecure" | "unusable", detail) for one backend."""
    from keyring.backends import chainer, fail, null

    path = _class_path(backend)
    if isinstance(backend, fail.Keyring):
        return "unusable", f"keyring picked {path}"
    if isinstance(backend, null.Keyring):
        return "unusable", f"keyring picked {path}, which stores nothing"
    if isinstance(backend, chainer.ChainerBackend):
        return _classify_chain(backend, path)
    if _is_plaintext(backend):
        return "insecure", path
    return "ok", path


def _classify_chain(backend: ChainerBackend, path: str) -> tuple[str, str]:
    """A chain writes every secret to its first backend (keyring/backends/chainer.py
    moves on only past NotImplementedError), so that one decides; the others are
    only read from when it lacks a name."""
    members = list(backend.backends)
    if not members:
        return "unusable", f"keyring picked {path} with no usable backend to chain"
    names = ", ".join(_class_path(member) for member in members)
    kind, _ = _classify(members[0])
    if kind == "unusable":
        return "unusable", f"keyring picked {path} whose first backend cannot store ({names})"
    if kind == "insecure":
        return "insecure", f"{path}, which writes to {_class_path(members[0])} ({names})"
    return "ok", f"{path} ({names})"


def _status_of(backend: KeyringBackend, allow_insecure: bool) -> BackendStatus:
    path = _class_path(backend)
    kind, detail = _classify(backend)
    if kind == "ok":
        return BackendStatus(path, True, False, allow_insecure, f"Secrets are stored in {detail}.")
    if kind == "unusable":
        message = (
            f"No secure keyring is available ({detail}). {_FIX}; or, to accept a "
            f"plaintext file at your own risk, install keyrings.alt and set {INSECURE_ENV}=1."
        )
        return BackendStatus(path, False, False, allow_insecure, message)
    if allow_insecure:
        message = (
            f"Secrets are stored in {detail}, which does not protect them "
            f"(insecure backend allowed by {INSECURE_ENV})."
        )
        return BackendStatus(path, True, True, True, message)
    message = (
        f"The keyring backend {detail} keeps secrets in a file that is not securely "
        f"encrypted. {_FIX}, or set {INSECURE_ENV}=1 to accept this backend at your own risk."
    )
    return BackendStatus(path, False, True, False, message)


def _env_allows_insecure() -> bool:
    return os.environ.get(INSECURE_ENV, "").strip().lower() in _TRUE


# --- running keyring calls off the caller's thread ---------------------------------

# keyring picks its backend on first use by importing every backend it ships. Its macOS
# backend loads the Security framework at import through ctypes.util.find_library,
# which off macOS runs ldconfig, gcc and ld as subprocesses (~50 ms) only to fail (the
# import then raises AttributeError, which keyring swallows), and keyring refuses that
# backend off macOS anyway (its priority raises "macOS required"). So off macOS that
# import is made to fail at once: the same backend is chosen, without the subprocesses.
_MACOS_API = "keyring.backends.macOS.api"


def _backend() -> KeyringBackend:
    """keyring's current backend (chosen on the first call in this process)."""
    if sys.platform != "darwin":
        sys.modules.setdefault(_MACOS_API, None)  # type: ignore[arg-type]
    import keyring

    return keyring.get_keyring()


_stuck_lock = threading.Lock()
_stuck: set[threading.Thread] = set()
_warned_lock = threading.Lock()
_warned: weakref.WeakSet[KeyringBackend] = weakref.WeakSet()


class _Refused:
    def __init__(self, status: BackendStatus) -> None:
        self.status = status


class _Missing:
    pass


_MISSING = _Missing()


class SecretStore:
    """Named secrets under one keyring service."""

    def __init__(
        self,
        *,
        service: str = SERVICE,
        timeout_s: float = 5.0,
        allow_insecure: bool | None = None,
    ) -> None:
        if not service:
            raise ValueError("service must be a non-empty string")
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        self._service = service
        self._timeout_s = float(timeout_s)
        self._allow_insecure = (
            _env_allows_insecure() if allow_insecure is None else bool(allow_insecure)
        )

    @classmethod
    def values_seen(cls) -> frozenset[str]:
        """Secret values set or read by any store in this process (for masking)."""
        with _seen_lock:
            return frozenset(_seen)

    def status(self) -> BackendStatus:
        """The current backend and whether secrets can be stored; never raises."""

        def work() -> BackendStatus:
            backend = _backend()
            status = _status_of(backend, self._allow_insecure)
            self._warn_if_insecure(status, backend)
            return status

        try:
            return self._run(work)
        except SecretsUnavailable as exc:
            return BackendStatus("unknown", False, False, self._allow_insecure, str(exc))

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``, replacing any previous value."""
        _check_name(name)
        if not isinstance(value, str) or not value:
            raise BadInput(f"the value of secret {name!r} must be a non-empty string")
        # Remembered first: a timed-out call may still store it later.
        _remember(value)
        self._with_backend(
            lambda b: b.set_password(self._service, name, value), "store", name, value
        )

    def get(self, name: str) -> str:
        """The value of ``name``; SecretMissing when it is not set."""
        _check_name(name)
        value = self._with_backend(lambda b: b.get_password(self._service, name), "read", name)
        if value is None:
            raise SecretMissing(name)
        _remember(value)
        return value

    def has(self, name: str) -> bool:
        """Whether ``name`` is set."""
        _check_name(name)
        value = self._with_backend(lambda b: b.get_password(self._service, name), "read", name)
        if value is None:
            return False
        _remember(value)
        return True

    def delete(self, name: str) -> None:
        """Remove ``name``; SecretMissing when it is not set."""
        _check_name(name)

        def delete(backend: KeyringBackend) -> object:
            # Backends signal "missing" and "failed" with the same PasswordDeleteError.
            if backend.get_password(self._service, name) is None:
                return _MISSING
            backend.delete_password(self._service, name)
            return None

        if self._with_backend(delete, "delete", name) is _MISSING:
            raise SecretMissing(name)

    # -- internals --

    def _with_backend(
        self,
        op: Callable[[KeyringBackend], Any],
        verb: str,
        name: str,
        value: str | None = None,
    ) -> Any:
        def work() -> Any:
            backend = _backend()
            status = _status_of(backend, self._allow_insecure)
            if not status.usable:
                return _Refused(status)
            self._warn_if_insecure(status, backend)
            return op(backend)

        result = self._run(work, verb=verb, name=name, value=value)
        if isinstance(result, _Refused):
            raise KeyringUnusable(result.status.message)
        return result

    @staticmethod
    def _warn_if_insecure(status: BackendStatus, backend: KeyringBackend) -> None:
        if not (status.usable and status.insecure):
            return
        with _warned_lock:
            if backend in _warned:
                return
            _warned.add(backend)
        log.warning(
            "insecure keyring backend %s in use because %s is set; secrets are not "
            "protected at rest",
            status.backend,
            INSECURE_ENV,
        )

    def _run(
        self,
        work: Callable[[], Any],
        *,
        verb: str = "query",
        name: str | None = None,
        value: str | None = None,
    ) -> Any:
        timeout_msg = f"the keyring did not answer within {self._timeout_s} s (is it locked?)"
        with _stuck_lock:
            _stuck.difference_update([t for t in _stuck if not t.is_alive()])
            if len(_stuck) >= _MAX_STUCK:
                raise SecretsUnavailable(
                    f"{timeout_msg}; {len(_stuck)} earlier calls are still waiting for it"
                )

        done = threading.Event()
        box: list[tuple[bool, Any]] = []

        def target() -> None:
            try:
                box.append((True, work()))
            except BaseException as exc:  # reported to the caller, never lost in the thread
                box.append((False, exc))
            finally:
                done.set()

        # A daemon thread: one stuck in D-Bus must not block interpreter exit.
        thread = threading.Thread(target=target, name="sophmate-keyring", daemon=True)
        thread.start()
        if not done.wait(self._timeout_s):
            with _stuck_lock:
                if thread.is_alive():
                    _stuck.add(thread)
            raise SecretsUnavailable(timeout_msg)
        ok, result = box[0]
        if ok:
            return result
        # Built outside any except block so the backend's exception (whose text we do
        # not control) is neither chained nor kept as __context__.
        raise _translate(result, verb, name, value)


def _translate(
    exc: BaseException, verb: str, name: str | None, value: str | None
) -> SecretsUnavailable:
    from keyring.errors import KeyringLocked

    what = f"secret {name!r}" if name else "the keyring"
    if isinstance(exc, KeyringLocked):
        return SecretsUnavailable(
            f"could not {verb} {what}: the keyring is locked; unlock it and try again"
        )
    detail = str(exc)
    if value:
        detail = detail.replace(value, _MASK)
    detail = mask_known_values(detail)
    suffix = f": {detail}" if detail else ""
    return SecretsUnavailable(f"could not {verb} {what}: {type(exc).__name__}{suffix}")


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise BadInput(f"a secret name must be a string, not {type(name).__name__}")
    if not _NAME_RE.fullmatch(name):
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise BadInput(
            f"invalid secret name {shown!r}: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


# --- database logins ------------------------------------------------------------------

# The password of a PostgreSQL login, by name: what the program connects with when a
# URL names no password, and what `team user add --password-from-keyring` reads.
DB_LOGIN_SECRET = "db-login-{login}"


def db_login_password(login: str) -> str | None:
    """The keyring's password for the PostgreSQL login `login` (secret db-login-LOGIN),
    or None: not there, or no usable keyring; then libpq goes on to ~/.pgpass, peer or
    GSS authentication, so this is never an error."""
    name = DB_LOGIN_SECRET.format(login=login)
    if not _NAME_RE.fullmatch(name):
        return None
    try:
        return SecretStore(timeout_s=3.0).get(name)
    except (SecretsUnavailable, BadInput):
        return None


# --- the audit key --------------------------------------------------------------------

AUDIT_SERVICE = SERVICE + ".audit"
AUDIT_KEY_NAME = "hmac-key"


def audit_key(store: SecretStore, *, create: bool) -> bytes:
    """The audit trail's HMAC key from the keyring (its own service name, so it is
    never listed with the user's secrets); made on first use when `create`.

    A missing key is SecretsUnavailable with what to do: without it the product
    cannot sign checkpoints or MAC events, and a new key would make every earlier
    MAC look forged, so one is only made for a trail that has none yet."""
    from sophmate_desktop import keyring_memo

    unusable = keyring_memo.recall()  # no backend was usable a moment ago: not again yet
    if unusable is not None:
        raise KeyringUnusable(unusable)
    keys = SecretStore(
        service=AUDIT_SERVICE, timeout_s=store._timeout_s, allow_insecure=store._allow_insecure
    )
    pending = keyring_memo.backend_pending()
    try:
        key = bytes.fromhex(keys.get(AUDIT_KEY_NAME))
    except KeyringUnusable as exc:
        if pending:  # keyring's own discovery found nothing usable: tell the next commands
            keyring_memo.remember(str(exc))
        raise
    except SecretMissing:
        if pending:  # the keyring works (it only lacks the key)
            keyring_memo.forget()
        if not create:
            raise SecretsUnavailable(
                f"the audit key is not in this keyring (service {AUDIT_SERVICE!r}, name "
                f"{AUDIT_KEY_NAME!r}) although the audit trail has MACs made with one: copy "
                "it from the machine that made it; until then events get no MAC and "
                "checkpoints are not written"
            ) from None
    else:
        if pending:
            keyring_memo.forget()
        return key
    import secrets as random

    keys.set(AUDIT_KEY_NAME, random.token_hex(32))
    return bytes.fromhex(keys.get(AUDIT_KEY_NAME))  # another process may have won the race
