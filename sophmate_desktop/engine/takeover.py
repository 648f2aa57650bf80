"""Taking over the work of engines that died: at an engine's start, and while it runs
(engine/sweep.py: at its heartbeat and when another engine's lease ends), so that a
desktop killed mid-apply does not leave its runs `running` and its writes `applying`
until someone restarts an engine with its name.

Who is dead (store/instances.py): on this host an instance whose pid is gone or was
reused; on another host one silent past the lease it declared. Their journaled
outcomes are recorded first, the command groups they left on this host are killed,
and then (through the gate, so two engines taking over at once move each row once)
their runs go back to the queue and their writes are resumed when idempotent or wait,
interrupted, for a person. A command that ran on another host cannot be checked from
here: its write's reason says so.

An engine takes over only the work it serves (engine/binding.py): a workflow bound to
a pool is taken over by another engine of that pool, never by an engine outside it;
work bound to an engine name that has no living engine stays where it is (applying,
its engine shown down in the inbox and in `engines`) until an engine of that name
starts and takes it over.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database

from sophmate_desktop.engine.lifeline import kill_left_behind
from sophmate_desktop.store import instances, sql
from sophmate_desktop.store.models import EngineInstance, Run, Workflow, Write
from sophmate_desktop.store.transitions.applying import replay_journal
from sophmate_desktop.store.transitions.recovery import recover

Serves = Callable[[str | None], bool]


def not_served(db: Database, serves: Serves | None) -> frozenset[int]:
    """The ids of the workflows whose `runs_on` this engine does not serve."""
    if serves is None:
        return frozenset()
    rows = Workflow.select(Workflow.id, Workflow.definition).tuples()
    return frozenset(
        wid for wid, definition in rows if not serves((definition or {}).get("runs_on"))
    )


def take_over(
    db: Database,
    instance_id: str,
    host: str,
    prune: bool = False,
    serves: Serves | None = None,
) -> dict[str, int]:
    """What dead instances held, taken over by this one; the counts of what moved.
    `prune` (at an engine's start): then forget the dead instances that hold nothing.
    `serves` (the engine's identity): only the work of the workflows it serves."""
    replayed = replay_journal(db, instances.judge(db, instance_id))
    dead = instances.dead_instances(db, instance_id)
    here = instances.this_host()
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
    counts = recover(db, host, notes, skip=not_served(db, serves))
    counts["commands_killed"] = sum(1 for n in notes.values() if "was killed" in n)
    counts["outcomes_replayed"] = replayed
    if prune:
        instances.prune(db, instances.dead_instances(db, instance_id))
    return counts


def held_by_dead(db: Database, instance_id: str, serves: Serves | None = None) -> bool:
    """Whether a dead instance still holds a run or a write this engine serves (cheap
    queries first: the workflows' bindings are read only when a dead engine holds some)."""

    def claimers(skip: frozenset[int]) -> set[str | None]:
        runs = Run.select(Run.claimed_by).where(
            Run.status == "running", sql.workflow_not_in(Run.workflow, skip)
        )
        writes = Write.select(Write.claimed_by).where(
            Write.status == "applying", sql.workflow_not_in(Write.workflow, skip)
        )
        return {c for (c,) in runs.distinct().tuples()} | {c for (c,) in writes.distinct().tuples()}

    held = claimers(frozenset())
    if not held:
        return False
    dead = instances.judge(db, instance_id)
    if not any(dead(c) for c in held):
        return False
    return any(dead(c) for c in claimers(not_served(db, serves)))
