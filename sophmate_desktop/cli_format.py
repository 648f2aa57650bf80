"""Text in and out for the command line: argument types, aligned tables, JSON.

No table library: a small column formatter that flattens and truncates long cells,
so a preview with newlines or a long path never breaks the table's alignment.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.run_account import cost_text

PROG = "sophmate-desktop"
MAX_CELL = 48
ELLIPSIS = "…"


def cell(value: Any) -> str:
    """One value as short, single-line text."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Mapping | list | tuple):
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return ", ".join(value) or "-"
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return " ".join(str(value).split())


def iso_minute(at: str | datetime | None) -> str:
    """An audit time ("2026-11-27T10:02:03.123456Z") as "2026-11-27 10:02:03"."""
    if at is None:
        return "-"
    if isinstance(at, datetime):
        return at.strftime("%Y-%m-%d %H:%M:%S")
    return at[:19].replace("T", " ")


def truncate(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


@dataclass(frozen=True)
class Column:
    header: str
    get: Callable[[Any], Any]
    width: int = MAX_CELL  # the most characters a cell may take


def col(header: str, attr: str | None = None, width: int = MAX_CELL) -> Column:
    """A column reading attribute `attr` (default: the header) of each row."""
    name = attr or header
    return Column(header, lambda row: getattr(row, name), width)


def table(rows: Sequence[Any], columns: Sequence[Column]) -> str:
    """Rows as an aligned text table with a header line."""
    cells = [[truncate(cell(c.get(row)), c.width) for c in columns] for row in rows]
    headers = [c.header.upper() for c in columns]
    widths = [
        max([len(headers[i])] + [len(line[i]) for line in cells]) for i in range(len(columns))
    ]
    lines = []
    for line in [headers, *cells]:
        padded = [text.ljust(widths[i]) for i, text in enumerate(line)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def fields(pairs: Iterable[tuple[str, Any]]) -> str:
    """Aligned "label: value" lines for a show command (values are not truncated)."""
    items = [(label, "-" if value is None else cell(value)) for label, value in pairs]
    width = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{(label + ':').ljust(width + 1)} {value}" for label, value in items)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def rows_json(rows: Iterable[Any]) -> str:
    """A JSON array of row.to_dict() (of the dataclass's fields when it has none)."""
    return to_json([r.to_dict() if hasattr(r, "to_dict") else dataclasses.asdict(r) for r in rows])


def err(prefix: str, message: str, *, one_line: bool = False) -> None:
    """`prefix: message` on stderr; a message of several lines (all problems of a
    workflow file) gives one prefixed line each. Known secret values are masked."""
    from sophmate_desktop.secrets import mask_known_values  # keyring: only for a message

    text = mask_known_values(str(message))
    lines = [text] if one_line else text.splitlines()
    for line in filter(None, (" ".join(part.split()) for part in lines)):
        print(f"{prefix}: {line}", file=sys.stderr)


def busy_countdown(seconds: float) -> None:
    """A kill switch waiting for a busy database, on stderr after each attempt."""
    text = f"database busy (locked by another process), retrying… {seconds:.0f} s (Ctrl-C gives up)"
    if sys.stderr.isatty():
        print(f"\r{text}", end="", file=sys.stderr, flush=True)
    else:
        print(text, file=sys.stderr, flush=True)


# --- argument types (errors name the argument: argparse exits 2) ---


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def iso_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time: {text!r} (e.g. 2026-11-27 or 2026-11-27T10:00)"
        )
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def actor(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. \'{"host": "mail"}\'')
    return value


@contextmanager
def output(path: str | None, newline: str | None = None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield sys.stdout
        return
    try:
        handle = open(Path(path).expanduser(), "w", encoding="utf-8", newline=newline)  # noqa: SIM115
    except OSError as exc:
        raise BadInput(f"-o: cannot write {path}: {exc.strerror or exc}")
    with handle:  # opened above so that only opening errors become "bad input"
        yield handle


# --- renderers for the console's rows ----------------------------------------------


def checklist_text(missing: Sequence[str]) -> str:
    return "complete" if not missing else "missing " + ", ".join(missing)


WORKFLOW_COLUMNS = (
    col("name", width=32),
    col("category", width=20),
    col("stage"),
    col("enabled"),
    Column("paused", lambda r: r.paused),
    col("owner", width=20),
    Column("rev", lambda r: r.revision),
    Column("checklist", lambda r: checklist_text(r.missing_checklist), 40),
)

SWITCH_COLUMNS = (
    col("scope"),
    col("name", width=32),
    Column("state", lambda r: "PAUSED" if r.paused else "running"),
    Column("by", lambda r: r.paused_by, 20),
    Column("since", lambda r: r.paused_at),
    Column("reason", lambda r: r.paused_reason, 40),
    Column("held", lambda r: r.held_runs),
)

RUN_COLUMNS = (
    col("id"),
    col("workflow", width=28),
    col("mode"),
    col("status"),
    col("attempt"),
    Column("trigger", lambda r: r.trigger_path or r.trigger_kind, 36),
    col("queued_at"),
    Column("ms", lambda r: r.duration_ms),
    col("writes"),
    col("reviewed"),
    Column("error", lambda r: r.error, 40),
)

WRITE_COLUMNS = (
    col("id"),
    Column("run", lambda r: r.run_id),
    col("workflow", width=24),
    col("category", width=16),
    col("kind", width=16),
    col("target", width=36),
    col("summary", width=40),
    Column("customer", lambda r: r.customer_facing),
    Column("ai", lambda r: getattr(r, "ai_drafted", False)),
    Column("status", lambda r: getattr(r, "status_text", r.status), 40),
    Column("error", lambda r: r.error, 40),
)

# The inbox adds the approvals so far and, for the person listing, why they may not
# approve a write (before they try).
INBOX_COLUMNS = (
    *WRITE_COLUMNS,
    Column(
        "approvals",
        lambda r: f"{r.approvals_given} of {r.approvals_needed}" if r.approvals_needed > 1 else "",
    ),
    Column("you may not approve", lambda r: r.refusal or "", 48),
)

REVIEW_DUE_COLUMNS = (
    col("workflow", width=32),
    col("kind"),
    Column("state", lambda r: "OVERDUE" if r.overdue else "due"),
    Column("since", lambda r: r.due_since),
    col("owner", width=20),
    col("category", width=20),
    col("stage"),
    col("reason", width=60),
)

ESCALATION_COLUMNS = (
    col("workflow", width=32),
    col("category", width=20),
    col("stage"),
    col("owner", width=20),
    Column("reasons", lambda r: "; ".join(r.reasons), 80),
)

AUDIT_COLUMNS = (
    col("id"),
    Column("at", lambda r: iso_minute(r.at)),
    col("actor", width=32),
    col("action", width=28),
    col("subject", width=32),
    Column("workflow", lambda r: r.workflow, 24),
    Column("reason", lambda r: r.reason, 40),
)

CONNECTION_COLUMNS = (
    col("name", width=28),
    col("kind"),
    Column("settings", lambda r: r.settings, 48),
    Column("staging", lambda r: r.staging_settings is not None),
    Column("secret", lambda r: r.secret_ref, 28),
    Column("changed", lambda r: r.changed_at),
    Column("by", lambda r: r.changed_by, 20),
)

SECRET_COLUMNS = (
    col("name", width=64),
    Column("updated", lambda r: r.updated_at),
    Column("by", lambda r: r.updated_by, 20),
)


def table_or(rows: Sequence[Any], columns: Sequence[Column], empty: str) -> str:
    return table(rows, columns) if rows else empty


def switch_line(row: Any) -> str:
    """E.g. "category finance PAUSED by ana: hosting incident (2 held runs)"."""
    what = "all automation" if row.scope == "global" else f"{row.scope} {row.name}"
    if not row.paused:
        text = f"{what} running"
    else:
        text = f"{what} PAUSED by {row.paused_by or 'unknown'}"
        if row.paused_reason:
            text += f": {row.paused_reason}"
    if row.held_runs:
        text += f" ({row.held_runs} held runs)"
    return text


def timeline_line(ev: Any) -> str:
    text = f"{iso_minute(ev.at)}  {ev.actor}  {ev.action}"
    if ev.subject:
        text += f"  {ev.subject}"
    if ev.reason:
        text += f"  - {cell(ev.reason)}"
    return text


def workflow_text(
    row: Any, steps: Sequence[Any], trigger: Any, promotion: str, schedule: Any = None
) -> str:
    paused = "no"
    if row.paused:
        paused = f"yes: {row.paused_reason}" if row.paused_reason else "yes"
    step_text = "; ".join(
        f"{i}. {s.action}"
        + (f" via {s.connection}" if s.connection else "")
        + (" (customer-facing)" if s.customer_facing else "")
        for i, s in enumerate(steps, 1)
    )
    if trigger is None:
        trigger_text = None
    elif trigger.folder:
        trigger_text = f"folder {trigger.folder} ({', '.join(trigger.patterns)})"
    elif schedule is not None:
        trigger_text = f"{schedule.reading}: {schedule.expression} (catch_up {schedule.catch_up})"
    else:
        trigger_text = "manual"
    return fields(
        [
            ("name", row.name),
            ("category", row.category),
            ("owner", row.owner),
            ("description", row.description or None),
            ("stage", row.stage),
            ("enabled", row.enabled),
            ("paused", paused),
            ("revision", row.revision),
            ("failures in a row", row.consecutive_failures),
            ("last reviewed", row.last_reviewed_at),
            ("updated", f"{cell(row.updated_at)} by {row.updated_by}"),
            ("trigger", trigger_text),
            *([("next run", schedule.next_text())] if schedule is not None else []),
            ("steps", step_text or None),
            ("checklist", checklist_text(row.missing_checklist)),
            ("promotion", promotion),
        ]
    )


def with_write_error(run: Any, writes: Iterable[Any]) -> Any:
    """The run, its error filled from its first failed write when it has none of its
    own (a run that fails on a write keeps the error on the write)."""
    if run.error:
        return run
    for w in writes:
        if w.status == "failed" and w.error:
            return dataclasses.replace(
                run, error=f"{w.error} (write {w.id}, {w.kind} to {w.target})"
            )
    return run


PROMPT_SHOWN_CHARS = 600


def _clip(text: str) -> str:
    text = text or ""
    return text if len(text) <= PROMPT_SHOWN_CHARS else text[:PROMPT_SHOWN_CHARS] + " …"


def _indented(text: str) -> str:
    return _clip(text.strip()).replace("\n", "\n            ")


def prompt_lines(prompts: Sequence[Any]) -> list[str]:
    """Each call: what was asked of which model, the answer, tokens, latency, cost."""
    out = []
    for c in prompts:
        head = (
            f"  #{c.seq} step {c.step}{' (' + c.step_name + ')' if c.step_name else ''} "
            f"about {c.about}, attempt {c.attempt}: {c.status}, {c.provider} {c.model}"
        )
        if c.status != "placeholder":
            head += (
                f", {c.tokens_in}+{c.tokens_out} tokens, {c.latency_ms:.0f} ms, "
                f"cost {cost_text(c.cost)}, request {c.request_id or '-'}"
            )
        out.append(head)
        if c.system:
            out.append("    system: " + _indented(c.system))
        out.append("    prompt: " + _indented(c.prompt))
        out.append("    answer: " + _indented(c.answer))
        if c.error:
            out.append(f"    error: {c.error}")
    return out


def run_text(
    run: Any,
    writes: Sequence[Any],
    timeline: Sequence[Any],
    account: Any = None,
    owner: str | None = None,
    rollback: str | None = None,
    prompts: Sequence[Any] = (),
) -> str:
    """`runs show`: the plain-language account (when given), then the run's fields,
    its writes, its prompt calls and its audit timeline."""
    parts = [account.text(), "", "Details:"] if account is not None else []
    parts += [
        fields(
            [
                ("run", run.id),
                ("workflow", f"{run.workflow} (revision {run.revision}, {run.category})"),
                ("owner", owner),
                ("mode", run.mode),
                ("status", run.status),
                ("attempt", run.attempt),
                ("trigger", f"{run.trigger_kind} {run.trigger_path or ''}".strip()),
                ("queued", run.queued_at),
                ("started", run.started_at),
                ("finished", run.finished_at),
                ("duration ms", run.duration_ms),
                ("records", run.affected_records),
                ("bytes read/written", f"{run.bytes_read}/{run.bytes_written}"),
                ("cost", run.cost),
                ("reviewed", run.reviewed),
                ("error", run.error),
                ("rollback", rollback),
            ]
        ),
        "",
        f"Writes ({len(writes)}):",
        table_or(writes, WRITE_COLUMNS, "  none"),
        "",
    ]
    if prompts:
        parts += [f"Prompt calls ({len(prompts)}):", *prompt_lines(prompts), ""]
    parts += [
        f"Timeline ({len(timeline)} audit events):",
    ]
    parts += [f"  {timeline_line(ev)}" for ev in timeline] or ["  none"]
    return "\n".join(parts)
