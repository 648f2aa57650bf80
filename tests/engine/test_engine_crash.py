"""kill -9 while a command applies: file writes finish exactly once after recovery,
commands never run twice, the cut-short command waits in the inbox as interrupted."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from sophmate_desktop.store.models import Write
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.engine_processes import engine_process

COUNT = "import sys, time; open(sys.argv[1], 'a').write('ran\\n'); time.sleep(5)"

REPO = Path(__file__).resolve().parents[2]


def steps(counters: Path) -> str:
    argv = [sys.executable, "-c", COUNT, f"{counters}/{{{{ file.stem }}}}.count"]
    return f"""\
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.stem }}}}.txt"
    content: "content of {{{{ file.stem }}}}"
  - action: run_command
    argv: {json.dumps(argv)}
    timeout_s: 60
"""


def test_kill_9_while_applying_then_recover(sqlite_db, sqlite_url, sconsole, make_engine, tmp_path):
    out, counters, inputs = tmp_path / "out", tmp_path / "counters", tmp_path / "in"
    for d in (out, counters, inputs):
        d.mkdir()
    sconsole.import_workflow(workflow_doc("crashy", None, out, steps=steps(counters)))
    local = make_engine(sqlite_db, sconsole, watch=False)
    sample = inputs / "sample.txt"
    sample.write_text("sample")
    to_staging(sconsole, local, "crashy", sample)
    assert list(counters.iterdir()) == []  # the dry run only planned; nothing ran
    for stem in ("one", "two"):
        (inputs / f"{stem}.txt").write_text(stem)
        run_id = local.run_now("crashy", inputs / f"{stem}.txt")
        assert local.wait_for_run(run_id, 30) == "awaiting_approval"
    local.stop()
    pending = [w.id for w in sconsole.list_inbox()]
    assert len(pending) == 4
    assert all(r.ok for r in sconsole.approve(pending))

    first = engine_process(sqlite_url, tmp_path, 1)
    try:
        applying = wait_until(
            lambda: (
                Write.select()
                .where(Write.status == "applying", Write.kind == "run_command")
                .first()
            ),
            30,
            "a command write applying",
        )
        wait_until(lambda: list(counters.glob("*.count")), 10, "the command to start")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL

    second = engine_process(sqlite_url, tmp_path, 2)
    try:
        wait_until(
            lambda: not Write.select().where(Write.status.in_(["approved", "applying"])).exists(),
            60,
            "every approved write to be decided",
        )
        cut = Write.get_by_id(applying.id)
        assert cut.status == "interrupted"
        assert cut.id in {w.id for w in sconsole.list_inbox()}
        for stem in ("one", "two"):  # the files are written once
            assert (out / f"{stem}.txt").read_text() == f"content of {stem}"
        for count in counters.glob("*.count"):  # no command ran twice
            assert count.read_text() == "ran\n", count
        writes = list(Write.select().where(Write.id.in_(pending)))
        assert sorted(w.status for w in writes if w.kind == "write_file") == ["applied"] * 2
        # two appliers may have started both commands when the engine was killed: each
        # cut one is interrupted, one not started yet is applied by the second engine
        commands = [w for w in writes if w.kind == "run_command"]
        assert {w.status for w in commands} <= {"applied", "interrupted"}
        assert len(list(counters.glob("*.count"))) >= sum(w.status == "applied" for w in commands)
        assert sorted(p.name for p in out.iterdir()) == ["one.txt", "two.txt"]
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(20)
        finally:
            if second.poll() is None:
                second.kill()
    assert second.returncode == 0, second.stdout.read().decode(errors="replace")
