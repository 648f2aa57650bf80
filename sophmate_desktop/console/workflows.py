"""Workflow operations: import, export, enable, disable, promote, review."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sophmate_desktop.console.review_runs import chosen_runs, unreviewed_runs
from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import ReviewKind, RunMode, Stage
from sophmate_desktop.domain.errors import BadInput, Conflict, FolderMissing, PolicyRefused
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Category, Review, Run, Workflow
from sophmate_desktop.store.rows import ReviewRow, WorkflowRow
from sophmate_desktop.store.schedules import forget_schedule
from sophmate_desktop.store.transitions import gate

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

MAX_WORKFLOW_FILE_BYTES = 1024 * 1024


def definition_of(wf: Workflow) -> WorkflowDefinition:
    """The parsed definition; parsing (templates included) costs ~1 ms, and the pages
    read every workflow's on each refresh, so it is kept per stored text."""
    return _parsed(json.dumps(wf.definition, sort_keys=True))


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> WorkflowDefinition:
    return _files().definition_from_dict(json.loads(text))


def _files() -> ModuleType:
    """The workflow-file parser, imported on first use: with its yaml and jinja2 it is
    ~60 ms that a command touching no workflow document (a pause) should not pay."""
    from sophmate_desktop.domain import workflow_file

    return workflow_file


def workflows_using(connection: str) -> list[tuple[Workflow, WorkflowDefinition]]:
    """The workflows whose steps use `connection`, by name, with their definitions."""
    using = []
    for wf in Workflow.select().order_by(Workflow.name):
        defn = definition_of(wf)
        if connection in defn.connections:
            using.append((wf, defn))
    return using


def read_workflow_file(path: str | Path) -> bytes:
    p = Path(path).expanduser()
    if not p.is_file():
        raise BadInput(f"{p}: no such file")
    if p.stat().st_size > MAX_WORKFLOW_FILE_BYTES:
        raise BadInput(
            f"{p}: {p.stat().st_size} bytes is too large for a workflow file "
            f"(limit {MAX_WORKFLOW_FILE_BYTES})"
        )
    return p.read_bytes()


def _watched_folder_ready(name: str, defn: WorkflowDefinition, create: bool) -> str | None:
    """The folder made for `defn`'s trigger (None: none needed); FolderMissing when
    it does not exist and may not be made."""
    folder = defn.trigger.folder if defn.trigger is not None else None
    if not folder:
        return None
    path = Path(folder).expanduser()
    if path.is_dir():
        return None
    if not create:
        raise FolderMissing(
            f"{name}: its watched folder {path} does not exist; create it first "
            "(or enable with --create-folder)",
            str(path),
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"{name}: cannot create its watched folder {path}: {exc}") from exc
    return str(path)


def _turns_off_customer_approval(defn: WorkflowDefinition, wf: Workflow | None) -> bool:
    """Whether saving `defn` newly lets customer-facing writes pass the approval gate
    (`approval.customer_facing_override`): an administrator's decision (DESIGN 10)."""
    if defn.approval is None or not defn.approval.customer_facing_override:
        return False
    before = ((wf.definition or {}).get("approval") or {}) if wf is not None else {}
    return not before.get("customer_facing_override", False)


class WorkflowOps:
    def _ensure_category(self: Console, name: str) -> Category:
        cat = Category.get_or_none(Category.name == name)
        if cat is None:
            cat = Category.create(name=name)
            self.audit(AuditAction.CATEGORY_CREATED, subject=name, category=name)
        return cat

    def import_workflow(self: Console, source: str | bytes | Path) -> WorkflowRow:
        """Import YAML text/bytes, or a file path given as Path."""
        data = read_workflow_file(source) if isinstance(source, Path) else source
        defn = _files().parse_workflow_yaml(data)
        return self.save_definition(defn)

    def save_definition(self: Console, defn: WorkflowDefinition) -> WorkflowRow:
        self.require_role(Role.OPERATOR, "changing workflows")
        document = _files().definition_to_dict(defn)
        now = utcnow()
        with self.transaction():
            cat = self._ensure_category(defn.category)
            wf = Workflow.get_or_none(Workflow.name == defn.name)
            if _turns_off_customer_approval(defn, wf):
                self.require_role(
                    Role.ADMINISTRATOR, "turning off the approval of customer-facing writes"
                )
            missing = policy.missing_checklist_items(defn)
            if wf is None:
                wf = Workflow.create(
                    name=defn.name,
                    category=cat,
                    owner=defn.owner,
                    description=defn.description,
                    definition=document,
                    revision=1,
                    stage=Stage.DRY_RUN.value,
                    created_by=self.actor,
                    updated_by=self.actor,
                    created_at=now,
                    updated_at=now,
                )
                self.audit(
                    AuditAction.WORKFLOW_IMPORTED,
                    subject=defn.name,
                    category=defn.category,
                    workflow=defn.name,
                    details={"revision": 1, "missing_checklist": missing, **_leaves(defn)},
                )
            elif wf.definition == document:
                return queries.workflow_row(wf, defn.category, missing)
            else:
                disabled = wf.enabled and bool(missing)
                changed = sorted(
                    k
                    for k in set(document) | set(wf.definition)
                    if document.get(k) != wf.definition.get(k)
                )
                event = self.event(
                    AuditAction.WORKFLOW_UPDATED,
                    subject=defn.name,
                    category=defn.category,
                    workflow=defn.name,
                    details={
                        "revision": wf.revision + 1,
                        "changed": changed,
                        "disabled_missing": missing if disabled else [],
                        **_leaves(defn),
                    },
                )
                moved = gate.change_workflow(
                    self.db,
                    wf.id,
                    events=event,
                    enabled=(True, False) if disabled else None,
                    category=cat,
                    owner=defn.owner,
                    description=defn.description,
                    definition=document,
                    revision=wf.revision + 1,
                    updated_by=self.actor,
                    updated_at=now,
                    gate_tightened_at=now,  # a change tightens a relaxed approval gate
                )
                if moved is None:
                    raise Conflict(f"{defn.name} changed meanwhile; reload it and try again")
                wf = Workflow.get_by_id(wf.id)
        return queries.workflow_row(wf, defn.category, missing)

    def export_workflow(self: Console, name: str) -> str:
        return _files().definition_to_yaml(definition_of(queries.get_workflow(name)))

    def list_workflows(self: Console, category: str | None = None) -> list[WorkflowRow]:
        return [
            queries.workflow_row(wf, cat, policy.missing_checklist_items(definition_of(wf)))
            for wf, cat in queries.list_workflow_models(category)
        ]

    def get_workflow(self: Console, name: str) -> WorkflowRow:
        wf = queries.get_workflow(name)
        return queries.workflow_row(
            wf, wf.category.name, policy.missing_checklist_items(definition_of(wf))
        )

    def get_definition(self: Console, name: str) -> WorkflowDefinition:
        return definition_of(queries.get_workflow(name))

    def enable_workflow(self: Console, name: str, create_folder: bool = False) -> WorkflowRow:
        """Let its trigger start runs. A watched folder that does not exist is refused
        (FolderMissing names it), or made first with `create_folder`."""
        self.require_role(Role.OPERATOR, "enabling workflows")
        with self.transaction():
            wf = queries.get_workflow(name)
            defn = definition_of(wf)
            refusal = policy.checklist_refusal(defn)
            if refusal:
                raise PolicyRefused(refusal)
            if not wf.enabled:
                created = _watched_folder_ready(name, defn, create_folder)
                details = {
                    **(_leaves(defn) or {}),
                    **({"created_folder": created} if created else {}),
                }
                event = self.event(
                    AuditAction.WORKFLOW_ENABLED,
                    subject=name,
                    category=defn.category,
                    workflow=name,
                    details=details or None,
                )
                gate.change_workflow(
                    self.db, wf.id, events=event, enabled=(False, True), updated_at=utcnow()
                )
                forget_schedule(wf.id)
        return self.get_workflow(name)

    def disable_workflow(self: Console, name: str, reason: str | None = None) -> WorkflowRow:
        self.require_role(Role.OPERATOR, "disabling workflows")
        with self.transaction():
            wf = queries.get_workflow(name)
            if wf.enabled:
                event = self.event(
                    AuditAction.WORKFLOW_DISABLED,
                    subject=name,
                    category=wf.category.name,
                    workflow=name,
                    reason=reason,
                )
                gate.change_workflow(
                    self.db, wf.id, events=event, enabled=(True, False), updated_at=utcnow()
                )
        return self.get_workflow(name)

    def graduation_status(self: Console, name: str, target: Stage) -> str | None:
        """The refusal text for promoting `name` to `target`, or None if allowed."""
        wf = queries.get_workflow(name)
        defn = definition_of(wf)
        return policy.graduation_refusal(
            Stage(wf.stage),
            target,
            reviewed_successful_dry_runs=queries.count_reviewed_successful_runs(
                wf.id, RunMode.DRY_RUN.value
            ),
            reviewed_successful_staging_runs=queries.count_reviewed_successful_runs(
                wf.id, RunMode.STAGING.value
            ),
            required_staging_runs=defn.graduation.staging_runs,
            missing_checklist=policy.missing_checklist_items(defn),
        )

    def promote(self: Console, name: str, to: str | Stage) -> WorkflowRow:
        try:
            target = Stage(to)
        except ValueError:
            raise BadInput(f"--to: unknown stage {to!r} (use dry_run, staging or production)")
        self.require_role(Role.OPERATOR, "promoting workflows")
        with self.transaction():
            wf = queries.get_workflow(name)
            refusal = self.graduation_status(name, target)
            if refusal:
                raise PolicyRefused(f"{name}: {refusal}")
            old = wf.stage
            event = self.event(
                AuditAction.WORKFLOW_PROMOTED,
                subject=name,
                category=wf.category.name,
                workflow=name,
                details={"from": old, "to": target.value},
            )
            moved = gate.change_workflow(
                self.db,
                wf.id,
                events=event,
                stage=(old, target),
                updated_at=utcnow(),
                gate_tightened_at=utcnow(),
            )
            if moved is None:
                raise Conflict(f"{name} changed stage meanwhile; reload it and try again")
        return self.get_workflow(name)

    def record_review(
        self: Console,
        name: str,
        kind: str | ReviewKind,
        notes: str = "",
        run_ids: Iterable[int] | None = None,
    ) -> ReviewRow:
        """Record a review; it marks reviewed the runs in `run_ids` (the ones the
        reviewer ticked) or, when None, the successful unreviewed runs."""
        try:
            review_kind = ReviewKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in ReviewKind)
            raise BadInput(f"--kind: unknown review kind {kind!r} (use {allowed})")
        now = utcnow()
        with self.transaction():
            wf = queries.get_workflow(name)
            review = Review.create(
                workflow=wf, reviewer=self.actor, at=now, kind=review_kind.value, notes=notes or ""
            )
            marked = chosen_runs(name, unreviewed_runs(wf.id), run_ids)
            reviewed = 0
            if marked:
                reviewed = (
                    Run.update(reviewed_at=now)
                    .where(Run.id.in_(marked), Run.reviewed_at.is_null())
                    .execute()
                )
            first = review_kind is ReviewKind.FIRST_RUN or bool(reviewed)
            Workflow.update(
                last_reviewed_at=now,
                first_run_reviewed=Workflow.first_run_reviewed | first,
            ).where(Workflow.id == wf.id).execute()
            self.audit(
                AuditAction.REVIEW_RECORDED,
                subject=name,
                category=wf.category.name,
                workflow=name,
                reason=notes or None,
                details={"kind": review_kind.value, "runs_reviewed": reviewed, "runs": marked},
            )
        return ReviewRow(review.id, name, self.actor, now, review_kind.value, notes or "")

    def replace_owner(self: Console, name: str, owner: str) -> WorkflowRow:
        if not owner.strip():
            raise BadInput("owner: must not be empty")
        defn = self.get_definition(name)
        document = _files().definition_to_dict(defn)
        document["owner"] = owner.strip()
        return self.save_definition(_files().definition_from_dict(document))


def _leaves(defn: WorkflowDefinition) -> dict:
    """What a workflow is allowed beyond the default input scope, named in the audit
    events of its saves and enabling (a link resolving outside its watched folder)."""
    if defn.trigger is not None and defn.trigger.follow_links_outside:
        return {"follow_links_outside": True}
    return {}
