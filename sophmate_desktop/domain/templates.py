"""Workflow templates: jinja2 in a sandbox with strict undefined variables.

Every template field of a workflow file is compiled at import (`compile_template`),
so a syntax error is reported before anything runs. `render` fails on a missing
variable instead of writing an empty string.

Secrets are used by reference: `{{ secret.NAME }}` (or `{{ secret['NAME'] }}`)
renders the token `${secret:NAME}`, never the value. The engine replaces tokens with
values only when it applies a write (`substitute_secrets`) and masks known values
wherever text is shown (`mask_values`). Text that merely looks like a token (from a
CSV row, or typed literally into a template) is escaped as `${secret!:NAME}` while
rendering, so data can never make the engine insert a secret; `substitute_secrets`
turns the escape back into the literal text. A filter applied to a secret reference
(`{{ secret.NAME | upper }}`) is refused, because it would change the token, not the
value.
"""

from __future__ import annotations

import re
import secrets as _random
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.secret_forms import mask_forms

# The same rule as the keyring store (secrets.py).
SECRET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
SECRET_TOKEN = re.compile(r"\$\{secret:(" + _NAME + r")\}")
# A token, or an escaped literal (`${secret!:`, one more `!` per level of escaping).
_ANY_TOKEN = re.compile(r"\$\{secret(!*):(?:(" + _NAME + r")\})?")
_LITERAL = re.compile(r"\$\{secret(!*):")

_MAX_SEQUENCE = 1_000_000  # longest string/list a `*` may build
_MAX_POWER_BITS = 100_000  # largest integer a `**` may build
MAX_RENDERED_CHARS = 64 * 1024 * 1024  # longest text one template may render
# Pieces are joined this many at a time: a runaway loop then holds a few big strings,
# not a list of millions of tiny ones whose freeing (when a pause stops the render)
# took ~12% of the time it had rendered, with the GIL held.
_JOIN_EVERY = 4096


class TemplateError(BadInput):
    """A template does not compile (syntax error)."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        self.message = message
        self.lineno = lineno
        super().__init__(f"{message} (line {lineno})" if lineno else message)


class TemplateRenderError(BadInput):
    """A template failed while rendering (e.g. an undefined variable)."""


class _Sandbox(SandboxedEnvironment):
    # Intercepting also stops jinja from folding `9 ** 9 ** 9` at compile time.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > _MAX_SEQUENCE
                ):
                    raise SecurityError(f"'*' would build more than {_MAX_SEQUENCE} items")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and max(left.bit_length(), 1) * right > _MAX_POWER_BITS
        ):
            raise SecurityError("'**' would build a number that is too large")
        return super().call_binop(context, operator, left, right)


ENVIRONMENT = _Sandbox(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
)

SHELL_QUOTE = "shell_quote"


def _shell_quote(value: Any) -> str:
    """One POSIX shell word holding `value` verbatim (shlex.quote): the only way a
    template may put data into a shell's `-c` script (domain/argv_shell.py)."""
    text = str(value)
    if "\x00" in text:  # a secret's marker: quoting would hide the token from the check
        raise TemplateRenderError(
            "a secret cannot go through shell_quote: give it to the command another way"
        )
    return shlex.quote(text)


ENVIRONMENT.filters[SHELL_QUOTE] = _shell_quote


@lru_cache(maxsize=1024)
def _compile(text: str) -> jinja2.Template:
    return ENVIRONMENT.from_string(text)


@lru_cache(maxsize=1024)
def _flat_globals(template: jinja2.Template) -> dict[str, Any]:
    return dict(template.globals)


def compile_template(text: str) -> jinja2.Template:
    """The compiled template, or TemplateError naming the problem and its line."""
    if not isinstance(text, str):
        raise TypeError(f"a template is text, not {type(text).__name__}")
    try:
        return _compile(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", exc.lineno)
    except jinja2.TemplateError as exc:
        raise TemplateError(exc.message or type(exc).__name__)
    except RecursionError:
        raise TemplateError("the template is nested too deeply")


@lru_cache(maxsize=1024)
def referenced_names(text: str) -> frozenset[str]:
    """The variables the template reads from its context (`row`, `input`, ...);
    TemplateError on a syntax error."""
    compile_template(text)
    return frozenset(meta.find_undeclared_variables(ENVIRONMENT.parse(text)))


def referenced_secrets(text: str) -> set[str]:
    """Names the template refers to as `secret.NAME` or `secret['NAME']`."""
    compile_template(text)  # raises TemplateError on a syntax error
    names: set[str] = set()
    for node in ENVIRONMENT.parse(text).find_all((nodes.Getattr, nodes.Getitem)):
        if not (isinstance(node.node, nodes.Name) and node.node.name == "secret"):
            continue
        if isinstance(node, nodes.Getattr):
            names.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            names.add(node.arg.value)
    return names


class _SecretRefs:
    """`secret` in a template: each attribute is a marker for the token, not a value."""

    __slots__ = ("_nonce", "_used")

    def __init__(self, nonce: str) -> None:
        self._nonce = nonce
        self._used: set[str] = set()

    def _marker(self, name: str) -> str:
        self._used.add(name)
        return f"\x00{self._nonce}:{name}\x00"

    def __getattr__(self, name: str) -> str:
        if not SECRET_NAME.fullmatch(name):
            raise AttributeError(name)
        return self._marker(name)

    def __getitem__(self, name: object) -> str:
        if not isinstance(name, str) or not SECRET_NAME.fullmatch(name):
            raise KeyError(name)
        return self._marker(name)

    def __str__(self) -> str:
        raise TemplateRenderError("use {{ secret.NAME }} to refer to one secret")


def _finish(output: str, refs: _SecretRefs) -> str:
    output = _LITERAL.sub(lambda m: "${secret!" + m.group(1) + ":", output)
    if "\x00" in output:  # a marker can be there: compiled per nonce, so only then
        marker = re.compile("\x00" + refs._nonce + r":([^\x00]*)\x00")

        def token(m: re.Match[str]) -> str:
            if m.group(1) not in refs._used:
                raise TemplateRenderError("a secret reference was changed by a filter or operation")
            return "${secret:" + m.group(1) + "}"

        output = marker.sub(token, output)
    if refs._nonce in output:
        raise TemplateRenderError("a secret reference was changed by a filter or operation")
    return output


def _joined(pieces: Iterator[str]) -> str:
    """The rendered pieces as one text, at most MAX_RENDERED_CHARS long."""
    chunks: list[str] = []
    pending: list[str] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        if len(pending) >= _JOIN_EVERY:
            chunk = "".join(pending)
            pending.clear()
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise TemplateRenderError(
                    f"the rendered text is longer than {MAX_RENDERED_CHARS:,} characters"
                )
            chunks.append(chunk)
    if not chunks:
        return "".join(pending)
    chunks.append("".join(pending))
    return "".join(chunks)


# Names the compiled template treats apart (or, `secret`, that `render` provides).
_SPECIAL_NAMES = frozenset({"secret", "self", "loop", "caller", "varargs", "kwargs", "super"})
# `row.items` is the method, not the column "items": only other keys are looked up
# directly in a dict.
_DICT_ATTRIBUTES = frozenset(dir(dict))
# A part of a plain template: literal text, or a variable and its attribute/item path.
_Part = str | tuple[str, tuple[tuple[bool, Any], ...]]


@lru_cache(maxsize=1024)
def _plain_parts(text: str) -> tuple[_Part, ...] | None:
    """`text` as literal text and `{{ name.attr }}` / `{{ name['key'] }}` outputs, or
    None when it holds anything else (a filter, a tag, an operator, `secret`). A plain
    template is rendered by `_render_plain` with the same lookups the compiled one
    makes (the sandbox's getattr/getitem, strict undefined), without building a jinja
    context per render: a plan of a million rows renders millions of times."""
    parts: list[_Part] = []
    for output in ENVIRONMENT.parse(text).body:
        if not isinstance(output, nodes.Output):
            return None
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                parts.append(node.data)
                continue
            if isinstance(node, nodes.Const) and isinstance(node.value, str):
                parts.append(node.value)
                continue
            path: list[tuple[bool, Any]] = []
            while isinstance(node, nodes.Getattr | nodes.Getitem):
                if isinstance(node, nodes.Getattr):
                    path.append((True, node.attr))
                elif isinstance(node.arg, nodes.Const) and type(node.arg.value) in (str, int):
                    path.append((False, node.arg.value))
                else:
                    return None
                node = node.node
            if not isinstance(node, nodes.Name) or node.name in _SPECIAL_NAMES:
                return None
            parts.append((node.name, tuple(reversed(path))))
    return tuple(parts)


def _render_plain(
    parts: tuple[_Part, ...], context: Mapping[str, Any], flat: Mapping[str, Any]
) -> str:
    out = []
    getattr_, getitem = ENVIRONMENT.getattr, ENVIRONMENT.getitem
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        name, path = part
        if name in context:
            value = context[name]
        elif name in flat:
            value = flat[name]
        else:
            value = ENVIRONMENT.undefined(name=name)
        for is_attr, key in path:
            if type(value) is dict and key in value and key not in _DICT_ATTRIBUTES:
                value = value[key]  # what the sandbox's getattr and getitem find
            else:
                value = getattr_(value, key) if is_attr else getitem(value, key)
        out.append(str(value))  # what the compiled template does (no finalize, no escape)
    return "".join(out)


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render `text` with `context` (plus `secret`); TemplateRenderError on failure."""
    template = compile_template(text)
    flat = _flat_globals(template)
    plain = _plain_parts(text)
    try:
        if plain is not None:
            # No secret reference can be in it: only escape what looks like a token.
            output = _render_plain(plain, context, flat)
            return _LITERAL.sub(lambda m: "${secret!" + m.group(1) + ":", output)
        return _render_compiled(template, flat, context)
    except TemplateRenderError:
        raise
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(exc.message or "undefined variable")
    except SecurityError as exc:
        raise TemplateRenderError(f"not allowed in a template: {exc}")
    except jinja2.TemplateError as exc:
        raise TemplateRenderError(exc.message or type(exc).__name__)
    except RecursionError:
        raise TemplateRenderError("the template recursed too deeply")
    except Exception as exc:  # any error inside a user's expression, e.g. 1/0
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}")


def _render_compiled(
    template: jinja2.Template, flat: dict[str, Any], context: Mapping[str, Any]
) -> str:
    refs = _SecretRefs(str(_random.randbits(64)))
    values = {**flat, **context, "secret": refs}
    # Template.render's work, less its copy of the globals (a ChainMap, read twice
    # per render): a plan of a million rows renders millions of times.
    ctx = ENVIRONMENT.context_class(
        ENVIRONMENT, values, template.name, template.blocks, globals=flat
    )
    output = _joined(template.root_render_func(ctx))  # type: ignore[attr-defined]
    return _finish(output, refs)


def secret_names(text: str) -> set[str]:
    """Names of the secret tokens in rendered `text` (escaped literals excluded)."""
    return set(SECRET_TOKEN.findall(text))


def substitute_secrets(text: str, lookup: Callable[[str], str]) -> str:
    """Replace each token by `lookup(name)`, and escaped literals by their text."""

    def replace(m: re.Match[str]) -> str:
        bangs, name = m.group(1), m.group(2)
        if bangs:
            return m.group(0).replace("!", "", 1)
        if name is None:
            return m.group(0)
        return lookup(name)

    return _ANY_TOKEN.sub(replace, text)


def mask_values(
    text: str,
    values: Iterable[str],
    mask: str = "••••••",
    *,
    cut_start: bool = False,
    cut_end: bool = False,
) -> str:
    """`text` with every occurrence of each non-empty value, and of each encoded form
    of it (`secret_forms`: base64, URL, JSON, HTML, hex), replaced by `mask`; a text
    cut short masks the piece of a form left at the cut (`cut_start`, `cut_end`)."""
    return mask_forms(text, values, mask, cut_start=cut_start, cut_end=cut_end)
