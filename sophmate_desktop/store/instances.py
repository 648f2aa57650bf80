"""Engine instances and the command processes they started.

Every engine start is a row (a random id, host, pid and the pid's start time from
/proc/PID/stat, and its lease); its claims read `name:pid#id`. An instance is dead when
it stopped, when its pid is gone, when the pid now belongs to a process started at
another time (a reused pid), or, for another host, when its heartbeat is older than
the lease it declared. Claims in the old `host:pid` form are judged by the pid alone.

The host is the machine's name unless $SOPHMATE_ENGINE_HOST names it: engines that
share a machine's name without sharing its processes (containers, two desktops
simulated on one machine) must be judged by their lease, not by a pid that is not
theirs to look up.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable

from peewee import Database, fn

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store.models import AuditEvent, EngineInstance, EngineProcess, Run, Write
from sophmate_desktop.store.rows import EngineRow

LEASE_S = 30.0  # an engine of another host silent this long is dead (its work is taken over)
MIN_LEASE_S = 3.0  # a shorter lease would call an engine dead for one slow heartbeat
HOST_ENV = "SOPHMATE_ENGINE_HOST"
KEEP_STOPPED = dt.timedelta(days=7)


def new_instance_id() -> str:
    return uuid.uuid4().hex[:16]


def this_host() -> str:
    """The host an engine says it runs on: $SOPHMATE_ENGINE_HOST, else the machine's name."""
    return os.environ.get(HOST_ENV, "").strip() or socket.gethostname()


def claim_token(instance_id: str, name: str | None = None) -> str:
    return f"{name or this_host()}:{os.getpid()}#{instance_id}"


def lease_of(row: EngineInstance) -> float:
    """How long the instance may be silent before it is dead (rows from before leases
    were declared: the default)."""
    return float(row.lease_s) if row.lease_s else LEASE_S


def pid_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The name (field 2) may hold spaces and parentheses: fields follow the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22, starttime
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def register(
    db: Database,
    instance_id: str,
    name: str | None = None,
    pools: str | None = None,
    lease_s: float = LEASE_S,
) -> None:
    now = utcnow()
    pid = os.getpid()
    row = dict(
        host=this_host(),
        pid=pid,
        pid_start=pid_start_time(pid),
        started_at=now,
        heartbeat_at=now,
        stopped_at=None,
        name=name,
        pools=pools or None,
        lease_s=lease_s,
    )
    with db.atomic():
        if not EngineInstance.update(**row).where(EngineInstance.id == instance_id).execute():
            EngineInstance.insert(id=instance_id, **row).execute()


def heartbeat(db: Database, instance_id: str) -> None:
    EngineInstance.update(heartbeat_at=utcnow()).where(EngineInstance.id == instance_id).execute()


def mark_stopped(db: Database, instance_id: str) -> None:
    EngineInstance.update(stopped_at=utcnow()).where(EngineInstance.id == instance_id).execute()


def is_dead(row: EngineInstance, me: str | None = None, now: dt.datetime | None = None) -> bool:
    if row.id == me:
        return False
    if row.stopped_at is not None:
        return True
    if row.host != this_host():
        age = ((now or utcnow()) - row.heartbeat_at).total_seconds()
        return age > lease_of(row)
    if not pid_alive(row.pid):
        return True
    start = pid_start_time(row.pid)
    return row.pid_start is not None and start is not None and start != row.pid_start


def dead_instances(db: Database, me: str | None = None) -> set[str]:
    """The ids of instances that are dead (stopped ones included)."""
    now = utcnow()
    return {row.id for row in EngineInstance.select() if is_dead(row, me, now)}


def judge(db: Database, me: str | None) -> Callable[[str | None], bool]:
    """`dead(claimed_by)`: whether the engine that made a claim is gone."""
    dead = dead_instances(db, me)
    known = {row.id for row in EngineInstance.select(EngineInstance.id)}
    hostname = this_host()

    def is_gone(claimer: str | None) -> bool:
        if not claimer:
            return True
        where, _, key = claimer.partition("#")
        if key and key in known:
            return key in dead
        name, _, pid = where.partition(":")
        if name != hostname or not pid.isdigit() or int(pid) == os.getpid():
            return False
        return not pid_alive(int(pid))

    return is_gone


def next_lease_end(db: Database, me: str | None = None) -> float | None:
    """Seconds until the soonest lease of a living engine of another host ends, None
    when no lease is running: when to look again for work to take over, rather than at
    this engine's next heartbeat. Leases that ended already are not counted (that look
    was made when they ended, or at this engine's start)."""
    now = utcnow()
    here = this_host()
    ends = [
        left
        for row in EngineInstance.select().where(EngineInstance.stopped_at.is_null())
        if row.id != me
        and row.host != here
        and (left := (row.heartbeat_at - now).total_seconds() + lease_of(row)) > 0
    ]
    return min(ends) if ends else None


def prune(db: Database, dead: set[str]) -> int:
    """Rows of dead instances that hold no process, run or write any more, stopped a
    while ago or never stopped (crashed: recovery took their work). One that still
    holds work no living engine serves (bound to its name) is kept: without its row
    its claims could not be judged, and its engine's next start could not take them."""
    busy = {p.instance for p in EngineProcess.select(EngineProcess.instance).distinct()}
    busy |= set(_holders())
    old = utcnow() - KEEP_STOPPED
    gone = [
        row.id
        for row in EngineInstance.select().where(EngineInstance.id.in_(list(dead) or [""]))
        if row.id not in busy and (row.stopped_at is None or row.stopped_at < old)
    ]
    if not gone:
        return 0
    return EngineInstance.delete().where(EngineInstance.id.in_(gone)).execute()


# Command processes ----------------------------------------------------------


def record_process(
    db: Database, instance_id: str, write_id: int | None, pid: int, pgid: int
) -> int:
    return EngineProcess.insert(
        instance=instance_id,
        write=write_id,
        pid=pid,
        pgid=pgid,
        pid_start=pid_start_time(pid),
        started_at=utcnow(),
    ).execute()


def forget_processes(db: Database, ids: list[int]) -> None:
    if ids:
        EngineProcess.delete().where(EngineProcess.id.in_(ids)).execute()


def processes_of(db: Database, instances: set[str]) -> list[EngineProcess]:
    if not instances:
        return []
    return list(
        EngineProcess.select()
        .where(EngineProcess.instance.in_(list(instances)))
        .order_by(EngineProcess.id)
    )


def _holders() -> dict[str, list[int]]:
    """By instance id: [runs running, writes applying] its claims hold."""
    held: dict[str, list[int]] = {}
    for model, status, slot in ((Run, "running", 0), (Write, "applying", 1)):
        query = (
            model.select(model.claimed_by, fn.COUNT(model.id))
            .where(model.status == status)
            .group_by(model.claimed_by)
            .tuples()
        )
        for claimer, count in query:
            key = (claimer or "").partition("#")[2]
            if key:
                held.setdefault(key, [0, 0])[slot] += count
    return held


def instance_rows(db: Database) -> list[EngineRow]:
    """Every known engine instance, newest first, with what it holds now."""
    held = _holders()
    now = utcnow()
    rows = []
    for row in EngineInstance.select().order_by(EngineInstance.started_at.desc()):
        state = "stopped" if row.stopped_at else ("down" if is_dead(row, None, now) else "up")
        runs, writes = held.get(row.id, (0, 0))
        rows.append(
            EngineRow(
                row.id,
                row.name or row.host,
                row.host,
                row.pid,
                row.started_at,
                row.heartbeat_at,
                row.stopped_at,
                state,
                round((now - row.heartbeat_at).total_seconds(), 1),
                runs,
                writes,
                row.pools or "",
            )
        )
    return rows


def applying_facts(
    db: Database, writes: list[tuple[int, int, str | None]]
) -> dict[int, tuple[dt.datetime | None, bool]]:
    """For applying writes (id, run, claimed_by): since when each is applying (its
    `write.applying` event) and whether the engine holding it is down."""
    if not writes:
        return {}
    subjects = {f"write {wid}": wid for wid, _run, _c in writes}
    since: dict[int, dt.datetime] = {}
    events = (
        AuditEvent.select(AuditEvent.subject, fn.MAX(AuditEvent.at))
        .where(
            AuditEvent.run.in_(sorted({run for _w, run, _c in writes})),
            AuditEvent.action == AuditAction.WRITE_APPLYING.value,
            AuditEvent.subject.in_(list(subjects)),
        )
        .group_by(AuditEvent.subject)
        .tuples()
    )
    for subject, at in events:
        at_time = dt.datetime.fromisoformat(at)
        if at_time.tzinfo is not None:  # the audit's ISO text carries its offset
            at_time = at_time.astimezone(dt.UTC).replace(tzinfo=None)
        since[subjects[subject]] = at_time
    holders = {(c or "").partition("#")[2] for _w, _r, c in writes} - {""}
    now = utcnow()
    down = {
        row.id
        for row in EngineInstance.select().where(EngineInstance.id.in_(sorted(holders)))
        if is_dead(row, None, now)
    }
    return {
        wid: (since.get(wid), (claimer or "").partition("#")[2] in down)
        for wid, _run, claimer in writes
    }
