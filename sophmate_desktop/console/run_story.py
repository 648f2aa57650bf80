"""A run's story for its plain-language account (console/run_account.py): its rows
and events looked up by action, and the last paragraph: how the run ended and why
(its retries, the error that failed it, the pause that cancelled it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RETRYABLE_WRITE_KINDS
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.run_account import (
    STDERR_CHARS,
    Clock,
    error_lead,
    human_duration,
    one_line,
    plural,
    quote,
    stderr_of,
)
from sophmate_desktop.store.rows import AuditRow, RunRow, WriteRow

STILL_GOING = {
    "awaiting_approval": "The run is waiting for approval.",
    "applying": "Its approved writes are being applied.",
    "running": "It is running now.",
    "held": "It starts when someone replays it after the pause, or ends if it is discarded.",
}


def write_label(w: WriteRow | None, details: dict[str, Any], subject: str) -> str:
    if w is not None:
        return f"write {w.seq} ({w.kind} to {w.target})"
    if details.get("kind"):
        return f"{subject} ({details['kind']} to {details.get('target')})"
    return subject


def _attempt_numbers(group: Sequence[AuditRow]) -> str:
    numbers = [str((ev.details or {}).get("attempt", "?")) for ev in group]
    if len(numbers) == 1:
        return f"Attempt {numbers[0]}"
    if len(numbers) == 2:
        return f"Attempts {numbers[0]} and {numbers[1]}"
    return f"Attempts {numbers[0]} to {numbers[-1]}"


class Story:
    """A run's rows and audit events, looked up the way the account's sentences need
    them, and the account's last paragraph. console/run_account.py tells the rest."""

    def __init__(self, run, writes, events, related, stage, watch_folder, retry_limit) -> None:
        self.run: RunRow = run
        self.writes: list[WriteRow] = list(writes)
        self.events: list[AuditRow] = sorted(events, key=lambda e: e.id)
        self.related: list[AuditRow] = sorted(related, key=lambda e: e.id)
        self.stage = stage
        self.watch_folder = watch_folder
        self.retry_limit = retry_limit
        self.clock = Clock()
        self.by_id = {w.id: w for w in self.writes}
        # Attempts that failed before one got to plan are told before the plan.
        self.planned_after_retries = bool(self.of(AuditAction.RUN_RETRY_SCHEDULED)) and bool(
            self.of(AuditAction.RUN_PLANNED)
        )

    def of(self, *actions: AuditAction) -> list[AuditRow]:
        return [e for e in self.events if e.action in actions]

    def first(self, *actions: AuditAction) -> AuditRow | None:
        found = self.of(*actions)
        return found[0] if found else None

    def write_of(self, ev: AuditRow) -> WriteRow | None:
        match = re.fullmatch(r"write (\d+)", ev.subject or "")
        return self.by_id.get(int(match.group(1))) if match else None

    # Paragraph 3: how it ended, and why.

    def ending(self) -> list[str]:
        run = self.run
        out = self._how_it_stands()
        for ev in self.of(AuditAction.RUN_RETRIED):
            if ev.run == run.id:
                new = (ev.details or {}).get("new_run")
                out.append(
                    f"{ev.actor} retried it {self.clock.at(ev.at)} as run {new}{quote(ev.reason)}."
                )
        if run.reviewed:
            out.append("The run has been reviewed.")
        return out

    def _retries_waiting(self) -> list[str]:
        """Approved writes whose next attempt waits for its backoff: said as such, not
        as "being applied"."""
        now = utcnow()
        return [
            f"{write_label(w, {}, '').capitalize()} waits for attempt {w.attempt}, "
            f"due {self.clock.at(w.next_attempt_at)}."
            for w in self.writes
            if w.status == "approved" and w.next_attempt_at is not None and w.next_attempt_at > now
        ]

    def _how_it_stands(self) -> list[str]:
        """The sentences for the run's status: how it ended, or what it waits for."""
        run = self.run
        status = run.status
        ended = f" {self.clock.at(run.finished_at)}" if run.finished_at else ""
        waiting = self._retries_waiting() if status == "applying" else []
        if waiting:
            return waiting
        if status in STILL_GOING:
            return [STILL_GOING[status]]
        if status == "succeeded":
            took = human_duration(run.duration_ms)
            return [f"The run succeeded{ended}{f' (it took {took})' if took else ''}."]
        if status == "failed":
            return self.failure(ended)
        if status == "rejected":
            return [
                f"The run ended as rejected{ended}: every write a person "
                "decided on was rejected, so nothing was written."
            ]
        if status == "cancelled":
            return self.cancelled(ended)
        if status == "queued":
            retries = self.of(AuditAction.RUN_RETRY_SCHEDULED)
            if not retries:
                return ["It is queued: the engine starts it shortly."]
            told = [] if self.planned_after_retries else self.retries(retries)
            return [*told, f"Attempt {run.attempt} is queued."]
        return []

    def retries(self, retries: Sequence[AuditRow]) -> list[str]:
        """One sentence per run of attempts that failed with the same error; the error
        is left out when it is the one the run finally failed with (said after)."""
        groups: list[list[AuditRow]] = []
        for ev in retries:
            if groups and groups[-1][-1].reason == ev.reason:
                groups[-1].append(ev)
            else:
                groups.append([ev])
        out = []
        for group in groups:
            numbers = [str((ev.details or {}).get("attempt", "?")) for ev in group]
            if len(numbers) == 1:
                who = f"Attempt {numbers[0]} failed"
            elif len(numbers) == 2:
                who = f"Attempts {numbers[0]} and {numbers[1]} failed"
            else:
                who = f"Attempts {numbers[0]} to {numbers[-1]} failed"
            wait = (group[-1].details or {}).get("backoff_s")
            retried = "was retried" if len(group) == 1 else "were retried"
            reason = group[0].reason
            same = bool(reason) and reason == self.run.error and self.failed_in_planning()
            text = f"{who}{' the same way' if same else ''} {self.clock.at(group[0].at)}"
            text += f" and {retried}{f' after {wait} s' if wait else ''}"
            out.append(f"{text}." if same else f"{text}: {one_line(reason)}.")
        return out

    def write_attempts(self) -> list[str]:
        """A sentence per run of a write's failed attempts that were followed by another
        (the last, failing one is told with the write's failure)."""
        groups: list[list[AuditRow]] = []
        for ev in self.of(AuditAction.WRITE_RETRY_SCHEDULED):
            last = groups[-1][-1] if groups else None
            if last and (last.subject, last.reason) == (ev.subject, ev.reason):
                groups[-1].append(ev)
            else:
                groups.append([ev])
        out = []
        for group in groups:
            first, last = group[0], group[-1]
            details = last.details or {}
            label = write_label(self.write_of(first), details, first.subject)
            wait = details.get("backoff_s")
            after = f" after {wait:g} s" if wait else ""
            text = f"{_attempt_numbers(group)} of {details.get('attempts', '?')} to apply {label}"
            text += f" failed {self.clock.at(first.at)}: {one_line(first.reason)}"
            if self._tried_after(last):
                each = " each time" if len(group) > 1 else ""
                out.append(f"{text}; it was tried again{after}{each}.")
            else:
                out.append(f"{text}; attempt {details.get('next_attempt', '?')} follows{after}.")
        return out

    def write_failure(self, ev: AuditRow) -> str:
        """A write's failure for good (or its stop by a kill switch)."""
        label = write_label(self.write_of(ev), ev.details or {}, ev.subject).capitalize()
        reason = ev.reason or "no error recorded"
        if reason.startswith("killed: "):
            return f"{label} was stopped {self.clock.at(ev.at)}: {reason[8:]}."
        if (ev.details or {}).get("attempt", 1) > 1:
            return (
                f"{label} failed again {self.clock.at(ev.at)}, on its last attempt: "
                f"{one_line(reason)}."
            )
        return f"{label} failed {self.clock.at(ev.at)}: {one_line(reason)}."

    def _tried_after(self, ev: AuditRow) -> bool:
        return any(
            e.id > ev.id and e.subject == ev.subject for e in self.of(AuditAction.WRITE_APPLYING)
        )

    def write_retry_note(self, failed: Sequence[WriteRow]) -> str:
        """Why a failed write was not (or no longer) tried again by itself."""
        limit = self.retry_limit
        scheduled = self.of(AuditAction.WRITE_RETRY_SCHEDULED)
        if limit is None and scheduled:
            limit = (scheduled[-1].details or {}).get("limit")
        once = sorted({w.kind for w in failed if w.kind not in RETRYABLE_WRITE_KINDS})
        if once and limit:
            return (
                f"A {' or '.join(once)} write is never tried again by itself, as that could "
                "repeat its effect: retry it, or the run."
            )
        if limit:
            return f"It used its {plural(limit, 'retry', 'retries')}: retry the write, or the run."
        return "Its workflow allows no retries: retry the write, or the run."

    def failed_in_planning(self) -> bool:
        """fail_run's final event carries the error; a failed write ends the run without
        one (run.error may still hold an earlier attempt's error then)."""
        if self.run.status != "failed":
            return False
        failed_writes = any(w.status == "failed" for w in self.writes)
        return any(e.reason for e in self.of(AuditAction.RUN_FAILED)) or (
            bool(self.run.error) and not failed_writes and not self.of(AuditAction.RUN_FAILED)
        )

    def failure(self, ended: str) -> list[str]:
        run = self.run
        retries = self.of(AuditAction.RUN_RETRY_SCHEDULED)
        out = [] if self.planned_after_retries else self.retries(retries)
        failed_writes = [w for w in self.writes if w.status == "failed"]
        in_planning = self.failed_in_planning()
        if in_planning:
            lead = error_lead((run.diagnostics or {}).get("exception"))
            out.append(f"The run failed{ended} because {lead}: {one_line(run.error)}.")
        elif failed_writes:
            n = len(failed_writes)
            out.append(f"The run failed{ended}: {plural(n, 'write')} could not be applied.")
        else:
            out.append(f"The run failed{ended}.")
        tail = stderr_of(run.diagnostics, [w.error or "" for w in failed_writes])
        if tail:
            out.append(f'The command\'s error output ends with: "{one_line(tail, STDERR_CHARS)}".')
        limit = self.retry_limit
        if limit is None and retries:
            limit = (retries[-1].details or {}).get("limit")
        if in_planning and limit is not None:
            if limit == 0:
                out.append("Its workflow allows no retries.")
            else:
                out.append(f"It used {len(retries)} of its {plural(limit, 'retry', 'retries')}.")
        elif failed_writes:
            out.append(self.write_retry_note(failed_writes))
        for ev in self.of(AuditAction.WORKFLOW_AUTO_PAUSED):
            out.append(
                f"The workflow then paused itself ({ev.reason or 'its pause rule'}); "
                "its owner was notified and it stays paused until someone resumes it."
            )
        return out

    def cancelled(self, ended: str) -> list[str]:
        ev = self.first(AuditAction.RUN_CANCELLED)
        discard = next((e for e in self.related if e.action == AuditAction.HELD_DISCARDED), None)
        if discard is not None:
            return ["The run was cancelled: it never ran."]
        reason = (ev.reason if ev else None) or self.run.error or ""
        when = f" {self.clock.at(ev.at)}" if ev else ended
        if " is paused" in reason:
            return [f"A kill switch stopped it{when}: {reason}."]
        if "shutting down" in reason:
            return [f"It was stopped{when} because the engine was shutting down."]
        return [f"It was cancelled{when}{': ' + one_line(reason) if reason else ''}."]
