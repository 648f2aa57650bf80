"""Kill-switch commands: `category` (and --all), `effect`, and the `held` runs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.run_account import plural
from sophmate_desktop.store.busy import BusyWait

if TYPE_CHECKING:
    from sophmate_desktop.console import Console


def _some_or_all(given: Any, use_all: bool, what: str) -> Any:
    """`given` (ids or a name), or None for --all; refuses neither and both."""
    if use_all and given:
        raise BadInput(f"give {what} or --all, not both")
    if not use_all and not given:
        raise BadInput(f"give {what}, or --all")
    return None if use_all else given


def switches_in(*scopes: str) -> Callable[[Console, argparse.Namespace], list]:
    """A list command's fetch: the switches of these scopes."""
    return lambda c, a: [r for r in c.list_switches() if r.scope in scopes]


def _switch_out(row: Any, a: argparse.Namespace, text: str | None = None) -> str:
    """The switch as JSON with --json, else its line (or `text`)."""
    return fmt.to_json(row.to_dict()) if a.json else text or fmt.switch_line(row)


def cmd_category_pause(c: Console, a: argparse.Namespace) -> str:
    name = _some_or_all(a.name, a.all, "a category name")
    # A kill switch gets through a busy database: it waits, counting, until it commits.
    row = c.through_busy(
        lambda: c.pause_all(a.reason) if name is None else c.pause_category(name, a.reason),
        BusyWait(waited=fmt.busy_countdown),
    )
    return _switch_out(row, a)


def cmd_category_resume(c: Console, a: argparse.Namespace) -> str:
    name = _some_or_all(a.name, a.all, "a category name")
    held = "replay" if a.replay else "discard" if a.discard else "keep"
    if a.by_category:
        if name is not None:
            raise BadInput(
                "--by-category goes with --all: it resumes everything but keeps "
                "each category paused, to resume one at a time"
            )
        held = "by_category"
    row = (
        c.resume_all(a.reason, held)  # type: ignore[arg-type]
        if name is None
        else c.resume_category(name, a.reason, held)  # type: ignore[arg-type]
    )
    text = fmt.switch_line(row)
    if held == "keep" and row.held_runs:
        text += (
            f"\nheld runs wait: `{fmt.PROG} held replay --all` or `{fmt.PROG} held discard --all`"
        )
    return _switch_out(row, a, text)


def _money(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


def cmd_category_budget(c: Console, a: argparse.Namespace) -> str:
    if a.clear and (a.per_day is not None or a.per_month is not None):
        raise BadInput("--clear removes both budgets: give it alone")
    if a.clear:
        row = c.set_category_budget(a.name)
    elif a.per_day is None and a.per_month is None:
        row = c.category_budget(a.name)
    else:
        # An option left out keeps that period's budget as it was.
        now = c.category_budget(a.name)
        row = c.set_category_budget(
            a.name,
            per_day=now.per_day if a.per_day is None else a.per_day,
            per_month=now.per_month if a.per_month is None else a.per_month,
        )
    if a.json:
        return json.dumps(row.to_dict(), sort_keys=True)
    text = f"category {row.name} budget: {_money(row.per_day)} per day, "
    text += f"{_money(row.per_month)} per month"
    if row.paused_now:
        text += f"\ncategory {row.name} PAUSED by policy: {row.paused_now}"
    return text


def cmd_effect_pause(c: Console, a: argparse.Namespace) -> str:
    return _switch_out(c.pause_effect(a.kind, a.reason), a)


def cmd_effect_resume(c: Console, a: argparse.Namespace) -> str:
    return _switch_out(c.resume_effect(a.kind, a.reason), a)


def cmd_held_replay(c: Console, a: argparse.Namespace) -> str:
    moved, left = c.replay_held_saying(_some_or_all(a.ids, a.all, "run ids"), a.reason)
    if a.json:
        return fmt.to_json({"replayed": moved, "left_held": left})
    return "\n".join([f"{plural(moved, 'held run')} queued again", *left])


def cmd_held_discard(c: Console, a: argparse.Namespace) -> str:
    moved = c.discard_held(_some_or_all(a.ids, a.all, "run ids"), a.reason)
    return fmt.to_json({"discarded": moved}) if a.json else f"{plural(moved, 'held run')} discarded"
