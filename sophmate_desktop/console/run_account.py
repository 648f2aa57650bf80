"""A run told in plain language, built from its audit events, writes and diagnostics.

`build_account` is a pure function of frozen rows (no database), so every situation
can be tested with hand-made events. The console gathers the rows
(`HistoryPageOps.run_account`); the runs page and `runs show ID` print the result.
Times are UTC, as stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from sophmate_desktop.console.run_story import Story
from sophmate_desktop.console.run_story import write_label as _write_label
from sophmate_desktop.domain.names import ENGINE_ACTOR, POLICY_ACTOR, AuditAction
from sophmate_desktop.domain.run_account import (
    MODE_WORDS,
    STAGE_WORDS,
    RunAccount,
    cost_text,
    human_size,
    parse_at,
    plural,
    quote,
)
from sophmate_desktop.store.rows import AuditRow, RunRow, WriteRow

__all__ = ["RunAccount", "build_account"]

PEOPLE_EXCLUDED = (ENGINE_ACTOR, POLICY_ACTOR)
MAX_BULLETS = 20
PAUSE_ACTIONS = (AuditAction.GLOBAL_PAUSED, AuditAction.CATEGORY_PAUSED)
HELD_DECISIONS = (AuditAction.HELD_REPLAYED, AuditAction.HELD_DISCARDED)


# --- the account ------------------------------------------------------------------


class _Story(Story):
    # Paragraph 1: what started it, whether it was held, the mode and the plan.

    def opening(self) -> str:
        run, created = self.run, self.first(AuditAction.RUN_QUEUED, AuditAction.RUN_HELD)
        details = created.details if created else {}
        started = run.started_at or (
            self.first(AuditAction.RUN_STARTED).at if self.first(AuditAction.RUN_STARTED) else None
        )
        name = f"Run {run.id} of {run.workflow}"
        kind = run.trigger_kind
        size = human_size(details.get("size"))
        actor = created.actor if created else None
        if kind == "file" and run.trigger_path:
            what = self._file_words(run.trigger_path, size)
            if started:
                return f"{name} started {self.clock.at(started)} because {what}."
            return f"{name} was recorded {self.clock.at(run.queued_at)} when {what}."
        if kind == "retry":
            origin = details.get("retry_of")
            by = f" by {actor}" if actor and actor not in PEOPLE_EXCLUDED else ""
            text = (
                f"{name} is a retry of run {origin}, asked for{by} {self.clock.at(run.queued_at)}"
            )
            text += quote(self._retry_reason(origin))
            return text + self._on_file(run.trigger_path, size) + "."
        if kind == "manual":
            by = f" by {actor}" if actor and actor not in PEOPLE_EXCLUDED else ""
            return (
                f"{name} was started by hand{by} {self.clock.at(started or run.queued_at)}"
                + self._on_file(run.trigger_path, size)
                + "."
            )
        if kind == "schedule":
            return f"{name} started {self.clock.at(started or run.queued_at)} on its schedule."
        if kind == "undo":
            return (
                f"{name} undoes writes of run {details.get('undo_of')}, asked for by "
                f"{actor or 'someone'} {self.clock.at(run.queued_at)}."
            )
        if kind == "watch":
            return (
                f"{name} records a problem with the workflow's watched folder, "
                f"found {self.clock.at(run.queued_at)}."
            )
        return f"{name} started {self.clock.at(started or run.queued_at)} ({kind} trigger)."

    def _retry_reason(self, origin: Any) -> str | None:
        for ev in self.related:
            if ev.action == AuditAction.RUN_RETRIED and ev.run == origin:
                return ev.reason
        return None

    def _file_words(self, path: str, size: str | None) -> str:
        p = PurePath(path)
        folder, shown = str(p.parent), p.name
        if self.watch_folder:
            base = PurePath(self.watch_folder)
            try:
                shown, folder = str(p.relative_to(base)), str(base)
            except ValueError:
                pass
        return f"{shown}{f' ({size})' if size else ''} arrived in {folder}"

    @staticmethod
    def _on_file(path: str | None, size: str | None) -> str:
        if not path:
            return ", without a file"
        return f" on {path}{f' ({size})' if size else ''}"

    def held(self) -> list[str]:
        out = []
        held_event = self.first(AuditAction.RUN_HELD)
        decision = next((e for e in self.related if e.action in HELD_DECISIONS), None)
        if held_event is not None:
            out.append(f"It was held because {held_event.reason or 'a kill switch was on'}.")
        elif decision is not None or self.run.status == "held":
            pause = self._pause_that_held(decision)
            if pause is None:
                out.append("It was held while automation was paused.")
            else:
                what = (
                    "all automation"
                    if pause.action == AuditAction.GLOBAL_PAUSED
                    else f"category {pause.subject}"
                )
                out.append(
                    f"It was waiting to start when {pause.actor} paused {what} "
                    f"{self.clock.at(pause.at)}{quote(pause.reason)}, so it was held."
                )
        if decision is not None:
            verb = "replayed" if decision.action == AuditAction.HELD_REPLAYED else "discarded"
            out.append(
                f"{decision.actor} {verb} it {self.clock.at(decision.at)}{quote(decision.reason)}."
            )
        return out

    def _pause_that_held(self, decision: AuditRow | None) -> AuditRow | None:
        created = self.first(AuditAction.RUN_QUEUED, AuditAction.RUN_HELD)
        pause = None
        for ev in self.related:
            if ev.action not in PAUSE_ACTIONS or (created and ev.id < created.id):
                continue
            if decision is not None and ev.id > decision.id:
                continue
            if ev.action == AuditAction.CATEGORY_PAUSED and ev.subject != self.run.category:
                continue
            if (ev.details or {}).get("held_runs"):
                pause = ev
        return pause

    def plan(self) -> str | None:
        run, planned = self.run, self.first(AuditAction.RUN_PLANNED)
        if planned is None and not self.writes:
            if run.status in ("held", "queued") and not self.of(AuditAction.RUN_STARTED):
                return f"It will run {MODE_WORDS.get(run.mode, run.mode)}{self._why_mode()}."
            if run.status in ("running", "queued"):
                return f"It runs {MODE_WORDS.get(run.mode, run.mode)}{self._why_mode()}."
            if run.trigger_kind == "watch":
                return None
            if run.status in ("failed", "cancelled"):
                return (
                    f"It ran {MODE_WORDS.get(run.mode, run.mode)}{self._why_mode()} "
                    "and stopped before it planned any write."
                )
        n = len(self.writes) or int(((planned.details if planned else None) or {}).get("writes", 0))
        records = run.affected_records
        kinds = Counter(w.kind for w in self.writes)
        kind_text = ", ".join(
            f"{c} {k}" for k, c in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        text = f"It ran {MODE_WORDS.get(run.mode, run.mode)}{self._why_mode()} and planned "
        text += "no writes" if n == 0 else plural(n, "write")
        if n and kind_text and len(kinds) > 1:
            text += f" ({kind_text})"
        if n and records:
            text += f" for {plural(records, 'record')}"
        return text + "." + self._plan_notes(n)

    def _plan_notes(self, n: int) -> str:
        """What the planned writes came to: nothing (dry run), previews, the gate."""
        text = ""
        if n and self.run.mode == "dry_run":
            text += " A dry run only plans: nothing was written."
        previews = sum(1 for w in self.writes if w.status == "planned")
        if previews and self.run.mode != "dry_run":
            text += (
                f" {plural(previews, 'write')} stayed a preview only "
                "(its connection has no staging settings)."
            )
        gate = sum(1 for w in self.writes if (w.decided_by or "").startswith("policy:"))
        if gate:
            text += f" The approval gate let {gate} through without a person."
        return text

    def _why_mode(self) -> str:
        mode, stage = self.run.mode, self.stage
        if stage is None:
            return ""
        if mode == stage:
            return f" (the workflow is in {STAGE_WORDS.get(stage, stage)})"
        if self.run.trigger_kind == "manual" and mode == "dry_run":
            return f" (asked for by hand; the workflow is in {STAGE_WORDS.get(stage, stage)})"
        return f" (the workflow's stage then; it is in {STAGE_WORDS.get(stage, stage)} now)"

    # Paragraph 2: who decided what, what was applied, what broke while applying.

    def decisions(self) -> list[str]:
        groups: list[list[AuditRow]] = []
        for ev in self.of(AuditAction.WRITE_APPROVED, AuditAction.WRITE_REJECTED):
            last = groups[-1][-1] if groups else None
            if last and (last.actor, last.action, last.reason) == (ev.actor, ev.action, ev.reason):
                groups[-1].append(ev)
            else:
                groups.append([ev])
        only = len(self.writes) == 1
        parts = [
            f"{g[0].actor} {g[0].action.split('.')[1]} "
            f"{'the write' if only and len(g) == 1 else len(g)} {self.clock.at(g[0].at)}"
            f"{quote(g[0].reason)}"
            for g in groups
        ]
        out = [("; ".join(parts) + ".")] if parts else []
        for ev in self.of(AuditAction.WRITE_MARKED_APPLIED, AuditAction.WRITE_RETRIED):
            label = _write_label(self.write_of(ev), ev.details or {}, ev.subject)
            verb = "marked" if ev.action == AuditAction.WRITE_MARKED_APPLIED else "retried"
            tail = " as applied" if verb == "marked" else ""
            out.append(f"{ev.actor} {verb} {label}{tail} {self.clock.at(ev.at)}{quote(ev.reason)}.")
        pending = sum(1 for w in self.writes if w.status == "pending")
        if pending and self.run.status == "awaiting_approval":
            out.append(
                f"{plural(pending, 'write')} {'waits' if pending == 1 else 'wait'} "
                "for a person's decision in the inbox."
            )
        return out

    def applied(self) -> list[str]:
        out = []
        applied = self.of(AuditAction.WRITE_APPLIED)
        if applied:
            first, last = parse_at(applied[0].at), parse_at(applied[-1].at)
            span = self.clock.at(last)
            if first and last and f"{first:%H:%M}" != f"{last:%H:%M}":
                span = f"between {first:%H:%M} and {last:%H:%M}"
            if len(applied) == 1:
                out.append(f"The approved write was applied {span}.")
            else:
                out.append(f"The {len(applied)} approved writes were applied {span}.")
        out += self.write_attempts()
        out += [self.write_failure(ev) for ev in self.of(AuditAction.WRITE_FAILED)]
        for ev in self.of(AuditAction.WRITE_INTERRUPTED, AuditAction.WRITE_RESUMED):
            w = self.write_of(ev)
            label = _write_label(w, ev.details or {}, ev.subject)
            if ev.action == AuditAction.WRITE_RESUMED:
                out.append(
                    f"The engine stopped while applying {label}; a file write can be checked, "
                    "so it was finished after the restart."
                )
            elif w is not None and w.status == "interrupted":
                out.append(
                    f"The engine stopped while applying {label} {self.clock.at(ev.at)}; whether "
                    "it took effect is unknown, so it waits in the inbox for a person to mark "
                    "it applied or retry it."
                )
            else:
                out.append(
                    f"The engine stopped while applying {label} {self.clock.at(ev.at)}; "
                    "whether it took effect could not be checked."
                )
        for ev in self.of(AuditAction.WRITE_STALE):
            label = _write_label(self.write_of(ev), ev.details or {}, ev.subject)
            new = self.by_id.get((ev.details or {}).get("replaced_by"))
            by = f"write {new.seq}" if new is not None else "a new write"
            out.append(
                f"{label[0].upper()}{label[1:]} was not applied {self.clock.at(ev.at)}: "
                f"{ev.reason or 'what it previewed changed'}; {by} replaces it "
                "with a fresh preview."
            )
        for ev in self.of(AuditAction.RUN_REQUEUED):
            again = " and planned after the restart" if self.first(AuditAction.RUN_PLANNED) else ""
            out.append(
                f"The engine stopped while planning it {self.clock.at(ev.at)}; "
                f"it was queued again{again}."
            )
        return out

    def bullets(self) -> tuple[str, ...]:
        lines = []
        for w in self.writes[:MAX_BULLETS]:
            state = w.status.replace("_", " ")
            if w.status in ("approved", "rejected") and w.decided_by:
                state += f" by {w.decided_by}"
            elif w.status == "pending":
                state = "waiting for approval"
            marks = [
                m
                for m, on in (("customer-facing", w.customer_facing), ("AI-drafted", w.ai_drafted))
                if on
            ]
            extra = f" ({', '.join(marks)})" if marks else ""
            lines.append(f"{w.kind} to {w.target}{extra}: {state}")
        if len(self.writes) > MAX_BULLETS:
            lines.append(f"… and {len(self.writes) - MAX_BULLETS} more")
        return tuple(lines)


HEADLINES = {
    "succeeded": "succeeded",
    "failed": "failed",
    "rejected": "was rejected",
    "cancelled": "was cancelled",
    "awaiting_approval": "is waiting for approval",
    "applying": "is applying its writes",
    "running": "is running",
    "queued": "is queued",
    "held": "is held",
}


def _headline(story: _Story) -> str:
    run = story.run
    text = f"Run {run.id} of {run.workflow} {HEADLINES.get(run.status, run.status)}"
    attempts = max(
        [run.attempt]
        + [(ev.details or {}).get("attempt", 1) for ev in story.of(AuditAction.WRITE_FAILED)]
    )
    if run.status == "failed" and attempts > 1:
        text += f" after {attempts} attempts"
    if run.status == "cancelled" and " is paused" in (run.error or ""):
        text += " by a kill switch"
    return text


MAX_PROMPT_LINES = 3


def _call_words(details: dict[str, Any]) -> str:
    """'asked gpt-x about row 3: 412 tokens, 0.0021'."""
    record = details.get("record_number")
    about = f"row {record}" if record is not None else "the input"
    tokens = int(details.get("tokens_in") or 0) + int(details.get("tokens_out") or 0)
    text = f"asked {details.get('model') or 'the model'} about {about}: {tokens:,} tokens, "
    text += cost_text(float(details.get("cost") or 0))
    return text + (" (failed)" if details.get("status") == "failed" else "")


def prompt_sentences(calls: Sequence[AuditRow]) -> list[str]:
    """What the run's prompt steps asked, in a sentence or two."""
    details = [ev.details or {} for ev in calls]
    asked = [d for d in details if d.get("status") != "placeholder"]
    out = []
    if asked:
        shown = "; ".join(_call_words(d) for d in asked[:MAX_PROMPT_LINES])
        if len(asked) <= MAX_PROMPT_LINES:
            out.append(f"Its prompt steps {shown}.")
        else:
            tokens = sum(
                int(d.get("tokens_in") or 0) + int(d.get("tokens_out") or 0) for d in asked
            )
            cost = sum(float(d.get("cost") or 0) for d in asked)
            out.append(
                f"Its prompt steps made {plural(len(asked), 'call')} ({tokens:,} tokens, cost "
                f"{cost_text(cost)}): {shown}; … and {len(asked) - MAX_PROMPT_LINES} more."
            )
    placeholders = len(details) - len(asked)
    if placeholders:
        out.append(
            f"{plural(placeholders, 'placeholder answer')} stood in for the model: no prompt "
            "was sent (the prompts it would send are on the run)."
        )
    return out


def build_account(
    run: RunRow,
    writes: Sequence[WriteRow],
    events: Iterable[AuditRow],
    *,
    related: Iterable[AuditRow] = (),
    stage: str | None = None,
    watch_folder: str | None = None,
    retry_limit: int | None = None,
) -> RunAccount:
    """The account of `run` from its writes and its audit events (`events`: those with
    run == run.id; `related`: replays/discards that list it, pauses that held it, the
    retry that created it). `stage` is the workflow's stage now."""
    story = _Story(run, writes, events, related, stage, watch_folder, retry_limit)
    first = [story.opening(), *story.held()]
    if story.planned_after_retries:
        first += story.retries(story.of(AuditAction.RUN_RETRY_SCHEDULED))
    plan = story.plan()
    if plan:
        first.append(plan)
    first += prompt_sentences(story.of(AuditAction.PROMPT_CALLED))
    paragraphs = [" ".join(first)]
    middle = story.decisions() + story.applied()
    if middle:
        paragraphs.append(" ".join(middle))
    paragraphs.append(" ".join(story.ending()))
    return RunAccount(run.id, _headline(story), tuple(p for p in paragraphs if p), story.bullets())
