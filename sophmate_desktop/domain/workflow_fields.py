"""Building blocks of the workflow-file validator (see `workflow_file`).

Error records, field paths, and readers for typed fields and template fields. Each
reader reports a problem to a `Ctx` under the field's path and returns a default, so
one pass finds every error of a document.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, fields
from typing import Any

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.templates import SECRET_NAME, TemplateError, referenced_secrets

DOCUMENT = "(document)"
SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
SLUG_RULE = "use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
# An engine's or a pool's name (a host name by default): letters of either case too.
ENGINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENGINE_NAME_RULE = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
MAX_DEPTH = 64
MAX_VALUES = 100_000  # values one document may expand to (YAML aliases multiply them)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_LAST_SEGMENT = re.compile(r"(?:\.[^.\[\]]*|\[[^\[\]]*\])$")


@dataclass(frozen=True)
class FieldError:
    """One problem in a workflow document, at a field path such as `steps[1].to`."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.line is not None:
            column = f", column {self.column}" if self.column is not None else ""
            where = f" (line {self.line}{column})"
        return f"{self.path}: {self.message}{where}"


class WorkflowFileError(BadInput):
    """Every problem found in a workflow document, one per line."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING: Any = _Marker("<missing>")
BAD: Any = _Marker("<invalid>")  # a value whose error was already reported


# --- paths and messages ---------------------------------------------------------------


def join_path(parent: str, key: object) -> str:
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{short(key)}]"


def index_path(parent: str, i: int) -> str:
    return f"{parent}[{i}]"


def short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({short(value)})"
    if isinstance(value, str):
        return f"text ({short(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    if hasattr(value, "isoformat"):
        return "a date"
    return type(value).__name__


def closest(word: object, choices: tuple[str, ...]) -> str | None:
    if not isinstance(word, str):
        return None
    folded = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=0.6)
    if close:
        return folded[close[0]]
    swapped = [c for c in folded if sorted(c) == sorted(word.lower())]  # "ot" for "to"
    return folded[swapped[0]] if swapped else None


def _suggest(word: object, choices: tuple[str, ...]) -> str:
    close = closest(word, choices)
    if close is not None:
        return f" (did you mean {close!r}?)"
    return f" (expected one of: {', '.join(choices)})"


class Ctx:
    """Collects errors; `lines` maps field paths to YAML lines (None for plain data)."""

    def __init__(self, lines: dict[str, int] | None = None) -> None:
        self.lines = lines
        self.errors: list[FieldError] = []
        self.budget = MAX_VALUES

    def line(self, path: str) -> int | None:
        while self.lines is not None and path:
            if path in self.lines:
                return self.lines[path]
            parent = _LAST_SEGMENT.sub("", path)
            if parent == path:
                break
            path = parent
        return None

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path or DOCUMENT, message, self.line(path)))

    def fail(self) -> WorkflowFileError:
        ordered = sorted(self.errors, key=lambda e: e.line or 0)
        return WorkflowFileError(ordered)


# --- typed fields ---------------------------------------------------------------------


def take(ctx: Ctx, m: dict, path: str, key: str, required: bool, nullable: bool) -> Any:
    """m[key]; MISSING when absent (or null where null means "not given")."""
    value = m.get(key, MISSING)
    if value is None and (nullable or required):
        value = MISSING
    if value is MISSING and required:
        ctx.error(join_path(path, key), "required field is missing")
    return value


def text_field(
    ctx: Ctx,
    m: dict,
    path: str,
    key: str,
    *,
    required: bool = False,
    default: str | None = None,
    pattern: re.Pattern[str] | None = None,
    what: str = "text",
    blank_ok: bool = False,
) -> Any:
    value = take(ctx, m, path, key, required, nullable=True)
    if value is MISSING or value is BAD:
        return default
    p = join_path(path, key)
    if not isinstance(value, str):
        ctx.error(p, f"expected {what}, got {describe(value)}")
    elif not blank_ok and not value.strip():
        ctx.error(p, "must not be empty")
    elif pattern is not None and not pattern.fullmatch(value):
        rule = ENGINE_NAME_RULE if pattern is ENGINE_NAME else SLUG_RULE
        ctx.error(p, f"{short(value)} is not a valid {what}: {rule}")
    else:
        return value
    return default


def int_field(ctx: Ctx, m: dict, path: str, key: str, lo: int, hi: int, default: Any) -> Any:
    value = take(ctx, m, path, key, False, nullable=default is None)
    if value is MISSING or value is BAD:
        return default
    p = join_path(path, key)
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.error(p, f"expected a whole number, got {describe(value)}")
    elif not lo <= value <= hi:
        ctx.error(p, f"must be between {lo} and {hi}, got {short(value)}")
    else:
        return value
    return default


def number_field(
    ctx: Ctx, m: dict, path: str, key: str, lo: float, hi: float, default: Any, above: bool
) -> Any:
    """A number in [lo, hi], or in (lo, hi] when `above`."""
    value = take(ctx, m, path, key, False, nullable=False)
    if value is MISSING or value is BAD:
        return default
    p = join_path(path, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        ctx.error(p, f"expected a number, got {describe(value)}")
    elif isinstance(value, float) and not math.isfinite(value):
        ctx.error(p, f"must be a finite number, got {value}")
    elif (value <= lo if above else value < lo) or value > hi:
        low = f"more than {lo}" if above else f"at least {lo}"
        ctx.error(p, f"must be {low} and at most {hi}, got {short(value)}")
    else:
        return value
    return default


def bool_field(ctx: Ctx, m: dict, path: str, key: str, default: bool) -> bool:
    value = take(ctx, m, path, key, False, nullable=False)
    if value is MISSING or value is BAD:
        return default
    if not isinstance(value, bool):
        ctx.error(join_path(path, key), f"expected true or false, got {describe(value)}")
        return default
    return value


def choice_field(
    ctx: Ctx, m: dict, path: str, key: str, choices: tuple[str, ...], default: Any
) -> Any:
    value = take(ctx, m, path, key, False, nullable=default is None)
    if value is MISSING or value is BAD:
        return default
    if value in choices and isinstance(value, str):
        return value
    close = closest(value, choices)
    hint = f" (did you mean {close!r}?)" if close is not None else ""
    ctx.error(
        join_path(path, key), f"expected one of {', '.join(choices)}, got {describe(value)}{hint}"
    )
    return default


def text_list_field(
    ctx: Ctx,
    m: dict,
    path: str,
    key: str,
    default: tuple[str, ...],
    *,
    required: bool = False,
    min_items: int = 0,
    choices: tuple[str, ...] | None = None,
) -> tuple[str, ...]:
    value = take(ctx, m, path, key, required, nullable=False)
    if value is MISSING or value is BAD:
        return default
    p = join_path(path, key)
    if not isinstance(value, list):
        ctx.error(p, f"expected a list, got {describe(value)}")
        return default
    if len(value) < min_items:
        ctx.error(p, "must list at least one entry")
    seen: set[str] = set()
    for i, item in enumerate(value):
        if item is BAD:
            continue
        ip = index_path(p, i)
        if not isinstance(item, str):
            ctx.error(ip, f"expected text, got {describe(item)}")
        elif not item.strip():
            ctx.error(ip, "must not be empty")
        elif choices is not None and item not in choices:
            ctx.error(ip, f"expected one of {', '.join(choices)}, got {short(item)}")
        elif choices is not None and item in seen:
            ctx.error(ip, f"{item!r} is listed twice")
        else:
            seen.add(item)
    return tuple(x for x in value if isinstance(x, str))


def check_keys(ctx: Ctx, m: dict, path: str, allowed: tuple[str, ...]) -> None:
    for key in m:
        if isinstance(key, str) and key in allowed:
            continue
        if not isinstance(key, str):
            ctx.error(join_path(path, key), f"unknown key {short(key)}: keys are field names")
        else:
            ctx.error(join_path(path, key), "unknown key" + _suggest(key, allowed))


def section(ctx: Ctx, doc: dict, key: str, spec: type) -> dict | None:
    value = doc.get(key)
    if value is None or value is BAD:
        return None
    if not isinstance(value, dict):
        ctx.error(key, f"expected a mapping, got {describe(value)}")
        return None
    check_keys(ctx, value, key, tuple(f.name for f in fields(spec)))
    return value


# --- templates and JSON values --------------------------------------------------------


def check_template(ctx: Ctx, path: str, text: str) -> None:
    """Compile `text` now, so a syntax error surfaces at import."""
    try:
        names = referenced_secrets(text)
    except TemplateError as exc:
        if exc.lineno is None:
            problem = exc.message
        elif ctx.lines is None:
            problem = str(exc)
        elif "\n" in text.rstrip("\n"):
            problem = f"{exc.message} (template line {exc.lineno})"
        else:  # one line: the field's own line says where
            problem = exc.message
        ctx.error(path, f"template error: {problem}")
        return
    for name in sorted(names):
        if not SECRET_NAME.fullmatch(name):
            ctx.error(path, f"template error: {short(name)} is not a valid secret name")


def template_field(
    ctx: Ctx, m: dict, path: str, key: str, *, required: bool = False, blank_ok: bool = True
) -> str | None:
    text = text_field(
        ctx, m, path, key, required=required, what="text (a template)", blank_ok=blank_ok
    )
    if text is not None:
        check_template(ctx, join_path(path, key), text)
    return text


def templates_field(ctx: Ctx, m: dict, path: str, key: str, required: bool) -> None:
    value = take(ctx, m, path, key, required, nullable=True)
    if value is MISSING or value is BAD:
        return
    p = join_path(path, key)
    items = [(p, value)] if isinstance(value, str) else None
    if isinstance(value, list):
        if not value:
            ctx.error(p, "must list at least one address")
        items = [(index_path(p, i), item) for i, item in enumerate(value)]
    if items is None:
        ctx.error(p, f"expected text or a list of text (templates), got {describe(value)}")
        return
    for ip, item in items:
        if item is BAD:
            continue
        if not isinstance(item, str):
            ctx.error(ip, f"expected text (a template), got {describe(item)}")
        elif not item.strip():
            ctx.error(ip, "must not be empty")
        else:
            check_template(ctx, ip, item)


def template_map_field(
    ctx: Ctx, m: dict, path: str, key: str, names: re.Pattern[str], what: str
) -> None:
    value = take(ctx, m, path, key, False, nullable=True)
    if value is MISSING or value is BAD:
        return
    p = join_path(path, key)
    if not isinstance(value, dict):
        ctx.error(p, f"expected a mapping of {what} to text, got {describe(value)}")
        return
    for name, item in value.items():
        ip = join_path(p, name)
        if not isinstance(name, str) or not names.fullmatch(name):
            ctx.error(ip, f"{short(name)} is not a valid {what}")
        elif item is BAD:
            continue
        elif not isinstance(item, str):
            ctx.error(ip, f"expected text (a template), got {describe(item)}")
        else:
            check_template(ctx, ip, item)


def json_field(ctx: Ctx, value: Any, path: str, depth: int = 0) -> None:
    """A JSON value whose text leaves are templates."""
    ctx.budget -= 1
    if value is BAD or ctx.budget < 0:
        return
    if depth > MAX_DEPTH:
        ctx.error(path, "nested too deeply")
    elif isinstance(value, str):
        check_template(ctx, path, value)
    elif isinstance(value, float) and not math.isfinite(value):
        ctx.error(path, f"must be a finite number, got {value}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            json_field(ctx, item, index_path(path, i), depth + 1)
    elif isinstance(value, dict):
        _json_object(ctx, value, path, depth)
    elif not (value is None or isinstance(value, bool | int | float)):
        ctx.error(path, f"expected a JSON value, got {describe(value)}")


def _json_object(ctx: Ctx, value: dict, path: str, depth: int) -> None:
    for key, item in value.items():
        if not isinstance(key, str):
            ctx.error(join_path(path, key), f"a key must be text, got {describe(key)}")
        json_field(ctx, item, join_path(path, key), depth + 1)


def no_secret_in_argv(ctx: Ctx, path: str, arg: str) -> None:
    """Every user can read a process's arguments (/proc/PID/cmdline, ps)."""
    try:
        names = referenced_secrets(arg)
    except TemplateError:
        return  # check_template has named it
    if names:
        listed = ", ".join(sorted(names))
        ctx.error(
            path,
            f"a secret ({listed}) in argv is visible to every user of the machine "
            "(ps, /proc/PID/cmdline): pass it in env (env: {NAME: \"{{ secret.NAME }}\"}) "
            "or on standard input (stdin:)",
        )
