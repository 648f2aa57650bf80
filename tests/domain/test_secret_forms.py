"""Masking finds a secret in the encodings it travels in (domain/secret_forms.py)."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from sophmate_desktop.domain.secret_forms import MIN_CORE, encoded_forms
from sophmate_desktop.domain.templates import mask_values

MASK = "••••••"
SECRETS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40)
AROUND = st.text("abcXYZ019 :/=&é", max_size=7)

ENCODINGS = {
    "base64": lambda t: base64.b64encode(t.encode()).decode(),
    "base64 urlsafe unpadded": lambda t: base64.urlsafe_b64encode(t.encode()).decode().rstrip("="),
    "quote": lambda t: quote(t, safe=""),
    "quote_plus": quote_plus,
    "json": lambda t: json.dumps({"v": t}),
    "json ascii": lambda t: json.dumps({"v": t}, ensure_ascii=True),
    "html": html.escape,
    "hex": lambda t: t.encode().hex(),
}


def _left_over(secret: str, masked: str) -> list[str]:
    """Forms of `secret` (whole encodings, base64 cores) still in `masked`."""
    return [f for f in encoded_forms(secret) if f in masked]


@given(SECRETS, AROUND, AROUND)
def test_a_secret_inside_a_longer_encoded_text_is_masked_in_every_encoding(
    secret: str, before: str, after: str
) -> None:
    for name, encode in ENCODINGS.items():
        text = f"sent {encode(before + secret + after)} end"
        masked = mask_values(text, [secret])
        assert MASK in masked, name
        assert _left_over(secret, masked) == [], name


@given(SECRETS, st.text("abcdefgh.-_", min_size=1, max_size=12))
def test_the_basic_auth_header_of_user_and_secret_is_masked(secret: str, user: str) -> None:
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    masked = mask_values(f"Authorization: Basic {token}", [secret])
    assert token not in masked and MASK in masked
    # what is left of the token is at most the user's part and one mixed character
    kept = masked.removeprefix("Authorization: Basic ").split(MASK)
    assert len(kept[0]) <= len(base64.b64encode(f"{user}:".encode()).decode().rstrip("=")) + 1


def test_a_short_value_is_masked_in_base64_only_as_a_whole() -> None:
    forms = encoded_forms("abc")
    assert base64.b64encode(b"abc").decode() in forms
    assert all(len(f) >= 3 for f in forms)
    assert mask_values("QUJDREVGYWJj", ["abc"]) == "QUJDREVG" + MASK  # whole base64 "abc"
    assert MIN_CORE >= 6


def test_unrelated_text_is_left_alone() -> None:
    text = "HTTP 401 Unauthorized: try again later (id 5f2c)"
    assert mask_values(text, ["correct horse battery"]) == text


def test_a_reply_escaped_by_repr_is_masked() -> None:
    from sophmate_desktop.domain.secret_forms import mask_forms

    secret = "pa'ss\\wo\"rd-42"
    reply = str((535, b"5.7.8 refused " + secret.encode()))
    assert repr(secret.encode())[2:-1] in reply
    assert "pa" not in mask_forms(reply, [secret], "#").replace("5.7.8", "")


def test_a_form_cut_at_the_edge_of_a_shortened_text_is_masked() -> None:
    from sophmate_desktop.domain.secret_forms import mask_forms

    hexed = b"long-secret-value-17".hex()
    tail = hexed[len(hexed) // 2 :] + " then the rest"
    assert mask_forms(tail, ["long-secret-value-17"], "#", cut_start=True) == "# then the rest"
    head = "start " + hexed[:20]
    assert mask_forms(head, ["long-secret-value-17"], "#", cut_end=True) == "start #"
    assert mask_forms(head, ["long-secret-value-17"], "#") == head  # no cut, no guess
