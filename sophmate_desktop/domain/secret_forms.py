"""The forms a secret's value travels in, so masking finds it in every one.

A value leaves the process as itself and transformed: URL-encoded in a query string
(quote, quote_plus), escaped inside JSON, HTML-escaped in an error page, in hex, and
in base64 (standard and urlsafe, padded or not), often inside a longer encoded
string, as in a Basic-auth header (`base64("user:" + secret)`). A server's reply that
reaches a message through Python's `repr` (smtplib's `(535, b'...')`, apprise's
"Response Details: b'...'") is backslash-escaped: each form is also masked as
`repr` shows it, of text and of bytes.

Base64 of a value embedded in a longer string depends on where the value starts
modulo 3. For each of the three alignments the characters that only the value's bytes
determine (the first and last character may mix in a neighbour's bits) are a fixed
string: masking those cores masks the value wherever it sits in any base64 text, at
the cost of leaving at most one character of mixed bits at either end. A core shorter
than MIN_CORE characters would mask unrelated text, so short values are masked in
base64 only as a whole encoding of themselves.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

MIN_CORE = 6  # base64 characters a core needs before it is masked inside longer text
# Where text was cut short (the tail of a command's output, the head of an HTTP body),
# a form cut in two leaves a piece at the edge that no whole form matches: pieces of
# at least this many characters are masked there too.
EDGE_MIN = 4

# The characters of base64(b"\0" * a + value) that belong to the filler: with a bytes
# before it, the value's bits begin 8a bits in, i.e. inside character (8a) // 6.
_LEAD = {0: 0, 1: 2, 2: 3}


def base64_cores(raw: bytes) -> set[str]:
    """The base64 characters `raw` fixes at each of the three alignments (standard
    and urlsafe alphabets)."""
    cores: set[str] = set()
    for align in (0, 1, 2):
        encoded = base64.b64encode(b"\0" * align + raw).decode("ascii").rstrip("=")
        bits = 8 * (align + len(raw))
        full = bits // 6  # characters wholly inside the value and the filler
        core = encoded[_LEAD[align] : full]
        if len(core) >= MIN_CORE:
            cores.add(core)
            cores.add(core.translate(_URLSAFE))
    return cores


_URLSAFE = str.maketrans("+/", "-_")


def _base64_whole(raw: bytes) -> set[str]:
    padded = base64.b64encode(raw).decode("ascii")
    forms = {padded, padded.rstrip("=")}
    return forms | {f.translate(_URLSAFE) for f in forms}


@lru_cache(maxsize=1024)
def encoded_forms(value: str) -> frozenset[str]:
    """`value` and each encoding of it that masking replaces (never the empty text)."""
    if not value:
        return frozenset()
    raw = value.encode("utf-8", "surrogatepass")  # what a lone surrogate would become
    forms = {
        value,
        quote(raw, safe=""),
        quote(raw),
        quote_plus(raw),
        quote(raw, safe="").lower(),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        raw.hex(),
        raw.hex().upper(),
    }
    forms |= _base64_whole(raw)
    forms |= base64_cores(raw)
    forms |= {escaped for form in forms for escaped in _repr_forms(form)}
    return frozenset(f for f in forms if f)


def _repr_forms(form: str) -> tuple[str, str]:
    """`form` as repr shows it inside quotes: as text, and as UTF-8 bytes."""
    return repr(form)[1:-1], repr(form.encode("utf-8", "surrogatepass"))[2:-1]


def known_combinations(user: str, secret: str) -> set[str]:
    """The Basic-auth token of `user:secret`, whole (the cores of `secret` cover it
    inside longer text only when the secret is long enough)."""
    return set(_base64_whole(f"{user}:{secret}".encode("utf-8", "surrogatepass")))


def all_forms(values: Iterable[str]) -> list[str]:
    """Every form of every value, longest first (so a longer form is masked whole)."""
    forms: set[str] = set()
    for value in values:
        if isinstance(value, str) and value:
            forms |= encoded_forms(value)
    return sorted(forms, key=len, reverse=True)


def mask_forms(
    text: str,
    values: Iterable[str],
    mask: str,
    *,
    cut_start: bool = False,
    cut_end: bool = False,
) -> str:
    """`text` with every form of every value replaced by `mask`; `cut_start`/`cut_end`:
    the text was cut there, so a piece of a form at that edge is masked as well."""
    known = all_forms(values)
    if not known:
        return text
    text = re.compile("|".join(re.escape(v) for v in known)).sub(mask, text)
    if cut_start:
        text = _mask_edge(text, known, mask, at_start=True)
    if cut_end:
        text = _mask_edge(text, known, mask, at_start=False)
    return text


def _mask_edge(text: str, forms: list[str], mask: str, *, at_start: bool) -> str:
    """The longest piece of any form that the cut left at this edge, masked."""
    best = 0
    for form in forms:
        for size in range(min(len(form) - 1, len(text)), max(EDGE_MIN, best + 1) - 1, -1):
            piece = form[-size:] if at_start else form[:size]
            if text.startswith(piece) if at_start else text.endswith(piece):
                best = size
                break
    if not best:
        return text
    return mask + text[best:] if at_start else text[:-best] + mask
