"""The demo is honest: an engine started after it runs nothing again (its files lie
in folders its enabled workflows watch), the window shows the pending writes the
demo said, its words are words (no JSON), and its files go beside its database."""

from __future__ import annotations

from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database


def test_an_engine_started_after_the_demo_runs_nothing_again(tmp_path: Path, memory_keyring):
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'team.sqlite3'}"
    (tmp_path / "elsewhere").mkdir()
    db = open_database(url)
    try:
        console = Console(db, actor="ana")
        console.set_secret("status_api_token", "demo-token")
        lines: list[str] = []
        counts = console.load_demo(lines.append)
        assert console.demo_folder() == tmp_path / "elsewhere" / "demo"
        assert (tmp_path / "elsewhere" / "demo" / "reports" / "outgoing" / "q3-report.pdf").exists()
        assert not any(line.lstrip().startswith(("{", "[")) for line in lines), lines
        assert lines[-1].startswith("made 4 workflows, ")
        runs_before = len(console.list_runs(limit=10_000))

        engine = Engine(db, secrets=console.secrets, tick_s=0.05)
        engine.start()
        try:
            engine.wait_idle(30)
        finally:
            engine.stop()
        assert len(console.list_runs(limit=10_000)) == runs_before
        assert len(console.list_inbox(limit=100_000)) == counts["pending_writes"]
    finally:
        db.close()
