"""Console calls for the runs and audit pages, and a run's plain-language account.

Sorting, filtering and paging happen in SQL: the pages' lazy tables call
`runs_page` and `audit_page` a page at a time. The audit table pages by id (keyset:
`before`/`after` the last id shown), so a page deep in a million events costs what
the first one costs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import SQL, fn

from sophmate_desktop.console.run_account import HELD_DECISIONS, PAUSE_ACTIONS, build_account
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.domain.errors import BadInput, Conflict, NotFound, PolicyRefused
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.domain.run_account import RunAccount
from sophmate_desktop.secrets import mask_known_values
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import AuditEvent, Category, Run, Workflow, Write
from sophmate_desktop.store.rows import AuditRow, PromptCallRow, RunRow, WriteRow
from sophmate_desktop.store.transitions.prompt_calls import prompt_call_rows
from sophmate_desktop.store.workflows import load_workflow, switch_states, workflow_block

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

RECENT_EVENTS = 20_000  # how far back the actor/action choices look (cheap, indexed)
MODE_ORDER = ("dry_run", "staging", "production")


@dataclass(frozen=True)
class HistoryChoices:
    """What the filters of the runs and audit pages offer."""

    workflows: tuple[str, ...]
    categories: tuple[str, ...]
    actors: tuple[str, ...]
    actions: tuple[str, ...]
    statuses: tuple[str, ...] = tuple(s.value for s in RunStatus)
    modes: tuple[str, ...] = MODE_ORDER


@dataclass(frozen=True)
class RunDetails:
    """Everything a run's page shows, read in one go."""

    run: RunRow
    account: RunAccount
    writes: tuple[WriteRow, ...]
    timeline: tuple[AuditRow, ...]
    prompts: tuple[PromptCallRow, ...] = ()  # the calls of its prompt steps


RUN_SORT_KEYS: dict[str, Any] = {
    "id": Run.id,
    "workflow": Workflow.name,
    "status": Run.status,
    "mode": Run.mode,
    "attempt": Run.attempt,
    "duration": Run.duration_ms,
    "writes": SQL("write_count"),
    "records": Run.affected_records,
    "cost": Run.cost,
    "started": fn.COALESCE(Run.started_at, Run.queued_at),
    "queued": Run.queued_at,
}


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None or value == "":
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


class HistoryPageOps:
    # Runs ------------------------------------------------------------------

    def runs_page(
        self: Console,
        offset: int,
        limit: int,
        sort_key: str | None = None,
        descending: bool = True,
        *,
        workflow: str | None = None,
        status: str | Sequence[str] | None = None,
        mode: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RunRow]:
        """One page of run history, filtered and sorted in SQL (newest first by default).
        `since`/`until` bound the time the run was queued (until is exclusive)."""
        if sort_key is not None and sort_key not in RUN_SORT_KEYS:
            raise BadInput(f"sort: unknown key {sort_key!r} (use {', '.join(RUN_SORT_KEYS)})")
        statuses = _as_list(status)
        query = queries.runs_query(runs_first=not workflow and not statuses)
        if workflow:
            query = query.where(Workflow.name == workflow)
        if statuses:
            query = query.where(Run.status.in_(statuses))
        if mode:
            query = query.where(Run.mode == mode)
        if since is not None:
            query = query.where(Run.queued_at >= since)
        if until is not None:
            query = query.where(Run.queued_at < until)
        key = RUN_SORT_KEYS[sort_key or "id"]
        tie = Run.id.desc() if descending else Run.id.asc()
        query = query.order_by(key.desc() if descending else key.asc(), tie)
        rows = query.limit(limit).offset(offset).objects()
        return [queries.run_row(r, r.wf_name, r.cat_name, r.write_count) for r in rows]

    def run_details(self: Console, run_id: int) -> RunDetails:
        run = queries.get_run_row(run_id)
        writes = tuple(self.run_writes(run_id))
        timeline = tuple(self.run_timeline(run_id))
        prompts = tuple(prompt_call_rows(run_id))
        account = self._account(run, writes, timeline)
        return RunDetails(run, account, writes, timeline, prompts)

    def run_account(self: Console, run_id: int) -> RunAccount:
        """The run in plain language: what started it, what it planned, who decided
        what, what was applied, how it ended and why."""
        return self.run_details(run_id).account

    def _account(
        self: Console, run: RunRow, writes: Sequence[WriteRow], timeline: Sequence[AuditRow]
    ) -> RunAccount:
        stage = watch_folder = retry_limit = None
        wf = Workflow.get_or_none(Workflow.name == run.workflow)
        if wf is not None:
            stage = wf.stage
            from sophmate_desktop.domain.workflow_file import definition_from_dict

            try:
                defn = definition_from_dict(wf.definition)
            except Exception:  # an account must not fail on an old definition
                defn = None
            if defn is not None and defn.trigger is not None and defn.trigger.folder:
                watch_folder = os.path.expanduser(defn.trigger.folder)
            if defn is not None:
                retry_limit = defn.retry.limit if defn.retry else 0
        related = self._related_events(run, timeline)
        return build_account(
            run,
            writes,
            timeline,
            related=related,
            stage=stage,
            watch_folder=watch_folder,
            retry_limit=retry_limit,
        )

    def _related_events(self: Console, run: RunRow, timeline: Sequence[AuditRow]) -> list[AuditRow]:
        """Events about the run that are not filed under it: the replay or discard that
        lists it, the pause that held it, the retry that created it."""
        created = next(
            (e for e in timeline if e.action in (AuditAction.RUN_QUEUED, AuditAction.RUN_HELD)),
            None,
        )
        start_id = created.id if created else 0
        fields = queries.AUDIT_ROW_FIELDS
        out: list[AuditRow] = []
        # LIKE narrows the candidates; the runs list in the details decides. `id + 0`:
        # with ANALYZE statistics SQLite walked every event since the run's first
        # (rowid > ?, in ORDER BY order); the (action, id) index reads only decisions.
        decisions = (
            AuditEvent.select(*fields)
            .where(
                AuditEvent.action.in_(HELD_DECISIONS),
                (AuditEvent.id + 0) > start_id,
                AuditEvent.details.coerce(False).contains(str(run.id)),
            )
            .order_by(AuditEvent.id + 0)
            .limit(50)
            .tuples()
        )
        decision = next(
            (AuditRow(*row) for row in decisions if run.id in ((row[-1] or {}).get("runs") or [])),
            None,
        )
        if decision is not None:
            out.append(decision)
        if decision is not None or run.status == RunStatus.HELD:
            pauses = AuditEvent.select(*fields).where(
                AuditEvent.action.in_(PAUSE_ACTIONS),
                AuditEvent.id > start_id,
                (AuditEvent.action == AuditAction.GLOBAL_PAUSED)
                | (AuditEvent.subject == run.category),
            )
            if decision is not None:
                pauses = pauses.where(AuditEvent.id < decision.id)
            out += [AuditRow(*r) for r in pauses.order_by(AuditEvent.id.desc()).limit(20).tuples()]
        origin = created.details.get("retry_of") if created else None
        if origin:
            retried = (
                AuditEvent.select(*fields)
                .where(AuditEvent.action == AuditAction.RUN_RETRIED, AuditEvent.run == origin)
                .order_by(AuditEvent.id)
                .tuples()
            )
            out += [AuditRow(*r) for r in retried if (r[-1] or {}).get("new_run") == run.id]
        return out

    def retry_run(self: Console, run_id: int, reason: str | None = None) -> RunRow:
        """Queue a new attempt of a failed run's trigger (the same file) as a new run.

        Refused when the run did not fail, when some of its writes were already
        applied (planning again would repeat them: retry the failed writes instead),
        and, outside a dry run, when the workflow is not enabled. Under a kill switch
        the new run is held, like any run that arrives while paused."""
        reason = reason.strip() if reason and reason.strip() else None
        with self.transaction():
            run = Run.get_or_none(Run.id == run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}")
            if run.status != RunStatus.FAILED:
                raise Conflict(f"run {run_id} is {run.status}; only failed runs can be retried")
            applied = (
                Write.select()
                .where(Write.run == run_id, Write.status == WriteStatus.APPLIED.value)
                .count()
            )
            if applied:
                raise PolicyRefused(
                    f"run {run_id} cannot be retried as a whole: {applied} of its writes "
                    "were already applied and would be planned again; retry its failed "
                    "writes from the inbox instead"
                )
            wf_model = Workflow.get_by_id(run.workflow_id)
            wf = load_workflow(wf_model)
            mode = min(run.mode, wf.stage, key=MODE_ORDER.index)
            if mode != "dry_run" and not wf.enabled:
                raise PolicyRefused(
                    f"{wf.name} is not enabled: enable it before retrying run {run_id}"
                )
            blocked = workflow_block(wf, switch_states(self.db))
            status = RunStatus.HELD if blocked else RunStatus.QUEUED
            new = Run.create(
                workflow=wf.id,
                revision=wf.revision,
                trigger_kind="retry",
                trigger_path=run.trigger_path,
                trigger_size=run.trigger_size,
                trigger_mtime=run.trigger_mtime,
                trigger_hash=run.trigger_hash,
                mode=mode,
                status=status.value,
                queued_at=utcnow(),
                created_by=self.actor,
            )
            self.audit(
                AuditAction.RUN_RETRIED,
                subject=f"run {run_id}",
                category=wf.category,
                workflow=wf.name,
                run=run_id,
                reason=reason,
                details={"new_run": new.id, "status": status.value},
            )
            self.audit(
                AuditAction.for_run(status),
                subject=f"run {new.id}",
                category=wf.category,
                workflow=wf.name,
                run=new.id,
                reason=blocked,
                details={
                    "trigger": "retry",
                    "retry_of": run_id,
                    "path": run.trigger_path,
                    "size": run.trigger_size,
                    "sha256": run.trigger_hash,
                    "mode": mode,
                },
            )
            self._pending_events.append(Event(EventKind.RUNS_CREATED, {"runs": [new.id]}))
        return queries.get_run_row(new.id)

    # Audit -----------------------------------------------------------------

    def audit_page(
        self: Console,
        offset: int,
        limit: int,
        sort_key: str | None = None,
        descending: bool = True,
        *,
        after: int | None = None,
        **filters: Any,
    ) -> list[AuditRow]:
        """One page of audit events in id order (newest first by default), filtered in
        SQL by workflow, actor, action ("write.*" for a prefix), category, run,
        since/until. `after` is the last id already shown: the page continues from it
        (keyset) and `offset` is ignored; without it, `offset` rows are skipped."""
        if sort_key not in (None, "id"):
            raise BadInput(f"sort: audit events sort by id only, not {sort_key!r}")
        given = {k: v for k, v in filters.items() if v not in (None, "")}
        query = queries.audit_query(**given)
        by_time = not given.keys() & {"workflow", "actor", "action", "run"} and bool(
            given.keys() & {"category", "since", "until"}
        )
        if by_time:
            # The (category, at) and (at) indexes keep rows in time order, which is id
            # order (events are appended in time); ORDER BY id would sort every match.
            # Their pages are skipped by offset: the keyset is on id alone.
            at, tie = AuditEvent.at, AuditEvent.id
            order = (at.desc(), tie.desc()) if descending else (at.asc(), tie.asc())
        else:
            if after is not None:
                query = query.where(AuditEvent.id < after if descending else AuditEvent.id > after)
                offset = 0
            order = (AuditEvent.id.desc() if descending else AuditEvent.id.asc(),)
        query = query.select(*queries.AUDIT_ROW_FIELDS).order_by(*order).limit(limit)
        if offset:
            query = query.offset(offset)
        return [AuditRow(*row) for row in query.tuples()]

    def audit_event_text(self: Console, event: AuditRow) -> str:
        """One event as a person reads it: its fields, then its details as JSON.
        Secret values never belong in the trail; any this process knows are masked."""
        lines = [
            f"Event {event.id} at {event.at}",
            f"Actor: {event.actor}",
            f"Action: {event.action}",
        ]
        for label, value in (
            ("Subject", event.subject),
            ("Category", event.category),
            ("Workflow", event.workflow),
            ("Run", event.run),
            ("Reason", event.reason),
        ):
            if value not in (None, ""):
                lines.append(f"{label}: {value}")
        details = json.dumps(event.details or {}, indent=2, sort_keys=True, ensure_ascii=False)
        lines += ["", "Details:", details]
        return mask_known_values("\n".join(lines))

    def history_choices(self: Console, audit: bool = True) -> HistoryChoices:
        """Values the filters offer; actors and actions (from the latest events) only
        when `audit` is asked for."""
        actors, actions = {self.actor}, {a.value for a in AuditAction}
        if audit:
            recent = (
                AuditEvent.select(AuditEvent.actor, AuditEvent.action)
                .order_by(AuditEvent.id.desc())
                .limit(RECENT_EVENTS)
            )
            for actor, action in recent.tuples():
                actors.add(actor)
                actions.add(action)
        return HistoryChoices(
            workflows=tuple(
                w for (w,) in Workflow.select(Workflow.name).order_by(Workflow.name).tuples()
            ),
            categories=tuple(
                c for (c,) in Category.select(Category.name).order_by(Category.name).tuples()
            ),
            actors=tuple(sorted(actors)),
            actions=tuple(sorted(actions)),
        )

    def export_audit_file(self: Console, path: str | Path, fmt: str, **filters: Any) -> int:
        """Export the events matching `filters` (oldest first) to `path`, replaced
        atomically so a failed export never leaves half a file. Returns the count."""
        target = Path(path).expanduser()
        if not target.parent.is_dir():
            raise BadInput(f"{target.parent}: no such folder")
        filters = {k: v for k, v in filters.items() if v not in (None, "")}
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            newline = "" if fmt == "csv" else None
            with open(fd, "w", encoding="utf-8", newline=newline) as handle:
                count = self.export_audit(fmt, handle, **filters)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return count
