"""A live engine and a target changed by hand after its preview: the approved write
is not applied, it turns stale (audited) and a new pending write of the same run shows
the file as it is now; approving that one applies it and the run succeeds. The same
for an HTTP request whose connection changed after its preview."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sophmate_desktop.store import audit
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.engine import (
    WRITE_COPY,
    pending_run,
    staging_workflow,
    to_staging,
    wait_until,
    workflow_doc,
)


def test_a_file_changed_after_its_preview_is_planned_again_not_written(
    sqlite_db, sconsole, make_engine, tmp_path
):
    engine = make_engine(sqlite_db, sconsole, watch=False)
    out = staging_workflow(sconsole, engine, tmp_path, "filer", steps=WRITE_COPY)
    target = out / "invoice.txt"
    target.write_text("old line\n")
    [write_id] = pending_run(sconsole, engine, tmp_path, "filer", "invoice")
    run_id = Write.get_by_id(write_id).run_id
    target.write_text("edited by hand\n")  # after the preview, before the approval
    assert sconsole.approve([write_id])[0].ok
    wait_until(lambda: Write.get_by_id(write_id).status == "stale", 30, "the write to go stale")
    assert target.read_text() == "edited by hand\n"  # nothing written over the edit
    wait_until(lambda: Run.get_by_id(run_id).status == "awaiting_approval", 30, "the run")
    [old, new] = list(Write.select().where(Write.run == run_id).order_by(Write.seq))
    assert (old.id, old.status, new.status, new.seq) == (write_id, "stale", "pending", 2)
    assert "the file changed since this preview" in new.comment
    assert f"replaces write {write_id}" in new.comment
    assert "-edited by hand" in new.preview and "+invoice" in new.preview
    stale = AuditEvent.get(AuditEvent.action == "write.stale")
    assert (stale.subject, stale.details["replaced_by"]) == (f"write {write_id}", new.id)

    stale_result, approved = sconsole.approve([write_id, new.id])
    assert (stale_result.ok, stale_result.status, stale_result.exit_code) == (False, "stale", 3)
    assert f"decide write {new.id}, its new preview" in stale_result.message
    assert approved.ok
    assert engine.wait_for_run(run_id, 30, until=("succeeded", "failed")) == "succeeded"
    assert target.read_text() == "invoice"
    assert audit.verify(sqlite_db).ok
    text = sconsole.run_account(run_id).text(width=10_000)
    assert "Write 1 (write_file to" in text, text
    assert "changed since this preview; write 2 replaces it with a fresh preview." in text


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def two_servers() -> Iterator[list[tuple[int, list[str]]]]:
    servers = []
    for _ in range(2):
        handler = type("Recorder", (_Recorder,), {"seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
        thread.start()
        servers.append((server, thread, handler.seen))
    yield [(s.server_address[1], seen) for s, _, seen in servers]
    for server, thread, _ in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_request_whose_connection_changed_is_planned_again_with_the_new_settings(
    sqlite_db, sconsole, make_engine, tmp_path, two_servers
):
    (old_port, old_seen), (new_port, new_seen) = two_servers
    old = {"base_url": f"http://127.0.0.1:{old_port}"}
    sconsole.save_connection("hooks", "http", old, staging_settings=old)
    step = "  - action: http_request\n    connection: hooks\n    path: /hook\n    body: hi\n"
    sconsole.import_workflow(workflow_doc("notify", None, tmp_path / "out", steps=step))
    engine = make_engine(sqlite_db, sconsole, watch=False)
    sample = tmp_path / "in.txt"
    sample.write_text("hello")
    to_staging(sconsole, engine, "notify", sample)
    run_id = engine.run_now("notify", sample)
    assert engine.wait_for_run(run_id, 20) == "awaiting_approval"
    [write] = sconsole.list_inbox()
    new = {"base_url": f"http://127.0.0.1:{new_port}"}
    sconsole.save_connection("hooks", "http", new, staging_settings=new)  # pauses it
    sconsole.resume_workflow("notify", "new endpoint checked")
    assert sconsole.approve([write.id])[0].ok
    wait_until(lambda: Write.get_by_id(write.id).status == "stale", 30, "the write to go stale")
    wait_until(lambda: Run.get_by_id(run_id).status == "awaiting_approval", 30, "the run")
    replacement = Write.get(Write.run == run_id, Write.status == "pending")
    assert "the connection changed since this preview" in replacement.comment
    assert f"127.0.0.1:{new_port}/hook" in replacement.preview
    assert old_seen == []  # never sent with settings its approver did not see
    assert sconsole.approve([replacement.id])[0].ok
    assert engine.wait_for_run(run_id, 20, until=("succeeded", "failed")) == "succeeded"
    assert (old_seen, new_seen) == ([], ["/hook"])
