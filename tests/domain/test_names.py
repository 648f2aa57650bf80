"""Names as types: the audit actions are well formed, no source file writes one as a
bare string, and the Audit page's filter offers every one of them."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import sophmate_desktop
from sophmate_desktop.domain.names import AuditAction, EventKind

SOURCE = Path(sophmate_desktop.__file__).parent
ACTIONS = frozenset(a.value for a in AuditAction)
GROUP_VERB = re.compile(r"[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*")


def test_every_audit_action_is_a_lowercase_group_verb() -> None:
    bad = [a.value for a in AuditAction if not GROUP_VERB.fullmatch(a.value)]
    assert bad == []


def test_audit_actions_and_event_kinds_are_unique() -> None:
    # A repeated value would silently make an alias, not a second member.
    for names in (AuditAction, EventKind):
        values = [m.value for m in names.__members__.values()]
        assert len(values) == len(set(values)), names.__name__


def _literals(node: ast.expr) -> Iterator[ast.Constant]:
    """The string constants an argument can evaluate to (`"a" if x else "b"` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)


def bare_actions(source: str, name: str) -> list[str]:
    """`name:line: 'x.y'` for each audit action written as a string literal in an
    `action=` argument or as the first argument of `.audit(`."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Call):
            continue
        args = [kw.value for kw in node.keywords if kw.arg == "action"]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "audit" and node.args:
            args.append(node.args[0])
        for arg in args:
            found += [
                f"{name}:{lit.lineno}: {lit.value!r}"
                for lit in _literals(arg)
                if lit.value in ACTIONS
            ]
    return found


def scan() -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        rel = path.relative_to(SOURCE).as_posix()
        if rel != "domain/names.py":
            found += bare_actions(path.read_text(encoding="utf-8"), rel)
    return found


def test_the_scan_finds_bare_actions_and_passes_members() -> None:
    source = (
        'c.audit("write.approved", subject="w")\n'
        'append(action="run.failed" if bad else "run.succeeded")\n'
        "c.audit(AuditAction.WRITE_APPROVED)\nappend(action=AuditAction.RUN_FAILED)\n"
        'parser.add_argument("--all", action="store_true")\nlog.info("write.applied")\n'
    )
    assert bare_actions(source, "x.py") == [
        "x.py:1: 'write.approved'",
        "x.py:2: 'run.failed'",
        "x.py:2: 'run.succeeded'",
    ]


def test_no_module_writes_a_bare_audit_action() -> None:
    assert scan() == []


def test_audit_filter_offers_every_action_on_an_empty_database(console) -> None:
    actions = console.history_choices().actions
    assert {AuditAction.CATEGORY_BUDGET_SET, AuditAction.NOTICE_ACKNOWLEDGED} <= set(actions)
    assert set(actions) == ACTIONS
