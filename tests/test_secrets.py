"""SecretStore against real keyring backends: in-memory, fail, null, chainer, plaintext."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordSetError

from sophmate_desktop.domain.errors import BadInput, SecretsUnavailable
from sophmate_desktop.secrets import (
    INSECURE_ENV,
    SERVICE,
    BackendStatus,
    SecretMissing,
    SecretStore,
    mask_known_values,
)
from tests.support.inmemory_keyring import InMemoryKeyring

ROOT = Path(__file__).resolve().parents[1]
# Values read or set are masked process-wide for the rest of the session: keep them long
# and distinctive so they never mask ordinary text in other tests.
SECRET = "hunter2-Sup3r-s3cret-value"
VALUE = "sm-test-value-7f3a"
MEMORY_PATH = "tests.support.inmemory_keyring.InMemoryKeyring"


# --- test backends (negative priority: keyring never picks or chains them itself) ---


class _TestOnly(InMemoryKeyring):
    @properties.classproperty
    def priority(cls) -> float:
        return -5


class PlaintextKeyring(_TestOnly):
    """Detected as plaintext by its class name."""


class AltFileKeyring(_TestOnly):
    """Detected as plaintext because it claims to live in keyrings.alt.file."""

    __module__ = "keyrings.alt.file"


class BlockingKeyring(_TestOnly):
    """A Secret Service that does not answer until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls = 0  # how often it was asked
        self._count = threading.Lock()

    def _asked(self) -> None:
        with self._count:
            self.calls += 1
        self.entered.set()

    def get_password(self, service: str, username: str) -> str | None:
        self._asked()
        self.release.wait(30)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._asked()
        self.release.wait(30)
        super().set_password(service, username, password)


class LockedKeyring(_TestOnly):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")


class LeakyKeyring(_TestOnly):
    """A backend whose error message echoes the value it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"cannot store {password!r} for {username}")


class EmptyChainer(chainer.ChainerBackend):
    @properties.classproperty
    def priority(cls) -> float:
        return -5

    @properties.classproperty
    def backends(cls) -> list[KeyringBackend]:
        return []


class FailOnlyChainer(EmptyChainer):
    @properties.classproperty
    def backends(cls) -> list[KeyringBackend]:
        return [fail.Keyring()]


class MemoryChainer(EmptyChainer):
    members: list[KeyringBackend] = []

    @properties.classproperty
    def backends(cls) -> list[KeyringBackend]:
        return cls.members


class BlockingChainer(EmptyChainer):
    """Chainer whose backend discovery hangs (as a D-Bus probe can)."""

    gate = threading.Event()

    @properties.classproperty
    def backends(cls) -> list[KeyringBackend]:
        cls.gate.wait(30)
        return []


# --- fixtures ---------------------------------------------------------------------------


def _wait_for_keyring_threads(deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while any(t.name == "sophmate-keyring" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "keyring worker threads still running"
        time.sleep(0.01)


@pytest.fixture
def install() -> Iterator[Callable[[KeyringBackend], KeyringBackend]]:
    previous = keyring.get_keyring()

    def _install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield _install
    keyring.set_keyring(previous)


@pytest.fixture
def memory(install: Callable[[KeyringBackend], KeyringBackend]) -> InMemoryKeyring:
    backend = InMemoryKeyring()
    install(backend)
    return backend


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(INSECURE_ENV, raising=False)


@pytest.fixture
def blocking(install: Callable[[KeyringBackend], KeyringBackend]) -> Iterator[BlockingKeyring]:
    backend = BlockingKeyring()
    install(backend)
    yield backend
    backend.release.set()
    _wait_for_keyring_threads()


def _texts(exc: BaseException) -> str:
    """Everything an exception could show: str, repr, args, and its whole chain."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args), repr(getattr(seen, "__notes__", ""))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


# --- the happy path -----------------------------------------------------------------------


def test_set_get_has_delete_round_trip(memory: InMemoryKeyring) -> None:
    store = SecretStore()
    assert not store.has("smtp-password")
    store.set("smtp-password", SECRET)
    assert memory.keys() == {(SERVICE, "smtp-password")}
    assert store.has("smtp-password")
    assert store.get("smtp-password") == SECRET

    store.set("smtp-password", "sm-test-replaced-7f3a")
    assert store.get("smtp-password") == "sm-test-replaced-7f3a"

    store.delete("smtp-password")
    assert not store.has("smtp-password")
    assert memory.keys() == set()


def test_missing_secret_says_how_to_set_it(memory: InMemoryKeyring) -> None:
    store = SecretStore()
    with pytest.raises(SecretMissing) as info:
        store.get("smtp-password")
    assert str(info.value) == (
        "secret 'smtp-password' is not set; set it with `sophmate-desktop secret set smtp-password`"
    )
    assert isinstance(info.value, BadInput)
    assert info.value.exit_code == 2
    with pytest.raises(SecretMissing, match="'smtp-password' is not set"):
        store.delete("smtp-password")


def test_services_are_separate(memory: InMemoryKeyring) -> None:
    SecretStore(service="other-app").set("token", "sm-test-other-7f3a")
    store = SecretStore()
    assert not store.has("token")
    store.set("token", "sm-test-ours-7f3a")
    assert SecretStore(service="other-app").get("token") == "sm-test-other-7f3a"
    assert memory.keys() == {("other-app", "token"), (SERVICE, "token")}


def test_values_set_or_read_are_tracked_for_masking(memory: InMemoryKeyring) -> None:
    store = SecretStore()
    store.set("api-token", "tok-set-in-this-process")
    memory.set_password(SERVICE, "db-password", "pw-written-by-another-process")
    assert "pw-written-by-another-process" not in SecretStore.values_seen()
    assert store.get("db-password") == "pw-written-by-another-process"
    seen = store.values_seen()
    assert isinstance(seen, frozenset)
    assert {"tok-set-in-this-process", "pw-written-by-another-process"} <= seen
    text = "login with pw-written-by-another-process and tok-set-in-this-process"
    assert mask_known_values(text) == "login with ******** and ********"
    assert mask_known_values(text, "[secret]") == "login with [secret] and [secret]"


@pytest.mark.parametrize("name", ["a", "9", "A" * 128, "smtp.pass_word-1", "x.Y_z-0"])
def test_valid_names(memory: InMemoryKeyring, name: str) -> None:
    store = SecretStore()
    store.set(name, VALUE)
    assert store.get(name) == VALUE


@pytest.mark.parametrize(
    "name", ["", "-lead", ".hidden", "_x", "a b", "a/b", "x" * 129, "name\n", "naïve", "a:b"]
)
@pytest.mark.parametrize("op", ["set", "get", "has", "delete"])
def test_bad_names_are_refused_and_named(memory: InMemoryKeyring, name: str, op: str) -> None:
    store = SecretStore()
    args = (name, VALUE) if op == "set" else (name,)
    with pytest.raises(BadInput, match="invalid secret name") as info:
        getattr(store, op)(*args)
    shown = name if len(name) <= 60 else name[:57] + "..."
    assert repr(shown) in str(info.value)
    assert memory.keys() == set()


def test_non_string_name_is_bad_input(memory: InMemoryKeyring) -> None:
    with pytest.raises(BadInput, match="must be a string, not int"):
        SecretStore().get(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", None, b"bytes-value", 1234])
def test_bad_values_are_refused_without_echoing_them(
    memory: InMemoryKeyring, value: object
) -> None:
    with pytest.raises(BadInput, match="value of secret 'token' must be a non-empty") as info:
        SecretStore().set("token", value)  # type: ignore[arg-type]
    if value:
        assert str(value) not in _texts(info.value)
        assert "bytes-value" not in _texts(info.value)
    assert memory.keys() == set()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", fullmatch=True),
    value=st.text(max_size=40).map(lambda text: "sm-hyp-" + text),
)
def test_any_valid_name_and_value_round_trip(
    memory: InMemoryKeyring, name: str, value: str
) -> None:
    store = SecretStore()
    store.set(name, value)
    assert store.get(name) == value
    store.delete(name)
    assert not store.has(name)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SecretStore(timeout_s=0)


# --- backends that must be refused ----------------------------------------------------------


def test_fail_backend_is_refused_with_a_fix(
    install: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    install(fail.Keyring())
    store = SecretStore()
    status = store.status()
    assert status == BackendStatus(
        backend="keyring.backends.fail.Keyring",
        usable=False,
        insecure=False,
        allowed_insecure=False,
        message=status.message,
    )
    assert status.message.startswith(
        "No secure keyring is available (keyring picked keyring.backends.fail.Keyring). "
        "Start a Secret Service (GNOME Keyring or KWallet) and unlock it"
    )
    assert f"{INSECURE_ENV}=1" in status.message
    for call in (
        lambda: store.set("token", SECRET),
        lambda: store.get("token"),
        lambda: store.has("token"),
        lambda: store.delete("token"),
    ):
        with pytest.raises(SecretsUnavailable) as info:
            call()
        assert str(info.value) == status.message
        assert SECRET not in _texts(info.value)


@pytest.mark.parametrize(
    ("backend", "path", "detail"),
    [
        (null.Keyring, "keyring.backends.null.Keyring", "which stores nothing"),
        (EmptyChainer, f"{__name__}.EmptyChainer", "no usable backend to chain"),
        (FailOnlyChainer, f"{__name__}.FailOnlyChainer", "keyring.backends.fail.Keyring"),
    ],
)
@pytest.mark.parametrize("allow", [False, True])
def test_backends_that_store_nothing_are_refused_even_when_insecure_is_allowed(
    install: Callable[[KeyringBackend], KeyringBackend],
    backend: type[KeyringBackend],
    path: str,
    detail: str,
    allow: bool,
) -> None:
    install(backend())
    store = SecretStore(allow_insecure=allow)
    status = store.status()
    assert (status.backend, status.usable, status.insecure) == (path, False, False)
    assert status.allowed_insecure is allow
    assert status.message.startswith("No secure keyring is available")
    assert detail in status.message
    with pytest.raises(SecretsUnavailable) as info:
        store.set("token", SECRET)
    assert str(info.value) == status.message
    with pytest.raises(SecretsUnavailable):
        store.get("token")


@pytest.mark.parametrize(
    ("backend", "path"),
    [
        (PlaintextKeyring, f"{__name__}.PlaintextKeyring"),
        (AltFileKeyring, "keyrings.alt.file.AltFileKeyring"),
    ],
)
def test_plaintext_backends_are_refused_and_store_nothing(
    install: Callable[[KeyringBackend], KeyringBackend],
    backend: type[InMemoryKeyring],
    path: str,
) -> None:
    instance = install(backend())
    store = SecretStore()
    status = store.status()
    assert (status.backend, status.usable, status.insecure, status.allowed_insecure) == (
        path,
        False,
        True,
        False,
    )
    assert "not securely encrypted" in status.message
    assert f"set {INSECURE_ENV}=1" in status.message
    with pytest.raises(SecretsUnavailable, match="not securely encrypted"):
        store.set("token", SECRET)
    assert instance.keys() == set()  # type: ignore[attr-defined]


@pytest.mark.parametrize("env", ["1", "true", "YES", " yes "])
def test_env_var_allows_plaintext_and_warns_once(
    install: Callable[[KeyringBackend], KeyringBackend],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    env: str,
) -> None:
    monkeypatch.setenv(INSECURE_ENV, env)
    backend = install(PlaintextKeyring())
    caplog.set_level(logging.DEBUG)
    store = SecretStore()
    status = store.status()
    assert (status.usable, status.insecure, status.allowed_insecure) == (True, True, True)
    assert status.message.startswith(f"Secrets are stored in {__name__}.PlaintextKeyring")
    assert INSECURE_ENV in status.message

    store.set("token", SECRET)
    assert store.get("token") == SECRET
    assert SecretStore().has("token")  # a second store on the same backend
    assert backend.keys() == {(SERVICE, "token")}  # type: ignore[attr-defined]

    warnings = [
        r for r in caplog.records if r.name == "sophmate_desktop.secrets" and r.levelno >= 30
    ]
    assert len(warnings) == 1
    assert "insecure keyring backend" in warnings[0].getMessage()
    assert INSECURE_ENV in warnings[0].getMessage()
    assert all(SECRET not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("env", ["0", "no", "", "false", "on"])
def test_other_env_values_do_not_allow(
    install: Callable[[KeyringBackend], KeyringBackend],
    monkeypatch: pytest.MonkeyPatch,
    env: str,
) -> None:
    monkeypatch.setenv(INSECURE_ENV, env)
    install(PlaintextKeyring())
    with pytest.raises(SecretsUnavailable, match="not securely encrypted"):
        SecretStore().set("token", SECRET)


def test_explicit_argument_beats_env(
    install: Callable[[KeyringBackend], KeyringBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    install(AltFileKeyring())
    monkeypatch.setenv(INSECURE_ENV, "1")
    assert not SecretStore(allow_insecure=False).status().usable
    monkeypatch.setenv(INSECURE_ENV, "0")
    SecretStore(allow_insecure=True).set("token", VALUE)
    assert SecretStore(allow_insecure=True).get("token") == VALUE


def test_chainer_is_judged_by_its_members(
    install: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    memory = InMemoryKeyring()
    MemoryChainer.members = [memory]
    try:
        install(MemoryChainer())
        store = SecretStore()
        status = store.status()
        assert (status.usable, status.insecure) == (True, False)
        assert status.message == (
            f"Secrets are stored in {__name__}.MemoryChainer ({MEMORY_PATH})."
        )
        store.set("token", VALUE)
        assert memory.keys() == {(SERVICE, "token")}
    finally:
        MemoryChainer.members = []


def test_chainer_writing_to_a_secret_service_first_is_accepted_with_keyrings_alt_behind(
    install: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    """keyrings.alt installed: the chain holds a Secret Service first, a file after."""
    service, plaintext = InMemoryKeyring(), AltFileKeyring()
    MemoryChainer.members = [service, plaintext]
    try:
        install(MemoryChainer())
        store = SecretStore()
        status = store.status()
        assert (status.usable, status.insecure) == (True, False)
        assert "keyrings.alt.file.AltFileKeyring" in status.message  # named, not judged
        store.set("token", VALUE)
        assert service.keys() == {(SERVICE, "token")}
        assert plaintext.keys() == set()
        assert store.get("token") == VALUE
    finally:
        MemoryChainer.members = []


def test_chainer_writing_to_a_plaintext_file_first_is_refused_unless_allowed(
    install: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    plaintext, service = PlaintextKeyring(), InMemoryKeyring()
    MemoryChainer.members = [plaintext, service]
    try:
        install(MemoryChainer())
        status = SecretStore().status()
        assert (status.usable, status.insecure) == (False, True)
        assert f"writes to {__name__}.PlaintextKeyring" in status.message
        with pytest.raises(SecretsUnavailable):
            SecretStore().get("token")
        allowed = SecretStore(allow_insecure=True)
        assert (allowed.status().usable, allowed.status().insecure) == (True, True)
        allowed.set("token", VALUE)
        assert plaintext.keys() == {(SERVICE, "token")}
        assert service.keys() == set()
    finally:
        MemoryChainer.members = []


def test_chainer_whose_first_backend_stores_nothing_is_unusable(
    install: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    MemoryChainer.members = [null.Keyring(), InMemoryKeyring()]
    try:
        install(MemoryChainer())
        status = SecretStore(allow_insecure=True).status()
        assert (status.usable, status.insecure) == (False, False)
        assert "first backend cannot store" in status.message
    finally:
        MemoryChainer.members = []


def test_secure_backend_status(memory: InMemoryKeyring) -> None:
    assert SecretStore().status() == BackendStatus(
        backend=MEMORY_PATH,
        usable=True,
        insecure=False,
        allowed_insecure=False,
        message=f"Secrets are stored in {MEMORY_PATH}.",
    )


# --- keyring errors and timeouts ------------------------------------------------------------


def test_locked_keyring_is_reported(install: Callable[[KeyringBackend], KeyringBackend]) -> None:
    install(LockedKeyring())
    with pytest.raises(SecretsUnavailable, match="the keyring is locked; unlock it"):
        SecretStore().get("token")


def test_backend_error_text_is_masked_and_not_chained(
    install: Callable[[KeyringBackend], KeyringBackend], caplog: pytest.LogCaptureFixture
) -> None:
    install(LeakyKeyring())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SecretsUnavailable) as info:
        SecretStore().set("token", SECRET)
    assert str(info.value) == (
        "could not store secret 'token': PasswordSetError: cannot store '********' for token"
    )
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert SECRET not in _texts(info.value)
    assert all(
        SECRET not in r.getMessage() and SECRET not in (r.exc_text or "") for r in caplog.records
    )


def test_unanswered_keyring_times_out(blocking: BlockingKeyring) -> None:
    # How soon it gives up: python -m bench.responsiveness.
    store = SecretStore(timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(SecretsUnavailable) as info:
        store.get("token")
    elapsed = time.monotonic() - started
    assert str(info.value) == "the keyring did not answer within 0.2 s (is it locked?)"
    assert elapsed > 0.15  # it waited for an answer first
    # It gave up while the keyring was still asked and had not answered (not released).
    assert blocking.entered.is_set() and not blocking.release.is_set()
    workers = [t for t in threading.enumerate() if t.name == "sophmate-keyring"]
    assert workers and all(t.daemon for t in workers)

    blocking.release.set()
    _wait_for_keyring_threads()
    assert not store.has("token")  # answers again once the keyring does


def test_timed_out_set_never_shows_the_value(
    blocking: BlockingKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SecretsUnavailable) as info:
        SecretStore(timeout_s=0.2).set("token", SECRET)
    assert SECRET not in _texts(info.value)
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert all(SECRET not in t.name for t in threading.enumerate())


def test_stuck_calls_are_capped_then_recover(blocking: BlockingKeyring) -> None:
    store = SecretStore(timeout_s=0.1)
    for _ in range(4):
        with pytest.raises(SecretsUnavailable, match=r"did not answer within 0\.1 s"):
            store.get("token")
    deadline = time.monotonic() + 10
    while blocking.calls < 4:  # each of the four threads has asked the keyring by now
        assert time.monotonic() < deadline, f"only {blocking.calls} calls reached the keyring"
        time.sleep(0.01)
    with pytest.raises(SecretsUnavailable, match="4 earlier calls are still waiting"):
        store.get("token")
    # Failed at once (how fast: python -m bench.responsiveness): the keyring was not
    # asked a fifth time, and no fifth thread waits for it.
    assert blocking.calls == 4 and not blocking.release.is_set()
    assert sum(t.name == "sophmate-keyring" for t in threading.enumerate()) == 4

    blocking.release.set()
    _wait_for_keyring_threads()
    store.set("token", VALUE)
    assert store.get("token") == VALUE


def test_status_reports_a_hung_backend_discovery(
    install: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    BlockingChainer.gate.clear()
    install(BlockingChainer())
    try:
        status = SecretStore(timeout_s=0.2).status()
        assert status == BackendStatus(
            backend="unknown",
            usable=False,
            insecure=False,
            allowed_insecure=False,
            message="the keyring did not answer within 0.2 s (is it locked?)",
        )
    finally:
        BlockingChainer.gate.set()
        _wait_for_keyring_threads()


def test_stuck_keyring_call_does_not_block_interpreter_exit(tmp_path: Path) -> None:
    script = tmp_path / "stuck.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading, keyring
            from keyring.backend import KeyringBackend
            from sophmate_desktop.domain.errors import SecretsUnavailable
            from sophmate_desktop.secrets import SecretStore

            class Hung(KeyringBackend):
                priority = -5
                def get_password(self, service, username):
                    threading.Event().wait()  # never answers
                def set_password(self, service, username, password):
                    threading.Event().wait()

            keyring.set_keyring(Hung())
            try:
                SecretStore(timeout_s=0.2).get("token")
            except SecretsUnavailable as exc:
                print("refused:", exc)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "refused: the keyring did not answer within 0.2 s" in done.stdout
