"""The forms a secret can take in what the product writes, built here independently of
`domain.secret_forms` (a search that reused the masking code would miss what the
masking misses), and a search of files and texts for them.

Six encodings: raw, base64 (of the value, of `user:value` as in a Basic-auth header,
and the characters the value alone fixes inside a longer base64 text, at each of the
three alignments), URL-encoded, JSON-escaped (once and twice: JSON in JSON), hex and
HTML-escaped; and a seventh that a server's reply takes on its way through Python:
backslash-escaped as `repr` shows a text or bytes (`b'...\\'...'`), of the value and of
each of its other forms."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus

ENCODINGS = ("raw", "base64", "url", "json", "hex", "html", "repr")
_INNER_MIN = 8  # base64 characters of an embedded value worth searching for


def _b64_variants(data: bytes) -> set[str]:
    std = base64.b64encode(data).decode()
    safe = base64.urlsafe_b64encode(data).decode()
    return {std, std.rstrip("="), safe, safe.rstrip("=")}


def _b64_inner(data: bytes) -> set[str]:
    """The base64 characters decided by `data` alone when it starts `pad` bytes into a
    longer text: character i covers bits [6i, 6i+6), inside `data` for 8*pad <= 6i and
    6i+6 <= 8*(pad+len)."""
    found: set[str] = set()
    for pad in (0, 1, 2):
        text = base64.b64encode(b"\xff" * pad + data + b"\xff\xff").decode()
        first = -(-8 * pad // 6)
        last = (8 * (pad + len(data))) // 6  # exclusive
        inner = text[first:last]
        if len(inner) >= _INNER_MIN:
            found |= {inner, inner.translate(str.maketrans("+/", "-_"))}
    return found


def secret_forms(secret: str, user: str | None = None) -> dict[str, str]:
    """form -> encoding name, for every form of `secret` (and `user:secret`)."""
    raw = secret.encode()
    by_encoding: dict[str, set[str]] = {
        "raw": {secret},
        "base64": _b64_variants(raw) | _b64_inner(raw),
        "url": {
            quote(secret, safe=""),
            quote(secret),
            quote_plus(secret),
            quote(secret, safe="").lower(),
        },
        "json": {
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
            json.dumps(json.dumps(secret)[1:-1])[1:-1],
        },
        "hex": {raw.hex(), raw.hex().upper()},
        "html": {html.escape(secret), html.escape(secret, quote=False)},
    }
    if user is not None:
        by_encoding["base64"] |= _b64_variants(f"{user}:{secret}".encode())
    by_encoding["repr"] = {
        escaped
        for forms in list(by_encoding.values())
        for form in forms
        for escaped in (repr(form)[1:-1], repr(form.encode())[2:-1])
    }
    forms: dict[str, str] = {}
    for encoding in ENCODINGS:  # raw first: a form that is also the raw value counts as raw
        for form in sorted(by_encoding[encoding]):
            forms.setdefault(form, encoding)
    return forms


PIECE = 12  # characters of a form that give part of the secret away


def pieces(forms: Mapping[str, str]) -> dict[str, str]:
    """Every PIECE-character window of every form (a form cut by a truncation leaves
    one at the cut): window -> "part of <encoding>"."""
    found: dict[str, str] = {}
    for form, encoding in forms.items():
        for start in range(len(form) - PIECE + 1):
            found.setdefault(form[start : start + PIECE], f"part of {encoding}")
    return found


def search(
    forms: Mapping[str, str], files: Iterable[Path], texts: Mapping[str, str]
) -> dict[str, list[str]]:
    """where -> the encodings found there, whole or in part (only places with a hit)."""
    hits: dict[str, list[str]] = {}
    needles = [(form.encode(), encoding) for form, encoding in forms.items()]
    needles += [(piece.encode(), what) for piece, what in pieces(forms).items()]

    def look(where: str, data: bytes) -> None:
        found = sorted({encoding for needle, encoding in needles if needle in data})
        if found:
            hits[where] = found

    for path in files:
        if path.is_file():
            look(str(path), path.read_bytes())
    for where, text in texts.items():
        look(where, text.encode("utf-8", "surrogateescape"))
    return hits


def every_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
