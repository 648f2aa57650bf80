"""`workflow` commands: import, export, show, enable, disable, pause, resume, promote,
preview."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console
from sophmate_desktop.console.change_preview import ChangePreview
from sophmate_desktop.console.workflows import read_workflow_file
from sophmate_desktop.domain.enums import Stage
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.workflow_file import WorkflowFileError, parse_workflow_yaml
from sophmate_desktop.store.busy import BusyWait

NEXT_STAGE = {Stage.DRY_RUN: Stage.STAGING, Stage.STAGING: Stage.PRODUCTION}


def cmd_workflow_list(c: Console, a: argparse.Namespace) -> str:
    if a.escalated:
        rows, columns = c.escalations(), fmt.ESCALATION_COLUMNS
        empty = "No escalated workflows."
    else:
        rows, columns, empty = c.list_workflows(), fmt.WORKFLOW_COLUMNS, "No workflows."
    return fmt.rows_json(rows) if a.json else fmt.table_or(rows, columns, empty)


def cmd_workflow_import(c: Console, a: argparse.Namespace) -> str:
    enabled_before = {w.name for w in c.list_workflows() if w.enabled}
    try:
        row = c.import_workflow(Path(a.file).expanduser())
    except WorkflowFileError as exc:  # name the file on every problem, like a compiler
        raise BadInput("\n".join(f"{a.file}: {problem}" for problem in exc.errors))
    if a.json:
        return fmt.to_json(row.to_dict())
    text = f"saved workflow {row.name} (revision {row.revision}, stage {row.stage})"
    if row.name in enabled_before and not row.enabled:
        text += (
            f"\nthis revision fails the production checklist, so {row.name} is now "
            f"DISABLED: missing {', '.join(row.missing_checklist)}"
        )
    elif row.missing_checklist:
        text += f"\nbefore it can be enabled it needs: {', '.join(row.missing_checklist)}"
    return text


def cmd_workflow_export(c: Console, a: argparse.Namespace) -> str:
    text = c.export_workflow(a.name)
    with fmt.output(a.output) as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    return "" if a.output in (None, "-") else f"exported {a.name} to {a.output}"


def cmd_workflow_show(c: Console, a: argparse.Namespace) -> str:
    row = c.get_workflow(a.name)
    defn = c.get_definition(a.name)
    target = NEXT_STAGE.get(Stage(row.stage))
    refusal = c.graduation_status(row.name, target) if target else None
    schedule = c.schedule_of(a.name)
    if a.json:
        keys = ("action", "connection", "customer_facing")
        steps = [
            {k: getattr(s, k) for k in keys} | {"effect": s.effect_kind.value} for s in defn.steps
        ]
        to = target.value if target else None
        promotion = {"to": to, "allowed": bool(target) and refusal is None, "refusal": refusal}
        doc = {"workflow": row.to_dict(), "steps": steps, "promotion": promotion}
        if schedule is not None:
            doc["schedule"] = schedule.to_dict()
        return fmt.to_json(doc)
    if target is None:
        status = "in production, the last stage"
    else:
        status = f"ready for {target}" if refusal is None else f"not yet: {refusal}"
    return fmt.workflow_text(row, defn.steps, defn.trigger, status, schedule)


def cmd_workflow_enable(c: Console, a: argparse.Namespace) -> str:
    row = c.enable_workflow(a.name, create_folder=a.create_folder)
    return (
        fmt.to_json(row.to_dict()) if a.json else f"workflow {row.name} enabled (stage {row.stage})"
    )


def cmd_workflow_disable(c: Console, a: argparse.Namespace) -> str:
    row = c.disable_workflow(a.name, a.reason)
    pending = c.pending_write_count(row.name)
    if a.json:
        return fmt.to_json({**row.to_dict(), "pending_writes_kept": pending})
    text = f"workflow {row.name} disabled"
    if pending:
        text += (
            f"\n{pending} pending writes stay in the inbox: approve or reject them "
            f"(`{fmt.PROG} inbox list`)"
        )
    return text


def cmd_workflow_promote(c: Console, a: argparse.Namespace) -> str:
    row = c.promote(a.name, a.to)
    return fmt.to_json(row.to_dict()) if a.json else f"workflow {row.name} is now in {row.stage}"


def cmd_workflow_pause(c: Console, a: argparse.Namespace) -> str:
    wait = BusyWait(waited=fmt.busy_countdown)  # a kill switch waits for a busy database
    result = c.through_busy(lambda: c.pause_workflow(a.name, a.reason), wait)
    return fmt.to_json(dataclasses.asdict(result)) if a.json else result.message()


def cmd_workflow_resume(c: Console, a: argparse.Namespace) -> str:
    held = "replay" if a.replay else "discard" if a.discard else "keep"
    result = c.resume_workflow(a.name, a.reason, held)  # type: ignore[arg-type]
    recorded = False
    if result.changed and result.review_due and a.record_review:
        c.record_review(a.name, result.review_due, notes=a.reason)
        recorded = True
    if a.json:
        return fmt.to_json({**dataclasses.asdict(result), "review_recorded": recorded})
    text = result.message()
    if recorded:
        text += f"\n{result.review_due} review recorded"
    elif result.changed and result.review_due:
        text += f"\n  {fmt.PROG} review {a.name} --kind {result.review_due}"
    return text


def cmd_workflow_preview(c: Console, a: argparse.Namespace) -> str:
    try:
        edited = parse_workflow_yaml(read_workflow_file(Path(a.file)))
    except WorkflowFileError as exc:
        raise BadInput("\n".join(f"{a.file}: {problem}" for problem in exc.errors))
    result = c.preview_change(edited, last=a.last)
    return fmt.to_json(result.to_dict()) if a.json else preview_text(result)


def preview_text(result: ChangePreview) -> str:
    totals = result.totals()
    lines = [
        f"preview of {result.workflow}: edited definition against revision {result.revision}, "
        f"{totals['inputs']} inputs ({totals['unavailable']} unavailable); nothing written"
    ]
    if not result.inputs:
        lines.append("no recorded inputs with a trigger file to replay")
    for item in result.inputs:
        lines.append(f"run {item.run_id}  {item.path}: {item.summary()}")
        for change in item.changes:
            lines.append(f"  {change.change} {change.kind} {change.target}")
            lines.extend(f"    {line}" for line in change.diff.splitlines())
    return "\n".join(lines)
