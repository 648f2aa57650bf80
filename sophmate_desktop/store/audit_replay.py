"""Replay the audit events into the state they imply and compare it with the tables.

Each kind of event says what a row became: `category.paused` (and the effect and
global switches), `workflow.paused` / `resumed` / `auto_paused`, `enabled` /
`disabled`, `promoted` (details `to`), `run.<status>` (`run.started`: running) and
`write.<status>`. An event that changes a row in a way its name does not say (a
retry scheduled, an undo planned) makes the row's state unknown until the next one
that does; a row no event speaks of is not judged. So a change made behind the
product's back, without its event, is found as a row that disagrees with the last
event about it; old events stay readable (nothing here needs a new field).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from peewee import Database

from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.store.models import AuditEvent, Category, Run, Switch, Workflow, Write

_RUN = {s.value for s in RunStatus} | {"started", "requeued"}
_WRITE = {s.value for s in WriteStatus}
_UNKNOWN = object()
_WORKFLOW_PAUSED = {"paused": True, "auto_paused": True, "resumed": False}
_WORKFLOW_ENABLED = {"enabled": True, "disabled": False}


@dataclass(frozen=True)
class Said:
    """What the last event about a row said it became."""

    value: Any
    seq: int
    action: str
    actor: str


@dataclass(frozen=True)
class Disagreement:
    what: str  # "category finance", "write 12"
    field: str
    table: Any
    said: Said

    def describe(self) -> str:
        return (
            f"{self.what}: table says {_shown(self.field, self.table)}, the last event "
            f"(seq {self.said.seq}, {self.said.action} by {self.said.actor}) says "
            f"{_shown(self.field, self.said.value)}"
        )


def _shown(field: str, value: Any) -> str:
    if field == "paused":
        return "paused" if value else "running"
    if field == "enabled":
        return "enabled" if value else "disabled"
    return str(value)


class _State:
    def __init__(self) -> None:
        self.said: dict[tuple[str, str, str], Any] = {}

    def note(self, key: tuple[str, str, str], value: Any, ev: tuple) -> None:
        self.said[key] = Said(value, ev[0], ev[2], ev[1]) if value is not _UNKNOWN else None

    def event(self, ev: tuple) -> None:
        _id, _actor, action, subject, _category, workflow, details = ev
        noun, _, verb = action.partition(".")
        if noun in ("category", "effect", "global") and verb in ("paused", "resumed"):
            self.note((noun, subject, "paused"), verb == "paused", ev)
        elif noun == "workflow" and workflow:
            self._workflow(workflow, verb, details, ev)
        elif noun in ("run", "write") and " " in subject:
            self._item(noun, subject.split(" ", 1)[1], verb, ev)

    def _workflow(self, name: str, verb: str, details: Any, ev: tuple) -> None:
        if verb in _WORKFLOW_PAUSED:
            self.note(("workflow", name, "paused"), _WORKFLOW_PAUSED[verb], ev)
        elif verb in _WORKFLOW_ENABLED:
            self.note(("workflow", name, "enabled"), _WORKFLOW_ENABLED[verb], ev)
        elif verb == "promoted" and isinstance(details, dict) and details.get("to"):
            self.note(("workflow", name, "stage"), details["to"], ev)

    def _item(self, noun: str, ident: str, verb: str, ev: tuple) -> None:
        known = _RUN if noun == "run" else _WRITE
        if verb in known:
            value = {"started": "running", "requeued": "queued"}.get(verb, verb)
        elif verb in ("approval_recorded",):
            return  # a partial approval: the write stays where it was
        else:
            value = _UNKNOWN
        self.note((noun, ident, "status"), value, ev)


def _events(batch: int = 20_000) -> Iterator[tuple]:
    after = 0
    columns = (
        AuditEvent.id,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.subject,
        AuditEvent.category,
        AuditEvent.workflow,
        AuditEvent.details,
    )
    while True:
        rows = list(
            AuditEvent.select(*columns)
            .where(AuditEvent.id > after)
            .order_by(AuditEvent.id)
            .limit(batch)
            .tuples()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def _tables(said: dict[tuple[str, str, str], Said | None]) -> dict[tuple[str, str, str], Any]:
    """The table's value of each row the events speak of."""
    nouns = {key[0] for key, value in said.items() if value is not None}
    out: dict[tuple[str, str, str], Any] = {}
    if "category" in nouns:
        for name, paused in Category.select(Category.name, Category.paused).tuples():
            out[("category", name, "paused")] = bool(paused)
    for scope in ("effect", "global"):
        if scope in nouns:
            query = Switch.select(Switch.name, Switch.paused).where(Switch.scope == scope)
            for name, paused in query.tuples():
                out[(scope, name, "paused")] = bool(paused)
    if "workflow" in nouns:
        columns = (Workflow.name, Workflow.paused, Workflow.enabled, Workflow.stage)
        for name, paused, enabled, stage in Workflow.select(*columns).tuples():
            out[("workflow", name, "paused")] = bool(paused)
            out[("workflow", name, "enabled")] = bool(enabled)
            out[("workflow", name, "stage")] = stage
    _statuses(nouns, out)
    return out


def _statuses(nouns: set[str], out: dict[tuple[str, str, str], Any]) -> None:
    for noun, model in (("run", Run), ("write", Write)):
        if noun in nouns:
            for ident, status in model.select(model.id, model.status).tuples().iterator():
                out[(noun, str(ident), "status")] = status


def replay(db: Database, limit: int = 200) -> tuple[list[Disagreement], int]:
    """(the rows whose table disagrees with the last event about them, at most
    `limit`; how many rows were compared)."""
    del db  # the models' bound database; the handle says which one the caller means
    state = _State()
    for ev in _events():
        state.event(ev)
    tables = _tables(state.said)
    found: list[Disagreement] = []
    compared = 0
    for key, said in sorted(state.said.items(), key=lambda item: _order(item[1])):
        if said is None or key not in tables:
            continue  # unknown, or a row since deleted (retention)
        compared += 1
        if tables[key] != said.value and len(found) < limit:
            noun, name, field = key
            found.append(Disagreement(f"{noun} {name}", field, tables[key], said))
    return found, compared


def _order(said: Said | None) -> int:
    return 0 if said is None else said.seq
