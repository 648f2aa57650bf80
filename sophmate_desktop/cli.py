"""The command line (DESIGN section 11), a thin layer over the console.

`main(argv)` returns the exit code and never calls sys.exit: 0 done, 2 bad input,
3 refused by policy, 1 anything else. Messages go to stderr as "error: ..." or
"refused: ...", one line, without a traceback unless SOPHMATE_DEBUG=1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from sophmate_desktop import __version__, cli_engine
from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console
from sophmate_desktop.domain.enums import EffectKind, ReviewKind, Stage
from sophmate_desktop.domain.errors import BadInput, SophmateError
from sophmate_desktop.domain.workflow_file import WorkflowFileError
from sophmate_desktop.secrets import mask_known_values
from sophmate_desktop.store.database import open_database

PROG = "sophmate-desktop"
DEBUG_ENV = "SOPHMATE_DEBUG"
NEXT_STAGE = {Stage.DRY_RUN: Stage.STAGING, Stage.STAGING: Stage.PRODUCTION}

DESCRIPTION = """\
SophMate Desktop: run operations automation safely. Workflows run read-only
first, then in staging, then in production; their writes wait in an approval
inbox; kill switches stop whole categories at once; every step is audited.
Without a command the desktop window opens."""

EPILOG = """\
examples:
  sophmate-desktop workflow import invoice-intake.yaml
  sophmate-desktop workflow show invoice-intake
  sophmate-desktop inbox list --category finance
  sophmate-desktop inbox approve 41 42 43 --comment "checked the totals"
  sophmate-desktop category pause finance --reason "bank API incident"
  sophmate-desktop category resume finance --reason "incident over" --replay
  printf '%s\\n' "$SMTP_PASSWORD" | sophmate-desktop secret set supplier-smtp
  sophmate-desktop --db postgresql://ops@db.example:5432/sophmate audit verify

exit codes: 0 done, 2 bad input, 3 refused by policy (kill switch, checklist,
four eyes, graduation), 1 anything else."""

Handler = Callable[[Console, argparse.Namespace], "str | tuple[str, int]"]


# --- small helpers -------------------------------------------------------------------


def out(text: str = "") -> None:
    print(text, file=sys.stdout)


def err(prefix: str, message: str, *, one_line: bool = False) -> None:
    """`prefix: message` on stderr; a message of several lines (all problems of a
    workflow file) gives one prefixed line each. Known secret values are masked."""
    text = mask_known_values(str(message))
    lines = [text] if one_line else text.splitlines()
    for line in filter(None, (" ".join(part.split()) for part in lines)):
        print(f"{prefix}: {line}", file=sys.stderr)


def _some_or_all(given: Any, use_all: bool, what: str) -> Any:
    """`given` (ids or a name), or None for --all; refuses neither and both."""
    if use_all and given:
        raise BadInput(f"give {what} or --all, not both")
    if not use_all and not given:
        raise BadInput(f"give {what}, or --all")
    return None if use_all else given


# --- commands: each returns the text for stdout, or (text, exit code) ---------------


def listing(
    fetch: Callable[[Console, argparse.Namespace], list], columns: tuple, empty: str
) -> Handler:
    """A list command: a table, or a JSON array of row.to_dict() with --json."""

    def handler(c: Console, a: argparse.Namespace) -> str:
        rows = fetch(c, a)
        return fmt.rows_json(rows) if a.json else fmt.table_or(rows, columns, empty)

    return handler


def cmd_workflow_import(c: Console, a: argparse.Namespace) -> str:
    try:
        row = c.import_workflow(Path(a.file).expanduser())
    except WorkflowFileError as exc:  # name the file on every problem, like a compiler
        raise BadInput("\n".join(f"{a.file}: {problem}" for problem in exc.errors))
    text = f"saved workflow {row.name} (revision {row.revision}, stage {row.stage})"
    if row.missing_checklist:
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
    if a.json:
        keys = ("action", "connection", "customer_facing")
        steps = [
            {k: getattr(s, k) for k in keys} | {"effect": s.effect_kind.value} for s in defn.steps
        ]
        to = target.value if target else None
        promotion = {"to": to, "allowed": bool(target) and refusal is None, "refusal": refusal}
        return fmt.to_json({"workflow": row.to_dict(), "steps": steps, "promotion": promotion})
    if target is None:
        status = "in production, the last stage"
    else:
        status = f"ready for {target}" if refusal is None else f"not yet: {refusal}"
    return fmt.workflow_text(row, defn.steps, defn.trigger, status)


def cmd_workflow_enable(c: Console, a: argparse.Namespace) -> str:
    row = c.enable_workflow(a.name)
    return f"workflow {row.name} enabled (stage {row.stage})"


def cmd_workflow_disable(c: Console, a: argparse.Namespace) -> str:
    return f"workflow {c.disable_workflow(a.name, a.reason).name} disabled"


def cmd_workflow_promote(c: Console, a: argparse.Namespace) -> str:
    row = c.promote(a.name, a.to)
    return f"workflow {row.name} is now in {row.stage}"


def cmd_category_pause(c: Console, a: argparse.Namespace) -> str:
    name = _some_or_all(a.name, a.all, "a category name")
    return fmt.switch_line(
        c.pause_all(a.reason) if name is None else c.pause_category(name, a.reason)
    )


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
        text += f"\nheld runs wait: `{PROG} held replay --all` or `{PROG} held discard --all`"
    return text


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


def cmd_held_replay(c: Console, a: argparse.Namespace) -> str:
    return (
        f"{c.replay_held(_some_or_all(a.ids, a.all, 'run ids'), a.reason)} held runs queued again"
    )


def cmd_held_discard(c: Console, a: argparse.Namespace) -> str:
    moved = c.discard_held(_some_or_all(a.ids, a.all, "run ids"), a.reason)
    return f"{moved} held runs discarded"


def _decisions(results: list) -> tuple[str, int]:
    """One line per write: ok lines on stdout, refusals on stderr; the worst exit code."""
    lines, worst = [], 0
    for r in results:
        if r.ok:
            lines.append(f"ok: {r.message}")
        else:
            err("refused" if r.exit_code == 3 else "error", r.message)
            worst = max(worst, r.exit_code or 1)
    return "\n".join(lines), worst


def cmd_inbox_mark_applied(c: Console, a: argparse.Namespace) -> str:
    row = c.mark_applied(a.id, a.comment)
    return f"write {row.id} marked applied (run {row.run_id} is {c.get_run(row.run_id).status})"


def cmd_inbox_retry(c: Console, a: argparse.Namespace) -> str:
    row = c.retry_write(a.id, a.comment)
    return f"write {row.id} approved again; the engine applies it on its next pass"


def cmd_runs_show(c: Console, a: argparse.Namespace) -> str:
    """The run's plain-language account first, then its fields, writes and timeline."""
    details = c.run_details(a.id)  # an unknown id: NotFound, "no run with id N", exit 2
    run, writes, timeline = details.run, details.writes, details.timeline
    if not a.json:
        return fmt.run_text(run, writes, timeline, details.account)
    return fmt.to_json(
        {
            "run": run.to_dict(),
            "account": details.account.to_dict(),
            "writes": [w.to_dict() for w in writes],
            "timeline": [e.to_dict() for e in timeline],
        }
    )


def cmd_review(c: Console, a: argparse.Namespace) -> str:
    row = c.record_review(a.name, a.kind, a.notes or "")
    return f"{row.kind} review of {row.workflow} recorded by {row.reviewer}"


def _audit_filters(a: argparse.Namespace) -> dict[str, Any]:
    keys = ("workflow", "action", "category", "since", "until")
    return {"actor": a.filter_actor} | {k: getattr(a, k) for k in keys}


def cmd_audit_export(c: Console, a: argparse.Namespace) -> str:
    with fmt.output(a.output, newline="" if a.format == "csv" else None) as handle:
        count = c.export_audit(a.format, handle, **_audit_filters(a))
    return "" if a.output in (None, "-") else f"exported {count} audit events to {a.output}"


def cmd_audit_verify(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    result = c.verify_audit()
    return result.describe(), 0 if result.ok else 1


def _read_secret(name: str) -> str:
    if sys.stdin is None:
        raise BadInput("secret value: there is no standard input to read it from")
    if sys.stdin.isatty():
        value = getpass.getpass(f"Value of secret {name} (not shown): ")
    else:
        value = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not value:
        raise BadInput("secret value: empty; pipe one line into `secret set NAME` or type it")
    return value


def cmd_secret_set(c: Console, a: argparse.Namespace) -> str:
    c.set_secret(a.name, _read_secret(a.name))
    return f"secret {a.name} stored in the keyring"


def cmd_secret_delete(c: Console, a: argparse.Namespace) -> str:
    c.delete_secret(a.name)
    return f"secret {a.name} deleted"


def cmd_connection_set(c: Console, a: argparse.Namespace) -> str:
    row = c.save_connection(a.name, a.kind, a.settings, a.staging_settings, a.secret_ref)
    return f"connection {row.name} ({row.kind}) saved"


FOUR_EYES_VALUES: dict[str, bool | str] = {"on": True, "off": False, "auto": "auto"}


def cmd_settings_four_eyes(c: Console, a: argparse.Namespace) -> str:
    if a.value is not None:
        c.set_four_eyes(FOUR_EYES_VALUES[a.value])
    stored = c.setting("four_eyes", "auto")
    word = "auto" if stored == "auto" else "on" if stored else "off"
    return f"four eyes: {word} (in effect: {'on' if c.four_eyes_enabled else 'off'})"


def _switches(*scopes: str) -> Callable[[Console, argparse.Namespace], list]:
    return lambda c, a: [r for r in c.list_switches() if r.scope in scopes]


# --- the parser ----------------------------------------------------------------------


def _group(sub: Any, name: str, help_text: str) -> Any:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest="action", metavar="ACTION", required=True)


def _leaf(
    sub: Any, name: str, handler: Handler, help_text: str, *, json_flag: bool = False
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(func=handler)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    return parser


def _reason(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--reason", required=required, metavar="TEXT", help="why (kept in the audit trail)"
    )


def _add_workflow(sub: Any) -> None:
    g = _group(sub, "workflow", "import, export, inspect, enable and promote workflows")
    p = _leaf(g, "import", cmd_workflow_import, "import (or update) a workflow from a YAML file")
    p.add_argument("file", metavar="FILE", help="the workflow file (YAML)")
    p = _leaf(g, "export", cmd_workflow_export, "write a workflow as YAML")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    workflows = listing(lambda c, a: c.list_workflows(), fmt.WORKFLOW_COLUMNS, "No workflows.")
    _leaf(g, "list", workflows, "list workflows and their checklists", json_flag=True)
    text = "show a workflow, its missing checklist items and its promotion status"
    _leaf(g, "show", cmd_workflow_show, text, json_flag=True).add_argument("name", metavar="NAME")
    text = "enable a workflow (refused until its production checklist holds)"
    _leaf(g, "enable", cmd_workflow_enable, text).add_argument("name", metavar="NAME")
    p = _leaf(g, "disable", cmd_workflow_disable, "disable a workflow")
    p.add_argument("name", metavar="NAME")
    _reason(p, required=False)
    p = _leaf(g, "promote", cmd_workflow_promote, "move a workflow to another stage")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--to", required=True, choices=[s.value for s in Stage], help="the stage")
    cli_engine.add_workflow_run(g, _leaf)


def _add_switches(sub: Any) -> None:
    g = _group(sub, "category", "kill switches of categories (and of everything: --all)")
    categories = listing(_switches("global", "category"), fmt.SWITCH_COLUMNS, "No categories.")
    _leaf(g, "list", categories, "list categories and whether they run", json_flag=True)
    for verb, handler in (("pause", cmd_category_pause), ("resume", cmd_category_resume)):
        p = _leaf(g, verb, handler, f"{verb} a category, or all automation with --all")
        p.add_argument("name", nargs="?", metavar="NAME")
        p.add_argument("--all", action="store_true", help=f"{verb} all automation")
        _reason(p)
    held = p.add_mutually_exclusive_group()
    held.add_argument("--replay", action="store_true", help="queue the held runs again")
    held.add_argument("--discard", action="store_true", help="discard the held runs")
    held.add_argument(
        "--by-category",
        action="store_true",
        help="with --all: lift Pause all but keep each category paused, to resume them "
        "one by one (replay or discard their held runs each)",
    )
    text = "show or set a category's cost budgets; when one is spent the category pauses"
    p = _leaf(g, "budget", cmd_category_budget, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--per-day", type=float, metavar="X", help="budget per UTC day")
    p.add_argument("--per-month", type=float, metavar="Y", help="budget per UTC month")
    p.add_argument("--clear", action="store_true", help="remove both budgets")

    g = _group(sub, "effect", "kill switches of kinds of effect (all e-mail, all HTTP, ...)")
    effects = listing(_switches("effect"), fmt.SWITCH_COLUMNS, "No effect switches.")
    _leaf(g, "list", effects, "list effect switches", json_flag=True)
    kinds = [k.value for k in EffectKind]
    for verb, handler in (
        ("pause", lambda c, a: fmt.switch_line(c.pause_effect(a.kind, a.reason))),
        ("resume", lambda c, a: fmt.switch_line(c.resume_effect(a.kind, a.reason))),
    ):
        p = _leaf(g, verb, handler, f"{verb} every write of one kind of effect")
        p.add_argument("kind", metavar="KIND", choices=kinds, help=", ".join(kinds))
        _reason(p)

    g = _group(sub, "held", "runs held while paused: replay or discard them")
    held_runs = listing(lambda c, a: c.list_held(), fmt.RUN_COLUMNS, "No held runs.")
    _leaf(g, "list", held_runs, "list held runs", json_flag=True)
    for verb, handler in (("replay", cmd_held_replay), ("discard", cmd_held_discard)):
        p = _leaf(g, verb, handler, f"{verb} held runs")
        p.add_argument("ids", nargs="*", type=fmt.positive_int, metavar="ID")
        p.add_argument("--all", action="store_true", help="every held run")
        _reason(p, required=False)


def _inbox_rows(c: Console, a: argparse.Namespace) -> list:
    filters = {"category": a.category, "workflow": a.workflow, "kind": a.kind}
    return c.list_inbox(include_all=a.all, limit=a.limit, **filters)


def _add_inbox(sub: Any) -> None:
    g = _group(sub, "inbox", "the approval inbox: writes waiting for a person")
    inbox = listing(_inbox_rows, fmt.WRITE_COLUMNS, "The inbox is empty.")
    p = _leaf(g, "list", inbox, "list pending and interrupted writes", json_flag=True)
    p.add_argument("--all", action="store_true", help="writes in every status")
    p.add_argument("--category", metavar="C")
    p.add_argument("--workflow", metavar="W")
    p.add_argument("--kind", metavar="K", help="the action, e.g. send_email")
    p.add_argument("--limit", type=fmt.positive_int, default=500, metavar="N")
    approve = lambda c, a: _decisions(c.approve(a.ids, a.comment))  # noqa: E731
    p = _leaf(g, "approve", approve, "approve writes (one line per write)")
    p.add_argument("ids", nargs="+", type=fmt.positive_int, metavar="ID")
    p.add_argument("--comment", metavar="T")
    reject = lambda c, a: _decisions(c.reject(a.ids, a.comment))  # noqa: E731
    p = _leaf(g, "reject", reject, "reject writes (the comment says why)")
    p.add_argument("ids", nargs="+", type=fmt.positive_int, metavar="ID")
    p.add_argument("--comment", required=True, metavar="T")
    for verb, handler, text in (
        ("mark-applied", cmd_inbox_mark_applied, "an interrupted write did take effect"),
        ("retry", cmd_inbox_retry, "apply an interrupted or failed write again"),
    ):
        p = _leaf(g, verb, handler, text)
        p.add_argument("id", type=fmt.positive_int, metavar="ID")
        p.add_argument("--comment", metavar="T")


def _add_records(sub: Any) -> None:
    g = _group(sub, "runs", "run history")
    runs = listing(
        lambda c, a: c.list_runs(workflow=a.workflow, limit=a.limit), fmt.RUN_COLUMNS, "No runs."
    )
    p = _leaf(g, "list", runs, "list runs, newest first", json_flag=True)
    p.add_argument("--workflow", metavar="NAME")
    p.add_argument("--limit", type=fmt.positive_int, default=100, metavar="N")
    text = "show a run, its writes and its audit timeline"
    p = _leaf(g, "show", cmd_runs_show, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="ID")

    p = _leaf(sub, "review", cmd_review, "record a review of a workflow")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--kind", required=True, choices=[k.value for k in ReviewKind])
    p.add_argument("--notes", metavar="T")

    g = _group(sub, "audit", "the hash-chained audit trail")
    events = listing(
        lambda c, a: c.list_audit(limit=a.limit, **_audit_filters(a)),
        fmt.AUDIT_COLUMNS,
        "No audit events match.",
    )
    p = _leaf(g, "list", events, "list audit events, newest first", json_flag=True)
    p.add_argument("--limit", type=fmt.positive_int, default=100, metavar="N")
    e = _leaf(g, "export", cmd_audit_export, "export audit events, oldest first")
    e.add_argument("--format", required=True, choices=["jsonl", "csv"])
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    for parser in (p, e):
        parser.add_argument("--workflow", metavar="W")
        parser.add_argument("--actor", dest="filter_actor", metavar="A", help="who acted")
        parser.add_argument("--action", metavar="X", help="e.g. write.approved or write.*")
        parser.add_argument("--category", metavar="C")
        parser.add_argument("--since", type=fmt.iso_time, metavar="ISO", help="from (UTC)")
        parser.add_argument("--until", type=fmt.iso_time, metavar="ISO", help="before (UTC)")
    _leaf(g, "verify", cmd_audit_verify, "check the hash chain (exit 1 if it is broken)")


def _add_settings(sub: Any) -> None:
    g = _group(sub, "secret", "secrets in the OS keyring (values never enter the database)")
    text = "store a secret: one line from stdin, or typed without echo at a terminal"
    _leaf(g, "set", cmd_secret_set, text).add_argument("name", metavar="NAME")
    _leaf(g, "delete", cmd_secret_delete, "delete a secret").add_argument("name", metavar="NAME")
    secrets = listing(lambda c, a: c.list_secrets(), fmt.SECRET_COLUMNS, "No secrets.")
    _leaf(g, "list", secrets, "list secret names (never values)", json_flag=True)

    g = _group(sub, "connection", "providers the actions use: SMTP, HTTP, commands")
    connections = listing(
        lambda c, a: c.list_connections(), fmt.CONNECTION_COLUMNS, "No connections."
    )
    _leaf(g, "list", connections, "list connections", json_flag=True)
    p = _leaf(g, "set", cmd_connection_set, "create or change a connection")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--kind", required=True, choices=["smtp", "http", "command"])
    p.add_argument("--settings", required=True, type=fmt.json_object, metavar="JSON")
    p.add_argument("--staging-settings", type=fmt.json_object, metavar="JSON")
    p.add_argument("--secret-ref", metavar="NAME", help="the secret the connection uses")

    g = _group(sub, "settings", "settings")
    text = "four eyes: who last changed a workflow may not approve its writes"
    p = _leaf(g, "four-eyes", cmd_settings_four_eyes, text)
    p.add_argument("value", nargs="?", choices=list(FOUR_EYES_VALUES), help="omit to show it")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="sqlite:////PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
        "(default: $SOPHMATE_DB, else SQLite in the user data folder)",
    )
    parser.add_argument(
        "--actor", type=fmt.actor, metavar="NAME", help="who acts (default: the OS user)"
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    _add_workflow(sub)
    _add_switches(sub)
    _add_inbox(sub)
    _add_records(sub)
    _add_settings(sub)
    cli_engine.add_commands(sub, _leaf)
    return parser


# --- main ----------------------------------------------------------------------------


def _report(exc: BaseException) -> int:
    if os.environ.get(DEBUG_ENV) == "1":
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, SophmateError):
        err("refused" if exc.exit_code == 3 else "error", str(exc))
        return exc.exit_code
    err("error", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, one_line=True)
    return 1


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests capture stdout)


def main(
    argv: list[str] | None = None,
    *,
    no_command: Callable[[argparse.Namespace], int] | None = None,
) -> int:
    """Run one command; returns the exit code. `no_command(args)` runs when none is given."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        if no_command is not None:
            return no_command(args)
        parser.print_help()
        return 0
    try:
        db = open_database(args.db)
    except Exception as exc:
        code = _report(exc)
        return 2 if code == 1 else code
    try:
        result = args.func(Console(db, actor=args.actor), args)
        text, code = result if isinstance(result, tuple) else (result, 0)
        if text:
            out(text)
        return code
    except KeyboardInterrupt:
        err("error", "interrupted")
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        _silence_stdout()
        return 1
    except Exception as exc:
        return _report(exc)
    finally:
        db.close()


def print_help(file: TextIO | None = None) -> None:
    build_parser().print_help(file)
