"""The engine end to end on real folders: one run per file version, nothing lost
while stopped or on inotify overflow, held runs, failure notices and auto-pause."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from peewee import fn

from sophmate_desktop.store.models import AuditEvent, Notification, Run, Write
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.groups import INOTIFY_QUEUE


def run_count(name: str | None = None) -> int:
    return Run.select().where(Run.trigger_kind != "manual").count()


def doubled_paths() -> list:
    return list(
        Run.select(Run.trigger_path, fn.COUNT(Run.id))
        .where(Run.trigger_path.is_null(False), Run.trigger_kind != "manual")
        .group_by(Run.trigger_path)
        .having(fn.COUNT(Run.id) > 1)
        .tuples()
    )


def dry_run_workflow(console, watched: Path, out: Path, name: str = "intake", **kw) -> None:
    console.import_workflow(workflow_doc(name, watched, out, **kw))
    console.enable_workflow(name)


def test_rename_into_folder_gives_one_run_with_full_content(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    console = sconsole
    dry_run_workflow(console, watched_folder, tmp_path / "out", settle_ms=100)
    engine = make_engine(sqlite_db, console)
    content = "line of text\n" * 5000
    outside = tmp_path / "elsewhere.txt"
    outside.write_text(content)
    os.rename(outside, watched_folder / "moved.txt")
    wait_until(lambda: run_count() >= 1, 20, "a run")
    engine.wait_idle(30)
    [run] = list(Run.select())
    assert run.trigger_path == str(watched_folder / "moved.txt")
    assert run.trigger_size == len(content.encode())
    assert run.status == "succeeded"
    [write] = list(Write.select().where(Write.run == run.id))
    assert write.status == "planned"
    assert write.payload["content"] == content


def test_slow_writer_gives_one_run_with_the_final_size(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    console = sconsole
    dry_run_workflow(console, watched_folder, tmp_path / "out", settle_ms=500)
    engine = make_engine(sqlite_db, console)
    chunk = b"x" * 1000 + b"\n"
    target = watched_folder / "slow.txt"
    with open(target, "wb") as fh:
        for _ in range(10):
            fh.write(chunk)
            fh.flush()
            threading.Event().wait(0.2)  # the writer's pace, not a wait for a result
    wait_until(lambda: run_count() >= 1, 20, "a run")
    engine.wait_idle(30)
    runs = list(Run.select())
    assert len(runs) == 1, [(r.trigger_size, r.status) for r in runs]
    assert runs[0].trigger_size == 10 * len(chunk)
    [write] = list(Write.select().where(Write.run == runs[0].id))
    assert len(write.payload["content"].encode()) == 10 * len(chunk)


def test_files_created_while_stopped_are_processed_once(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    console = sconsole
    dry_run_workflow(console, watched_folder, tmp_path / "out")
    first = make_engine(sqlite_db, console)
    first.wait_idle(10)
    first.stop()
    for i in range(20):
        (watched_folder / f"f{i:02}.txt").write_text(f"file {i}")
    second = make_engine(sqlite_db, console)
    wait_until(lambda: run_count() == 20, 30, "20 runs")
    second.wait_idle(30)
    second.stop()
    third = make_engine(sqlite_db, console)
    third.wait_idle(30)
    # the rescan at start has read the folder and found every file in the ledger
    wait_until(lambda: third.triggers.idle(), 10, "the rescan")
    third.wait_idle(30)
    assert run_count() == 20
    assert doubled_paths() == []
    assert Run.select().where(Run.status != "succeeded").count() == 0


def test_paused_category_holds_runs_and_replay_runs_them(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    console = sconsole
    dry_run_workflow(console, watched_folder, tmp_path / "out")
    engine = make_engine(sqlite_db, console)
    console.pause_category("finance", "month end")
    (watched_folder / "held.txt").write_text("wait for me")
    [held] = wait_until(lambda: console.list_held(), 20, "a held run")
    assert engine.wait_for_run(held.id, 10) == "held"
    console.resume_category("finance", "done", held="replay")
    assert engine.wait_for_run(held.id, 20, until=("succeeded", "failed")) == "succeeded"
    assert Run.select().count() == 1


def test_final_failure_notifies_once_and_two_failures_auto_pause(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    console = sconsole
    dry_run_workflow(
        console,
        watched_folder,
        tmp_path / "out",
        read="json",
        retry=0,
        pause=2,
        patterns=("*.json",),
    )
    engine = make_engine(sqlite_db, console)
    (watched_folder / "bad1.json").write_text("{not json")
    [r1] = wait_until(lambda: list(Run.select()), 20, "the first run")
    assert engine.wait_for_run(r1.id, 20) == "failed"
    notes = list(Notification.select().where(Notification.kind == "run_failed"))
    assert len(notes) == 1
    assert console.get_workflow("intake").paused is False
    (watched_folder / "bad2.json").write_text("[1, 2")
    wait_until(lambda: Run.select().count() == 2, 20, "the second run")
    r2 = Run.select().order_by(Run.id.desc()).get()
    assert engine.wait_for_run(r2.id, 20) == "failed"
    assert console.get_workflow("intake").paused is True
    paused = AuditEvent.select().where(AuditEvent.action == "workflow.auto_paused")
    assert paused.count() == 1
    assert paused.get().workflow == "intake"


def test_staging_writes_wait_in_the_inbox_and_apply_after_approval(
    make_console, db, make_engine, watched_folder, tmp_path
):
    """Over SQLite and PostgreSQL: a staging run waits for approval, then writes."""
    console = make_console()
    out = tmp_path / "out"
    console.import_workflow(workflow_doc("stage-me", watched_folder, out))
    engine = make_engine(db, console)
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    to_staging(console, engine, "stage-me", sample)
    (watched_folder / "a.txt").write_text("alpha")
    [inbox] = wait_until(lambda: console.list_inbox(), 20, "a pending write")
    # PostgreSQL is shared: the four-eyes rule wants someone else to approve
    [decided] = make_console("bo").approve([inbox.id])
    assert decided.ok, decided.message
    wait_until(lambda: (out / "a.txt").exists(), 20, "the write")
    assert (out / "a.txt").read_text() == "alpha"
    run = Run.get_by_id(inbox.run_id)
    assert engine.wait_for_run(run.id, 20, until=("succeeded", "failed")) == "succeeded"


def test_dot_dot_and_symlink_escapes_write_nothing_outside(
    sqlite_db, sconsole, make_engine, tmp_path
):
    console = sconsole
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "link").symlink_to(outside)
    engine = make_engine(sqlite_db, console, watch=False)
    sample = tmp_path / "in.txt"
    sample.write_text("payload")
    targets = {
        "dotdot": "{{ output.path }}/../outside/escape.txt",
        "symlink": "{{ output.path }}/link/escape.txt",
    }
    for name, to in targets.items():
        step = f'  - action: write_file\n    to: "{to}"\n    content: "x"\n'
        console.import_workflow(workflow_doc(name, None, out, steps=step))
        run_id = engine.run_now(name, sample, mode="dry_run")
        assert engine.wait_for_run(run_id, 20) == "failed"
        assert "output scope" in console.get_run(run_id).error
    # a folder swapped for a symlink after planning is caught when applying
    step = '  - action: write_file\n    to: "{{ output.path }}/sub/late.txt"\n    content: "x"\n'
    console.import_workflow(workflow_doc("late", None, out, steps=step))
    (out / "sub").mkdir()
    to_staging(console, engine, "late", sample)
    run_id = engine.run_now("late", sample)
    assert engine.wait_for_run(run_id, 20) == "awaiting_approval"
    (out / "sub").rmdir()
    (out / "sub").symlink_to(outside)
    [write] = console.list_inbox()
    console.approve([write.id])
    assert engine.wait_for_run(run_id, 20, until=("failed", "succeeded")) == "failed"
    late = console.get_write(write.id)
    assert late.status == "failed"
    assert "changed since it was planned" in late.error or "output scope" in late.error
    assert list(outside.iterdir()) == []


SECRET = "s3cr3t-VALUE-123456"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((self.path, self.headers.get("Authorization", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[int, list]]:
    handler = type("Recorder", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    yield server.server_address[1], handler.seen
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_secret_in_a_header_is_sent_but_never_stored_or_logged(
    sqlite_db, sqlite_url, sconsole, make_engine, tmp_path, http_server, caplog
):
    caplog.set_level(logging.DEBUG)
    port, seen = http_server
    console = sconsole
    console.set_secret("api_token", SECRET)
    base = {"base_url": f"http://127.0.0.1:{port}"}
    console.save_connection("hooks", "http", base, staging_settings=base)
    step = """\
  - action: http_request
    connection: hooks
    method: POST
    path: /hook
    headers: {Authorization: "Bearer {{ secret.api_token }}"}
    json: {file: "{{ file.name }}"}
"""
    console.import_workflow(workflow_doc("notify-api", None, tmp_path / "out", steps=step))
    engine = make_engine(sqlite_db, console, watch=False)
    sample = tmp_path / "in.txt"
    sample.write_text("hello")
    to_staging(console, engine, "notify-api", sample)
    run_id = engine.run_now("notify-api", sample)
    assert engine.wait_for_run(run_id, 20) == "awaiting_approval", console.get_run(run_id).error
    [write] = console.list_inbox()
    assert "${secret:api_token}" in console.get_write(write.id).preview
    console.approve([write.id])
    status = engine.wait_for_run(run_id, 20, until=("succeeded", "failed"))
    assert status == "succeeded", console.get_write(write.id).error
    assert seen == [("/hook", f"Bearer {SECRET}", b'{"file": "in.txt"}')]
    engine.stop()
    run = console.get_run(run_id)
    assert SECRET not in repr(run.diagnostics) and SECRET not in repr(console.get_write(write.id))
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    for path in (db_file, Path(f"{db_file}-wal")):
        if path.exists():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in caplog.text


def test_email_is_delivered_to_a_local_smtp_server(sqlite_db, sconsole, make_engine, tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        console = sconsole
        smtp = {"host": "127.0.0.1", "port": port, "from": "robot@example.test"}
        console.save_connection("mail", "smtp", smtp, staging_settings=smtp)
        step = """\
  - action: send_email
    connection: mail
    to: ["ana@example.test"]
    subject: "Report {{ file.name }}"
    body: "{{ input }}"
"""
        console.import_workflow(workflow_doc("mailer", None, tmp_path / "out", steps=step))
        engine = make_engine(sqlite_db, console, watch=False)
        sample = tmp_path / "report.txt"
        sample.write_text("All good.")
        to_staging(console, engine, "mailer", sample)
        run_id = engine.run_now("mailer", sample)
        assert engine.wait_for_run(run_id, 20) == "awaiting_approval", console.get_run(run_id).error
        [write] = console.list_inbox()
        console.approve([write.id])
        status = engine.wait_for_run(run_id, 20, until=("succeeded", "failed"))
        assert status == "succeeded", console.get_write(write.id).error
        wait_until(lambda: received, 10, "the message")
        [msg] = received
        assert msg["Subject"] == "Report report.txt"
        assert msg["To"] == "ana@example.test"
        assert msg.get_payload().strip() == "All good."
    finally:
        controller.stop()


def create_files(folder: Path, n: int) -> None:
    for i in range(n):
        (folder / f"bulk-{i:05}.txt").write_text(str(i))


def create_files_elsewhere(folder: Path, n: int) -> None:
    """The same files, written by another process: at full speed, whatever this
    process's threads (the engine's) are doing."""
    script = (
        "import pathlib, sys\n"
        "folder = pathlib.Path(sys.argv[1])\n"
        "for i in range(int(sys.argv[2])):\n"
        "    (folder / f'bulk-{i:05}.txt').write_text(str(i))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(folder), str(n)], check=True, timeout=60)


@pytest.mark.xdist_group(INOTIFY_QUEUE)
@pytest.mark.slow
def test_5000_files_at_once_give_5000_runs(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    dry_run_workflow(sconsole, watched_folder, tmp_path / "out", settle_ms=100)
    engine = make_engine(sqlite_db, sconsole, workers=4)
    create_files(watched_folder, 5000)
    wait_until(lambda: run_count() >= 5000, 120, "5000 runs")
    engine.wait_idle(300)
    assert run_count() == 5000
    assert doubled_paths() == []
    assert Run.select().where(Run.status != "succeeded").count() == 0


@pytest.mark.xdist_group(INOTIFY_QUEUE)
@pytest.mark.slow
def test_inotify_overflow_loses_and_doubles_nothing(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path, caplog
):
    knob = Path("/proc/sys/fs/inotify/max_queued_events")
    try:
        old = knob.read_text()
        knob.write_text("64")
    except OSError as exc:
        pytest.skip(f"cannot lower {knob} (needs root): {exc}")
    try:
        # settle_ms 0 would see each file empty at "created", then again once written
        dry_run_workflow(sconsole, watched_folder, tmp_path / "out", settle_ms=100)
        engine = make_engine(sqlite_db, sconsole, workers=4)
        # written by another process, so that the kernel's queue overflows however
        # quickly this process reads it
        create_files_elsewhere(watched_folder, 2000)
        wait_until(lambda: run_count() >= 2000, 120, "2000 runs")
        engine.wait_idle(120)
    finally:
        knob.write_text(old)
    assert "overflow" in caplog.text.lower()  # the kernel really dropped events
    assert doubled_paths() == []
    assert run_count() == 2000
    assert Run.select().where(Run.status != "succeeded").count() == 0
