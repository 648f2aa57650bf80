"""The HTTP checkpoint mirror read back (issue 14 item 7): a real HTTP server on
127.0.0.1 keeps the checkpoints the product POSTs; after the database AND the local
checkpoint file are rolled back to older copies, `audit verify` still sees the newer
head the mirror kept. A mirror that cannot be read is named by verify."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.cli import INVOICE, Cli


class MirrorServer:
    """Stores each POSTed line; a GET answers them, one per line (or `status` if set)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.status = 200
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                mirror.lines.append(body.decode())
                self._answer(b"ok\n")

            def do_GET(self) -> None:
                self._answer("".join(line + "\n" for line in mirror.lines).encode())

            def _answer(self, body: bytes) -> None:
                self.send_response(mirror.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/checkpoints"


@pytest.fixture
def mirror() -> Iterator[MirrorServer]:
    server = MirrorServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    thread.join(10)


def db_path(cli: Cli) -> Path:
    return Path(cli.url.removeprefix("sqlite:///"))


def changes(cli: Cli, times: int, why: str) -> None:
    if not cli("category", "list", "--json").json()[1:]:
        assert cli("workflow", "import", INVOICE).code == 0  # category finance
    for i in range(times):
        assert cli("category", "pause", "finance", "--reason", f"{why} {i}").code == 0
        assert cli("category", "resume", "finance", "--reason", f"{why} {i}").code == 0


def snapshot(path: Path, into: Path) -> None:
    """A consistent copy of the SQLite file (online backup) and of its checkpoint file."""
    into.mkdir()
    source, target = sqlite3.connect(path), sqlite3.connect(into / path.name)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    shutil.copy2(f"{path}.checkpoints", into / f"{path.name}.checkpoints")


def restore(snap: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy2(snap / path.name, path)
    shutil.copy2(snap / f"{path.name}.checkpoints", f"{path}.checkpoints")


def test_a_rollback_of_the_database_and_the_local_checkpoints_is_seen_by_the_mirror(
    cli: Cli, mirror: MirrorServer, tmp_path: Path
) -> None:
    assert cli("audit", "checkpoint-mirror", mirror.url).code == 0
    changes(cli, 2, "before the copy")
    path = db_path(cli)
    snapshot(path, tmp_path / "older")
    changes(cli, 3, "after the copy")
    assert len(mirror.lines) >= 6  # every change was POSTed
    intact = cli("audit", "verify")
    assert intact.code == 0, intact.out

    restore(tmp_path / "older", path)
    verdict = cli("audit", "verify")
    assert verdict.code == 1
    assert "truncated:" in verdict.out and "rolled back" in verdict.out, verdict.out
    assert "6 events are missing from the end" in verdict.out  # 3 pauses + 3 resumes
    assert f"note: the mirror {mirror.url} holds a checkpoint of event" in verdict.out
    assert "local checkpoint file" in verdict.out and "(rolled back or lost" in verdict.out


def test_the_same_rollback_without_the_mirror_is_not_seen(cli: Cli, tmp_path: Path) -> None:
    """The control: what the mirror adds (a rollback of both copies fools the file)."""
    changes(cli, 2, "before the copy")
    path = db_path(cli)
    snapshot(path, tmp_path / "older")
    changes(cli, 3, "after the copy")
    restore(tmp_path / "older", path)
    assert cli("audit", "verify").code == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_mirror_is_named_and_fails_verify(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}/checkpoints"
    assert cli("audit", "checkpoint-mirror", url).code == 0
    changes(cli, 1, "mirror down")  # each POST fails; the changes still commit
    assert cli("category", "list").code == 0
    verdict = cli("audit", "verify")
    assert verdict.code == 1
    assert f"mirror: the checkpoint mirror {url} could not be read" in verdict.out
    assert "cannot be ruled out" in verdict.out
    assert "refused" in verdict.out.lower()


def test_a_mirror_answering_an_error_is_named(cli: Cli, mirror: MirrorServer) -> None:
    assert cli("audit", "checkpoint-mirror", mirror.url).code == 0
    changes(cli, 1, "mirror fine")
    mirror.status = 503
    verdict = cli("audit", "verify", "--json")
    assert verdict.code == 1
    [finding] = verdict.json()["findings"]
    assert finding["kind"] == "mirror" and "HTTP 503" in finding["text"]


def test_a_line_from_the_mirror_that_is_no_checkpoint_is_named(
    cli: Cli, mirror: MirrorServer
) -> None:
    assert cli("audit", "checkpoint-mirror", mirror.url).code == 0
    changes(cli, 1, "mirror fine")
    mirror.lines.append("not json")
    verdict = cli("audit", "verify")
    assert verdict.code == 1
    assert f"from the mirror {mirror.url} is not a checkpoint" in verdict.out


def test_a_folder_mirror_sees_the_same_rollback(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "other-disk"
    assert cli("audit", "checkpoint-mirror", folder).code == 0
    changes(cli, 1, "before the copy")
    path = db_path(cli)
    snapshot(path, tmp_path / "older")
    changes(cli, 1, "after the copy")
    restore(tmp_path / "older", path)
    verdict = cli("audit", "verify")
    assert verdict.code == 1
    assert "2 events are missing from the end" in verdict.out
    assert f"note: the mirror {folder.resolve()}" in verdict.out
