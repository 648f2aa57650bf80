"""Taking over the work of engines that died: at an engine's start, and while it runs
(every heartbeat), so that a desktop killed mid-apply does not leave its runs
`running` and its writes `applying` until someone restarts an engine with its name.

Who is dead (store/instances.py): on this host an instance whose pid is gone or was
reused; on another host one silent past the lease (`instances.LEASE_S`). Their
journaled outcomes are recorded first, the command groups they left on this host are
killed, and then (through the gate, so two engines taking over at once move each row
once) their runs go back to the queue and their writes are resumed when idempotent
or wait, interrupted, for a person. A command that ran on another host cannot be
checked from here: its write's reason says so.
"""

from __future__ import annotations

import socket

from peewee import Database

from sophmate_desktop.engine.lifeline import kill_left_behind
from sophmate_desktop.store import instances
from sophmate_desktop.store.models import EngineInstance, Run, Write
from sophmate_desktop.store.transitions.applying import replay_journal
from sophmate_desktop.store.transitions.recovery import recover


def take_over(db: Database, instance_id: str, host: str, prune: bool = False) -> dict[str, int]:
    """What dead instances held, taken over by this one; the counts of what moved.
    `prune` (at an engine's start): then forget the dead instances that hold nothing."""
    replayed = replay_journal(db, instances.judge(db, instance_id))
    dead = instances.dead_instances(db, instance_id)
    here = socket.gethostname()
    hosts = {
        row.id: row.host
        for row in EngineInstance.select(EngineInstance.id, EngineInstance.host).where(
            EngineInstance.id.in_(list(dead) or [""])
        )
    }
    local = {i for i in dead if hosts.get(i) == here}
    notes = kill_left_behind(db, local)
    for row in instances.processes_of(db, dead - local):
        if row.write is not None:
            notes[row.write] = (
                f"its command (pid {row.pid}) ran on {hosts.get(row.instance, 'another host')} "
                "and could not be checked from here"
            )
    counts = recover(db, host, notes)
    counts["commands_killed"] = sum(1 for n in notes.values() if "was killed" in n)
    counts["outcomes_replayed"] = replayed
    if prune:
        instances.prune(db, instances.dead_instances(db, instance_id))
    return counts


def held_by_dead(db: Database, instance_id: str) -> bool:
    """Whether a dead instance still holds a run or a write (one cheap query first)."""
    claimers = {
        c
        for (c,) in Run.select(Run.claimed_by).where(Run.status == "running").distinct().tuples()
    } | {
        c
        for (c,) in Write.select(Write.claimed_by)
        .where(Write.status == "applying")
        .distinct()
        .tuples()
    }
    if not claimers:
        return False
    dead = instances.judge(db, instance_id)
    return any(dead(c) for c in claimers)
