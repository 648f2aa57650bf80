"""The command line's argument parser: every command, its options and its help text.

Each leaf parser carries its handler as `func`; the handlers live in one module per
noun (cli_workflow, cli_switches, cli_inbox, cli_history, cli_settings, cli_engine),
named here and imported only when their command runs (`_Lazy`): building the parser
imports no console, store or engine, so `--version` and `--help` start fast and a
command pays only for what it uses.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sophmate_desktop import __version__, cli_engine, cli_team
from sophmate_desktop import cli_format as fmt
from sophmate_desktop.domain.enums import EffectKind, ReviewKind, Stage

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

DESCRIPTION = """\
SophMate Desktop: run operations automation safely. Workflows run read-only
first, then in staging, then in production; their writes wait in an approval
inbox; kill switches stop whole categories at once; every step is audited.
Without a command the desktop window opens."""

EPILOG = """\
examples:
  sophmate-desktop init
  sophmate-desktop workflow import invoice-intake.yaml
  sophmate-desktop workflow show invoice-intake
  sophmate-desktop inbox list --category finance
  sophmate-desktop inbox approve 41 42 43 --comment "checked the totals"
  sophmate-desktop category pause finance --reason "bank API incident"
  sophmate-desktop category resume finance --reason "incident over" --replay
  printf '%s\\n' "$SMTP_PASSWORD" | sophmate-desktop secret set supplier-smtp
  sophmate-desktop --db postgresql://ops@db.example:5432/sophmate audit verify

exit codes: 0 done, 2 bad input, 3 refused by policy (kill switch, checklist,
four eyes, graduation), 10 database unreachable, 11 database busy (locked by
another process), 12 database read-only (for a write), 13 disk full, 14 database
corrupt (see `db restore`), 130 interrupted, 1 anything else."""

# Each command returns the text for stdout, or (text, exit code).
Handler = Callable[["Console", argparse.Namespace], "str | tuple[str, int]"]


class _Lazy:
    """`module.name`, imported on the first call (a handler, or a fetch of `listing`)."""

    def __init__(self, module: str, name: str, *args: Any) -> None:
        self.module, self.name, self.args = module, name, args

    def __call__(self, *call_args: Any) -> Any:
        target = getattr(importlib.import_module(f"sophmate_desktop.{self.module}"), self.name)
        if self.args:  # a factory: switches_in("global", ...) builds the fetch
            target = target(*self.args)
        return target(*call_args)


def _noun(module: str) -> Any:
    """An object whose attributes are lazy handlers of `module` (cli_switches, ...)."""
    return type("Noun", (), {"__getattr__": lambda self, name: _Lazy(module, name)})()


workflow = _noun("cli_workflow")
switches = _noun("cli_switches")
inbox = _noun("cli_inbox")
history = _noun("cli_history")
settings = _noun("cli_settings")
db_files = _noun("cli_db")
FOUR_EYES_VALUES = ("on", "off", "auto")
# The kill-switch nouns' handlers use only the switch operations (and the busy wait):
# their console is made of those groups alone (`args.console`, see cli._console_class),
# so that a pause during an incident imports nothing else of the console.
SWITCHES_CONSOLE = "switches"  # cli_settings.FOUR_EYES_VALUES' keys


def listing(
    fetch: Callable[[Console, argparse.Namespace], list], columns: tuple, empty: str
) -> Handler:
    """A list command: a table, or a JSON array of row.to_dict() with --json."""

    def handler(c: Console, a: argparse.Namespace) -> str:
        rows = fetch(c, a)
        return fmt.rows_json(rows) if a.json else fmt.table_or(rows, columns, empty)

    return handler


def _group(sub: Any, name: str, help_text: str, **defaults: Any) -> Any:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(**defaults)
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
    text = "import (or update) a workflow from a YAML file"
    p = _leaf(g, "import", workflow.cmd_workflow_import, text, json_flag=True)
    p.add_argument("file", metavar="FILE", help="the workflow file (YAML)")
    p = _leaf(g, "export", workflow.cmd_workflow_export, "write a workflow as YAML")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    text = "list workflows and their checklists"
    p = _leaf(g, "list", workflow.cmd_workflow_list, text, json_flag=True)
    p.add_argument(
        "--escalated",
        action="store_true",
        help="only the escalated workflows, with the reasons (as on the dashboard)",
    )
    text = "show a workflow, its missing checklist items and its promotion status"
    p = _leaf(g, "show", workflow.cmd_workflow_show, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    text = "enable a workflow (refused until its production checklist holds)"
    p = _leaf(g, "enable", workflow.cmd_workflow_enable, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--create-folder",
        action="store_true",
        help="create its watched folder when it does not exist (else enable is refused)",
    )
    p = _leaf(g, "disable", workflow.cmd_workflow_disable, "disable a workflow", json_flag=True)
    p.add_argument("name", metavar="NAME")
    _reason(p, required=False)
    for verb, handler in (
        ("pause", workflow.cmd_workflow_pause),
        ("resume", workflow.cmd_workflow_resume),
    ):
        p = _leaf(g, verb, handler, f"{verb} one workflow (its own kill switch)", json_flag=True)
        p.add_argument("name", metavar="NAME")
        _reason(p)
    held = p.add_mutually_exclusive_group()
    held.add_argument("--replay", action="store_true", help="queue its held runs again")
    held.add_argument("--discard", action="store_true", help="discard its held runs")
    p.add_argument(
        "--record-review",
        action="store_true",
        help="when its automatic pause made a review due, record it (notes: the reason)",
    )
    text = "move a workflow to another stage"
    p = _leaf(g, "promote", workflow.cmd_workflow_promote, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--to", required=True, choices=[s.value for s in Stage], help="the stage")
    text = "show what an edited workflow file would change on the last inputs (writes nothing)"
    p = _leaf(g, "preview", workflow.cmd_workflow_preview, text, json_flag=True)
    p.add_argument("file", metavar="FILE", help="the edited workflow file (YAML)")
    p.add_argument(
        "--last", type=int, default=10, metavar="N", help="replay the last N inputs (default 10)"
    )
    cli_engine.add_workflow_run(g, _leaf)


def _add_category(sub: Any) -> None:
    text = "kill switches of categories (and of everything: --all)"
    g = _group(sub, "category", text, console=SWITCHES_CONSOLE)
    fetch = _Lazy("cli_switches", "switches_in", "global", "category")
    categories = listing(fetch, fmt.SWITCH_COLUMNS, "No categories.")
    _leaf(g, "list", categories, "list categories and whether they run", json_flag=True)
    for verb, handler in (
        ("pause", switches.cmd_category_pause),
        ("resume", switches.cmd_category_resume),
    ):
        text = f"{verb} a category, or all automation with --all"
        p = _leaf(g, verb, handler, text, json_flag=True)
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
    p = _leaf(g, "budget", switches.cmd_category_budget, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--per-day", type=float, metavar="X", help="budget per UTC day")
    p.add_argument("--per-month", type=float, metavar="Y", help="budget per UTC month")
    p.add_argument("--clear", action="store_true", help="remove both budgets")


def _add_effect_and_held(sub: Any) -> None:
    text = "kill switches of kinds of effect (all e-mail, all HTTP, ...)"
    g = _group(sub, "effect", text, console=SWITCHES_CONSOLE)
    effects = listing(
        _Lazy("cli_switches", "switches_in", "effect"), fmt.SWITCH_COLUMNS, "No effect switches."
    )
    _leaf(g, "list", effects, "list effect switches", json_flag=True)
    kinds = [k.value for k in EffectKind]
    for verb, handler in (
        ("pause", switches.cmd_effect_pause),
        ("resume", switches.cmd_effect_resume),
    ):
        p = _leaf(g, verb, handler, f"{verb} every write of one kind of effect", json_flag=True)
        p.add_argument("kind", metavar="KIND", choices=kinds, help=", ".join(kinds))
        _reason(p)

    g = _group(
        sub, "held", "runs held while paused: replay or discard them", console=SWITCHES_CONSOLE
    )
    held_runs = listing(lambda c, a: c.list_held(), fmt.RUN_COLUMNS, "No held runs.")
    _leaf(g, "list", held_runs, "list held runs", json_flag=True)
    for verb, handler in (
        ("replay", switches.cmd_held_replay),
        ("discard", switches.cmd_held_discard),
    ):
        p = _leaf(g, verb, handler, f"{verb} held runs", json_flag=True)
        p.add_argument("ids", nargs="*", type=fmt.positive_int, metavar="ID")
        p.add_argument("--all", action="store_true", help="every held run")
        _reason(p, required=False)


def _add_inbox(sub: Any) -> None:
    g = _group(sub, "inbox", "the approval inbox: writes waiting for a person")
    rows = listing(inbox.inbox_rows, fmt.INBOX_COLUMNS, "The inbox is empty.")
    p = _leaf(g, "list", rows, "list pending and interrupted writes", json_flag=True)
    p.add_argument("--all", action="store_true", help="writes in every status")
    p.add_argument("--category", metavar="C")
    p.add_argument("--workflow", metavar="W")
    p.add_argument("--kind", metavar="K", help="the action, e.g. send_email")
    p.add_argument("--limit", type=fmt.positive_int, default=500, metavar="N")
    text = "show one write: its facts and its preview as text (diff, e-mail, request, argv)"
    p = _leaf(g, "show", inbox.cmd_inbox_show, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="ID")
    text = "approve writes (one line per write)"
    p = _leaf(g, "approve", inbox.cmd_inbox_approve, text, json_flag=True)
    p.add_argument("ids", nargs="+", type=fmt.positive_int, metavar="ID")
    p.add_argument("--comment", metavar="T")
    text = "reject writes (the comment says why)"
    p = _leaf(g, "reject", inbox.cmd_inbox_reject, text, json_flag=True)
    p.add_argument("ids", nargs="+", type=fmt.positive_int, metavar="ID")
    p.add_argument("--comment", required=True, metavar="T")
    for verb, handler, text in (
        ("mark-applied", inbox.cmd_inbox_mark_applied, "an interrupted write did take effect"),
        ("retry", inbox.cmd_inbox_retry, "apply an interrupted or failed write again"),
    ):
        p = _leaf(g, verb, handler, text, json_flag=True)
        p.add_argument("id", type=fmt.positive_int, metavar="ID")
        p.add_argument("--comment", metavar="T")
    text = "plan the undo of an applied file write: a new pending write (the reverse diff)"
    p = _leaf(g, "undo", inbox.cmd_inbox_undo, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="WRITE")


def _add_runs_and_review(sub: Any) -> None:
    g = _group(sub, "runs", "run history")
    runs = listing(history.runs_with_errors, fmt.RUN_COLUMNS, "No runs.")
    p = _leaf(g, "list", runs, "list runs, newest first", json_flag=True)
    p.add_argument("--workflow", metavar="NAME")
    p.add_argument("--limit", type=fmt.positive_int, default=100, metavar="N")
    text = "show a run, its writes and its audit timeline"
    p = _leaf(g, "show", history.cmd_runs_show, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="ID")

    text = "run a failed run's trigger again, as a new run (the engine picks it up)"
    p = _leaf(g, "retry", history.cmd_runs_retry, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="ID")
    _reason(p, required=False)
    text = "plan the undo of a run's applied file writes, newest first (they go to the inbox)"
    p = _leaf(g, "undo", history.cmd_runs_undo, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="RUN")

    g = _group(sub, "reviews", "reviews that are due")
    due = listing(lambda c, a: c.reviews_due(), fmt.REVIEW_DUE_COLUMNS, "No reviews are due.")
    _leaf(g, "due", due, "list due and overdue reviews, overdue first", json_flag=True)

    g = _group(sub, "notifications", "notices, and whether they reached people outside")
    text = "list notices newest first, with each delivery: target, sent or failed and why"
    p = _leaf(g, "list", history.cmd_notifications_list, text, json_flag=True)
    p.add_argument("--limit", type=fmt.positive_int, default=50, metavar="N")
    text = "acknowledge a notice: you have seen it and take it from here (audited)"
    p = _leaf(g, "ack", history.cmd_notifications_ack, text, json_flag=True)
    p.add_argument("id", type=fmt.positive_int, metavar="ID")
    p.add_argument("--comment", metavar="T")

    p = _leaf(sub, "review", history.cmd_review, "record a review of a workflow", json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--kind", required=True, choices=[k.value for k in ReviewKind])
    p.add_argument("--notes", metavar="T")
    p.add_argument(
        "--runs",
        metavar="ID,ID",
        help="the finished runs this review covers (default: the successful unreviewed ones)",
    )


def _add_audit(sub: Any) -> None:
    g = _group(sub, "audit", "the hash-chained audit trail")
    events = listing(
        lambda c, a: c.list_audit(limit=a.limit, **history.audit_filters(a)),
        fmt.AUDIT_COLUMNS,
        "No audit events match.",
    )
    p = _leaf(g, "list", events, "list audit events, newest first", json_flag=True)
    p.add_argument("--limit", type=fmt.positive_int, default=100, metavar="N")
    e = _leaf(g, "export", history.cmd_audit_export, "export audit events, oldest first")
    e.add_argument("--format", required=True, choices=["jsonl", "csv"])
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    for parser in (p, e):
        parser.add_argument("--workflow", metavar="W")
        parser.add_argument("--actor", dest="filter_actor", metavar="A", help="who acted")
        parser.add_argument("--action", metavar="X", help="e.g. write.approved or write.*")
        parser.add_argument("--category", metavar="C")
        parser.add_argument("--since", type=fmt.iso_time, metavar="ISO", help="from (UTC)")
        parser.add_argument("--until", type=fmt.iso_time, metavar="ISO", help="before (UTC)")
    text = "check the chain, its checkpoints, MACs and the state it implies (exit 1 if not)"
    v = _leaf(g, "verify", history.cmd_audit_verify, text, json_flag=True)
    v.add_argument(
        "--export", metavar="FILE", help="verify an exported copy (audit export --format jsonl)"
    )
    v.set_defaults(alone_if=("export", history.cmd_audit_verify_export))  # opens no database
    text = "also copy each checkpoint to a folder or POST it to an http(s) URL ('' stops)"
    m = _leaf(g, "checkpoint-mirror", history.cmd_audit_mirror, text)
    m.add_argument("target", metavar="FOLDER|URL")


def _add_settings(sub: Any) -> None:
    text = "create the database named by --db (or the default one), or update its schema"
    _leaf(sub, "init", settings.cmd_init, text)
    g = _group(sub, "secret", "secrets in the OS keyring (values never enter the database)")
    text = "store a secret: one line from stdin, or typed without echo at a terminal"
    _leaf(g, "set", settings.cmd_secret_set, text).add_argument("name", metavar="NAME")
    p = _leaf(g, "delete", settings.cmd_secret_delete, "delete a secret")
    p.add_argument("name", metavar="NAME")
    secrets = listing(lambda c, a: c.list_secrets(), fmt.SECRET_COLUMNS, "No secrets.")
    _leaf(g, "list", secrets, "list secret names (never values)", json_flag=True)

    g = _group(sub, "connection", "providers the actions use: SMTP, HTTP, commands, AI (llm)")
    connections = listing(
        lambda c, a: c.list_connections(), fmt.CONNECTION_COLUMNS, "No connections."
    )
    _leaf(g, "list", connections, "list connections", json_flag=True)
    text = "create or change a connection (a change pauses the workflows that use it)"
    p = _leaf(g, "set", settings.cmd_connection_set, text, json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--kind", required=True, choices=["smtp", "http", "command", "llm"])
    p.add_argument("--settings", required=True, type=fmt.json_object, metavar="JSON")
    p.add_argument("--staging-settings", type=fmt.json_object, metavar="JSON")
    p.add_argument("--secret-ref", metavar="NAME", help="the secret the connection uses")

    g = _group(sub, "settings", "settings")
    text = "four eyes: who last changed a workflow may not approve its writes"
    p = _leaf(g, "four-eyes", settings.cmd_settings_four_eyes, text)
    choices = list(FOUR_EYES_VALUES)
    p.add_argument("value", nargs="?", choices=choices, help="omit to show it")
    text = "the SMTP connection that email: notice targets go through"
    p = _leaf(g, "notify-email", settings.cmd_settings_notify_email, text)
    p.add_argument("connection", nargs="?", metavar="CONNECTION", help="omit to show it")
    p.add_argument("--clear", action="store_true", help="no connection for e-mail notices")
    text = "how many different people approve each customer-facing write (default 1)"
    p = _leaf(g, "customer-facing-approvers", settings.cmd_settings_customer_approvers, text)
    p.add_argument("value", nargs="?", type=fmt.positive_int, metavar="N", help="omit to show it")
    text = "how long a run may plan before it fails, in seconds (default 30)"
    p = _leaf(g, "plan-timeout", settings.cmd_settings_plan_timeout, text)
    p.add_argument("seconds", nargs="?", type=float, metavar="S", help="omit to show it")
    text = "how many days previous file contents are kept for undo (default 30)"
    p = _leaf(g, "undo-retention", settings.cmd_settings_undo_retention, text)
    p.add_argument("days", nargs="?", type=fmt.positive_int, metavar="DAYS", help="omit to show it")


def _add_engine(sub: Any) -> None:
    cli_engine.add_commands(sub, _leaf)


def _add_team(sub: Any) -> None:
    cli_team.add_commands(sub, _leaf)


def _add_db_files(sub: Any) -> None:
    _add_db(sub, _leaf)


# Each builder and the commands it adds, in the order `--help` lists them. Parsing a
# command builds only its own builder's parsers: the whole tree is ~60 parsers, a
# sizeable part of a short command's start-up (argparse looks up every help text in
# gettext's catalogues). test_cli_parser checks this table against what each adds.
BUILDERS: tuple[tuple[Callable[[Any], None], tuple[str, ...]], ...] = (
    (_add_workflow, ("workflow",)),
    (_add_category, ("category",)),
    (_add_effect_and_held, ("effect", "held")),
    (_add_inbox, ("inbox",)),
    (_add_runs_and_review, ("runs", "reviews", "notifications", "review")),
    (_add_audit, ("audit",)),
    (_add_settings, ("init", "secret", "connection", "settings")),
    (_add_engine, ("engines", "engine", "demo")),
    (_add_team, ("team",)),
    (_add_db_files, ("db",)),
)
_GLOBAL_WITH_VALUE = ("--db", "--actor")


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of `argv` when it can be told without argparse, else None
    (then the whole parser is built: for --help, --version and every usage error)."""
    tokens = iter(argv)
    for token in tokens:
        if not token.startswith("-"):
            return token
        if "=" in token:
            continue
        # argparse also takes an unambiguous prefix of a long option (--ac for --actor)
        named = [o for o in _GLOBAL_WITH_VALUE if len(token) > 2 and o.startswith(token)]
        if len(named) != 1:
            return None
        next(tokens, None)
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments to parse, only the parsers of their command."""
    command = None if argv is None else command_of(argv)
    builders = [b for b, commands in BUILDERS if command in commands]
    if argv is not None and list(argv) == ["--version"]:
        builders = [lambda sub: None]  # argparse prints the version before any command
    parser = argparse.ArgumentParser(
        prog=fmt.PROG,
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
        "--actor",
        type=fmt.actor,
        metavar="NAME",
        help="SQLite: act as NAME, audited as 'as NAME by OS-USER' (default: the OS user); "
        "refused on PostgreSQL, where the login acts",
    )
    parser.add_argument("--version", action="version", version=f"{fmt.PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for build in builders or [b for b, _ in BUILDERS]:
        build(sub)
    return parser


def _add_db(sub: Any, leaf: Any) -> None:
    """The `db` noun; its handlers take only the arguments (`opens=False`)."""
    g = sub.add_parser("db", help="the SQLite file: backups, restore, integrity check")
    g = g.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = "take a backup now (online, verified; the newest N are kept)"
    leaf(g, "backup", db_files.cmd_db_backup, text, json_flag=True).set_defaults(opens=False)
    text = "list the backups, newest first, with whether each passed its check"
    leaf(g, "backups", db_files.cmd_db_backups, text, json_flag=True).set_defaults(opens=False)
    text = "run the full integrity check (PRAGMA integrity_check)"
    leaf(g, "check", db_files.cmd_db_check, text).set_defaults(opens=False)
    text = (
        "replace the database with a backup (default: the newest verified one); the "
        "current file is kept as NAME.corrupt-TIME; refused while an engine runs on it"
    )
    p = leaf(g, "restore", db_files.cmd_db_restore, text)
    p.add_argument("backup", nargs="?", metavar="BACKUP", help="a path or a name from `db backups`")
    p.add_argument("--reason", metavar="TEXT", help="why (kept in the audit trail)")
    p.set_defaults(opens=False)
