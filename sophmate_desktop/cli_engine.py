"""Commands that run the engine: `engine`, `workflow run` and `demo`."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import EventKind

if TYPE_CHECKING:
    from sophmate_desktop.console import Console
    from sophmate_desktop.domain.events import Event

# The engine, the demo and the store are imported by the commands that use them: the
# parser imports this module, and every CLI call builds the parser.

log = logging.getLogger("sophmate_desktop.engine")


def data_dir_for(console: Console) -> Path:
    from sophmate_desktop.store.database import default_data_dir

    path = default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _say_problems(event: Event) -> None:
    """On stderr: the engine cannot write the database (it stopped applying), or can again."""
    if event.kind == EventKind.DATABASE_UNWRITABLE:
        fmt.err("problem", event.data.get("problem", "the engine cannot write the database"))
    elif event.kind == EventKind.DATABASE_WRITABLE:
        fmt.err("resolved", "the engine can write the database again; applying resumes")


def engine_log_handler(path: Path) -> logging.Handler:
    """The engine's log file: every record's secrets masked (in all their forms)."""
    from sophmate_desktop.secrets import MaskingFilter

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    return handler


def cmd_engine(c: Console, a: argparse.Namespace) -> str:
    log_path = Path(a.log_file) if a.log_file else data_dir_for(c) / "engine.log"
    handler = engine_log_handler(log_path)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    from sophmate_desktop.engine.binding import EngineIdentity, engine_lease
    from sophmate_desktop.engine.service import Engine

    if a.appliers < 1 or a.workers < 1:
        raise BadInput("--workers and --appliers take a whole number of at least 1")
    identity = EngineIdentity.of(a.engine_name, a.pool or ())
    lease_s = engine_lease(a.lease)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    engine = Engine(
        c.db,
        secrets=c.secrets,
        workers=a.workers,
        appliers=a.appliers,
        identity=identity,
        lease_s=lease_s,
    )
    c.events.subscribe(engine.wake)
    engine.events.subscribe(_say_problems)
    engine.start()
    log.info("engine started on %s (pid host %s)", getattr(c.db, "url_display", "?"), engine.host)
    pools = f" (pools {', '.join(sorted(identity.pools))})" if identity.pools else ""
    print(
        f"engine running on {getattr(c.db, 'url_display', '?')} as {identity.name}{pools}; "
        f"log: {log_path}; "
        "stop with Ctrl+C or SIGTERM",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        engine.stop()
        log.info("engine stopped")
        root.removeHandler(handler)
        handler.close()
    return "engine stopped"


def cmd_workflow_run(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    from sophmate_desktop.domain.roles import Role
    from sophmate_desktop.engine.service import Engine

    c.require_role(Role.OPERATOR, "running workflows")
    engine = Engine(c.db, secrets=c.secrets, watch=False, workers=1)
    c.events.subscribe(engine.wake)
    engine.start()
    try:
        mode = "dry_run" if a.dry_run else None
        run_id = engine.run_now(a.name, Path(a.file) if a.file else None, actor=c.actor, mode=mode)
        status = engine.wait_for_run(run_id, timeout=a.timeout)
        engine.wait_idle(a.timeout)
        status = c.get_run(run_id).status
    finally:
        engine.stop()
    run = c.get_run(run_id)
    if status == "held":
        why = held_reason(c, a.name)
        if a.json:
            return fmt.to_json({"run": run.to_dict(), "held": why}), 3
        return f"held: run {run_id} of {a.name} waits: {why}", 3
    code = 1 if status == "failed" else 0
    if a.json:
        writes = [w.to_dict() for w in c.run_writes(run_id)]
        return fmt.to_json({"run": run.to_dict(), "writes": writes}), code
    lines = [
        f"run {run_id} of {a.name}: {status} ({run.mode}, {run.writes} writes, "
        f"{run.affected_records} affected records)"
    ]
    if run.error:
        lines.append(f"error: {run.error}")
    for w in c.run_writes(run_id):
        lines.append(f"  write {w.id} [{w.status}] {w.kind} -> {w.target}")
    return "\n".join(lines), code


def held_reason(c: Console, name: str) -> str:
    """Why a run of `name` is held: its workflow's pause, or the switch covering it."""
    waits = c.waits_for_resume(name)
    if waits:
        return waits
    from sophmate_desktop.domain import policy

    wf = c.get_workflow(name)
    sw = c.blocking_switch(wf.category, ())
    return policy.switch_refusal_text(sw) if sw else "a kill switch covering it is paused"


def cmd_demo(c: Console, a: argparse.Namespace) -> str:
    from sophmate_desktop.console import Console
    from sophmate_desktop.console.demo import load_demo

    # beside the database it fills (a SQLite file), wherever that is
    root = Path(a.folder) if a.folder else c.demo_folder()
    lead = Console(c.db, actor="demo-lead", secrets=c.secrets)
    approver = Console(c.db, actor="demo-approver", secrets=c.secrets)
    if getattr(a, "created", False):
        print(f"created a new database at {getattr(c.db, 'url_display', '?')}", flush=True)
    counts = load_demo(lead, approver, root, progress=lambda m: print(m, flush=True))
    return "demo data ready: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())


def add_workflow_run(group: Any, leaf: Any) -> None:
    text = "run a workflow now, on a file if given"
    p = leaf(group, "run", cmd_workflow_run, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--file", metavar="PATH", help="the trigger file")
    p.add_argument(
        "--dry-run", action="store_true", help="plan only, whatever the workflow's stage"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="give up waiting after S seconds (default 120)",
    )


ENGINE_COLUMNS = (
    fmt.col("state"),
    fmt.col("name", width=24),
    fmt.col("pools", width=24),
    fmt.col("host", width=24),
    fmt.Column("pid", lambda r: r.pid),
    fmt.Column("silent", lambda r: f"{r.silent_s:g} s"),
    fmt.Column("runs", lambda r: r.runs_held),
    fmt.Column("writes", lambda r: r.writes_held),
    fmt.Column("started", lambda r: r.started_at.isoformat(timespec="seconds")),
    fmt.col("id"),
)


def cmd_engines(c: Console, a: argparse.Namespace) -> str:
    rows = c.engines()
    if a.json:
        return fmt.rows_json(rows)
    return fmt.table_or(rows, ENGINE_COLUMNS, "No engine has run on this database yet.")


def add_commands(sub: Any, leaf: Any) -> None:
    text = "the engines sharing this database: up, down or stopped, and what each holds"
    leaf(sub, "engines", cmd_engines, text, json_flag=True)
    p = leaf(sub, "engine", cmd_engine, "run watchers and runner headless until SIGTERM")
    p.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")
    p.add_argument(
        "--appliers",
        type=int,
        default=2,
        help="applier threads: writes to different targets applied in parallel (default 2)",
    )
    p.add_argument(
        "--log-file", metavar="FILE", help="log here (default: engine.log in the data folder)"
    )
    p.add_argument(
        "--engine-name",
        metavar="NAME",
        help="this engine's name, which a workflow's runs_on may name "
        "(default: $SOPHMATE_ENGINE_NAME, else the host's name)",
    )
    p.add_argument(
        "--pool",
        action="append",
        metavar="NAME",
        help="a pool this engine belongs to (repeat for several; default: "
        "$SOPHMATE_ENGINE_POOLS, comma-separated)",
    )
    p.add_argument(
        "--lease",
        type=float,
        metavar="S",
        help="after S seconds without a heartbeat from this engine, an engine of its "
        "pool on another host takes its work over (default: $SOPHMATE_ENGINE_LEASE_S, "
        "else 30; at least 3). The engine heartbeats every min(10, S/3) seconds",
    )
    p = leaf(sub, "demo", cmd_demo, "fill the database with example data, run by the engine")
    p.add_argument(
        "--folder",
        metavar="DIR",
        help="where the sample files go (default: demo/ in the data folder)",
    )
