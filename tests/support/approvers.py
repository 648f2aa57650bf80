"""Several people approving one write at the same moment, each in a process of their
own: the processes start, wait at a starting line, then approve together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

APPROVER = textwrap.dedent("""
    import os, sys, time, json
    from sophmate_desktop.store.database import open_database
    from sophmate_desktop.console import Console
    url, actor, write_id, go = sys.argv[1:5]
    db = open_database(url)
    console = Console(db, actor=actor)
    open(go + "." + actor + ".ready", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    [r] = console.approve([int(write_id)], comment=actor)
    print(json.dumps({"ok": r.ok, "status": r.status, "message": r.message}))
""")


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def approve_at_once(
    db_url: str, write_id: int, folder: Path, actors: Sequence[str] = ("ana", "bob")
) -> list[dict]:
    """Each actor approves `write_id` from its own process at once; their results
    ({"ok", "status", "message"}), in the order of `actors`."""
    go = folder / "go"
    return _together(APPROVER, actors, go, lambda a: [db_url, a, str(write_id), str(go)], 60)


def _together(
    script: str, actors: Sequence[str], go: Path, argv_of, timeout: float
) -> list[dict]:
    """One process per actor running `script`, all let go at once once each is ready;
    the last line each printed, parsed as JSON, in the order of `actors`."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv_of(actor)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for actor in actors
    ]
    _wait_for(lambda: all(Path(f"{go}.{a}.ready").exists() for a in actors))
    go.write_text("go")
    outputs = [p.communicate(timeout=timeout) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


BULK_APPROVER = textwrap.dedent("""
    import json, os, random, sys, time
    from sophmate_desktop.store.database import open_database
    from sophmate_desktop.console import Console
    url, actor, ids_text, per_call, go = sys.argv[1:6]
    ids = [int(i) for i in ids_text.split(",")]
    random.Random(actor).shuffle(ids)
    db = open_database(url)
    console = Console(db, actor=actor)
    open(go + "." + actor + ".ready", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    decided, errors = [], []
    for start in range(0, len(ids), int(per_call)):
        try:
            for r in console.approve(ids[start : start + int(per_call)]):
                if r.ok:
                    decided.append(r.write_id)
        except Exception as exc:  # what the person would see: counted, not hidden
            errors.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"decided": decided, "errors": errors}))
""")


def approve_in_bulk_at_once(
    db_url: str, ids: Sequence[int], folder: Path, actors: Sequence[str], per_call: int = 100
) -> list[dict]:
    """Each actor approves all of `ids`, shuffled its own way, `per_call` ids per call,
    from its own process, all starting together: their {"decided", "errors"}."""
    go = folder / "go-bulk"
    id_text = ",".join(str(i) for i in ids)

    def argv(actor: str) -> list[str]:
        return [db_url, actor, id_text, str(per_call), str(go)]

    return _together(BULK_APPROVER, actors, go, argv, 300)
