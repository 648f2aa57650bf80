"""`audit verify --export FILE` end to end (issue 14 item 7): an export made by the
command line verifies alone, with no database at all; one edited field, a cut-off end
and a rebuilt chain in the file are each found and named."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest

from sophmate_desktop.store import audit
from tests.support.cli import INVOICE, Cli
from tests.support.inmemory_keyring import InMemoryKeyring


@pytest.fixture
def exported(cli: Cli, tmp_path: Path) -> Path:
    """A trail of real changes (a workflow import, pauses and resumes), exported."""
    assert cli("workflow", "import", INVOICE).code == 0
    for i in range(3):
        assert cli("category", "pause", "finance", "--reason", f"drill {i}").code == 0
        assert cli("category", "resume", "finance", "--reason", f"drill {i}").code == 0
    path = tmp_path / "trail.jsonl"
    done = cli("audit", "export", "--format", "jsonl", "--output", path)
    assert done.code == 0, done.err
    return path


def lines(path: Path) -> tuple[list[dict], list[dict]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in rows if "checkpoint" not in r], [r for r in rows if "checkpoint" in r]


def write(path: Path, events: list[dict], points: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in events + points))


def delete_database(cli: Cli) -> None:
    db = Path(cli.url.removeprefix("sqlite:///"))
    for name in (db, *(Path(f"{db}{s}") for s in ("-wal", "-shm", ".checkpoints"))):
        name.unlink(missing_ok=True)
    assert not db.exists()


def test_an_untouched_export_verifies_alone_even_with_the_database_deleted(
    cli: Cli, exported: Path
) -> None:
    events, points = lines(exported)
    assert len(events) >= 7 and points  # the export carries the checkpoints
    assert points[-1]["checkpoint"]["seq"] == events[-1]["id"]
    first = cli("audit", "verify", "--export", exported)
    assert first.code == 0, first.out
    assert f"audit trail intact: {len(events)} events verified" in first.out
    assert "without the audit key" not in first.out  # signatures and MACs were checked

    delete_database(cli)
    alone = cli("audit", "verify", "--export", exported, "--json")
    assert alone.code == 0, alone.out + alone.err
    report = alone.json()
    assert report["ok"] and report["checked"] == len(events)
    assert report["checkpoint"]["seq"] == events[-1]["id"]
    assert not Path(cli.url.removeprefix("sqlite:///")).exists()  # nothing was created


def test_an_export_verifies_alone_on_a_machine_without_the_key(cli: Cli, exported: Path) -> None:
    delete_database(cli)
    keyring.set_keyring(InMemoryKeyring())  # an auditor's empty keyring (conftest restores)
    done = cli("audit", "verify", "--export", exported)
    assert done.code == 0, done.out
    assert "no audit key" in done.out and "without the audit key" in done.out


def test_one_edited_field_is_named_by_its_event(cli: Cli, exported: Path) -> None:
    events, points = lines(exported)
    target = events[3]
    target["reason"] = "nothing happened"
    write(exported, events, points)
    delete_database(cli)
    done = cli("audit", "verify", "--export", exported)
    assert done.code == 1
    assert f"edited: event {target['id']}: its content does not match its hash" in done.out


def test_the_newest_lines_cut_off_are_found_by_the_checkpoint(cli: Cli, exported: Path) -> None:
    events, points = lines(exported)
    write(exported, events[:-2], points)  # the last two events gone, the checkpoints kept
    done = cli("audit", "verify", "--export", exported)
    assert done.code == 1
    assert "truncated:" in done.out
    assert "2 events are missing from the end" in done.out
    assert f"recorded event {events[-1]['id']}" in done.out


def test_a_chain_rebuilt_in_the_file_is_found(cli: Cli, exported: Path) -> None:
    """The forger edits event 3 and recomputes every later hash (he knows sha256, not
    the key): the chain links, but the checkpoints and the MACs disagree."""
    events, points = lines(exported)
    events[2]["reason"] = "rewritten"
    prev = events[2]["prev_hash"]
    for ev in events[2:]:
        ev["prev_hash"] = prev
        fields = tuple(
            ev[k]
            for k in (
                "id",
                "at",
                "actor",
                "action",
                "subject",
                "category",
                "workflow",
                "run",
                "reason",
            )
        )
        ev["hash"] = prev = audit.event_hash(prev, fields, audit.canonical_details(ev["details"]))
    write(exported, events, points)
    done = cli("audit", "verify", "--export", exported)
    assert done.code == 1
    assert "recomputed:" in done.out and "forged:" in done.out, done.out


def test_a_file_that_is_no_export_exits_2_naming_the_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"checkpoint": {"seq": 1}}\nnot json\n')
    done = cli("audit", "verify", "--export", bad)
    assert done.code == 2 and "line 1" in done.err
    done = cli("audit", "verify", "--export", tmp_path / "missing.jsonl")
    assert done.code == 2 and "cannot read" in done.err
