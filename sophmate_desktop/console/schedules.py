"""Console calls about time triggers: when a scheduled workflow runs next and what its
expression means, for `workflow show`, the Workflows page and the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sophmate_desktop.console.workflows import definition_of
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.schedule import (
    catch_up_of,
    describe,
    is_scheduled,
    next_slot,
    schedule_key,
)
from sophmate_desktop.store import queries
from sophmate_desktop.store.schedules import schedule_states
from sophmate_desktop.store.workflows import load_workflows

if TYPE_CHECKING:
    from sophmate_desktop.console import Console


@dataclass(frozen=True)
class ScheduleInfo:
    workflow: str
    reading: str  # "At 07:00, Monday through Friday (Europe/Berlin)"
    expression: str  # the cron expression, or "interval_s: N"
    timezone: str
    catch_up: str
    next_at: dt.datetime  # naive UTC
    enabled: bool

    @property
    def next_local(self) -> dt.datetime:
        """The next run in the schedule's own zone (aware)."""
        return self.next_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(self.timezone))

    def next_text(self) -> str:
        local = self.next_local
        text = f"{self.next_at:%Y-%m-%d %H:%M:%S} UTC"
        if self.timezone != "UTC":
            text += f" ({local:%Y-%m-%d %H:%M:%S %Z})"
        return text

    def to_dict(self) -> dict:
        return {
            "workflow": self.workflow,
            "reading": self.reading,
            "expression": self.expression,
            "timezone": self.timezone,
            "catch_up": self.catch_up,
            "next_at": self.next_at.isoformat(timespec="seconds"),
            "enabled": self.enabled,
        }


class ScheduleOps:
    def schedule_of(self: Console, name: str) -> ScheduleInfo | None:
        """The workflow's schedule (None: it has no time trigger)."""
        wf = queries.get_workflow(name)
        return _info(wf.name, definition_of(wf).trigger, wf.enabled, schedule_states(self.db))

    def upcoming_schedules(self: Console, limit: int = 10) -> list[ScheduleInfo]:
        """Enabled scheduled workflows, soonest next run first."""
        states = schedule_states(self.db)
        infos = [
            _info(wf.name, wf.definition.trigger, True, states)
            for wf in load_workflows(enabled_only=True)
        ]
        found = [i for i in infos if i is not None]
        return sorted(found, key=lambda i: (i.next_at, i.workflow))[:limit]


def _info(name: str, trigger, enabled: bool, states: dict) -> ScheduleInfo | None:
    if not is_scheduled(trigger):
        return None
    now = utcnow()
    state = states.get(name)
    # The stored next slot is the engines' progress; one in the past means no engine
    # is running (its catch-up decides), and a schedule not seen yet starts from now.
    if state is not None and state[0] == schedule_key(trigger) and state[1] > now:
        next_at = state[1]
    else:
        next_at = next_slot(trigger, now)
    expression = trigger.cron or f"interval_s: {trigger.interval_s}"
    return ScheduleInfo(
        workflow=name,
        reading=describe(trigger),
        expression=expression,
        timezone=(trigger.timezone or "UTC") if trigger.cron else "UTC",
        catch_up=catch_up_of(trigger),
        next_at=next_at,
        enabled=enabled,
    )
