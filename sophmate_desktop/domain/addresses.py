"""One e-mail address per address field (issue 14 item 8).

A recipient field holds exactly one address: a CSV cell "a@x, evil@y" used as `to`
must not send to two people. `one_address` parses a value with the standard library's
RFC 5322 parser (`email.headerregistry`, cross-checked with `email.utils.getaddresses`)
and refuses anything that is not exactly one address: several (commas, semicolons,
a group `team: a@x, b@y;`), none (empty, a bare name), a malformed one, and control
characters (a line break would add headers: header injection). A list of recipients
is written as a list in the workflow file, each element again one address.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.headerregistry import Address, HeaderRegistry
from email.utils import getaddresses

from sophmate_desktop.domain.templates import SECRET_TOKEN

_REGISTRY = HeaderRegistry()
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_LENGTH = 998  # the longest line RFC 5322 allows


class AddressError(ValueError):
    """A value is not exactly one e-mail address; the message says why."""


def _parsed(text: str) -> list[Address]:
    try:
        header = _REGISTRY("To", text)
    except (HeaderParseError, IndexError, ValueError) as exc:  # e.g. "a@"
        raise AddressError("is not an e-mail address (expected name@domain)") from exc
    if any(g.display_name is not None for g in header.groups):
        raise AddressError(
            "is a group of addresses (`name: a@x, b@y;`): a recipient field takes one address"
        )
    if header.defects:
        raise AddressError(f"is not an e-mail address ({header.defects[0]})")
    return list(header.addresses)


def _several(count: int) -> str:
    return (
        f"holds {count} addresses: a recipient field takes exactly one "
        "(to send to several, write the field as a list, one address per element)"
    )


def one_address(text: str, *, bare: bool = False) -> Address:
    """The one address `text` holds, or AddressError. `bare`: an addr-spec only
    (`a@x.example`), no display name (for targets that are not a mail header)."""
    if not isinstance(text, str):
        raise AddressError(f"expected text, got {type(text).__name__}")
    if _CONTROL.search(text):
        raise AddressError("may not contain a line break or another control character")
    if len(text) > _MAX_LENGTH:
        raise AddressError(f"is longer than {_MAX_LENGTH} characters")
    if not text.strip():
        raise AddressError("is empty: a recipient field takes exactly one address")
    if SECRET_TOKEN.search(text):
        raise AddressError("a secret reference cannot be used as an address")
    loose = [a for _, a in getaddresses([text]) if a]
    if len(loose) > 1:
        raise AddressError(_several(len(loose)))
    found = _parsed(text)
    if len(found) != 1:
        raise AddressError(_several(len(found)) if found else "holds no e-mail address")
    address = found[0]
    if not address.username or not address.domain or "@" in address.domain:
        raise AddressError("is not an e-mail address (expected name@domain)")
    if bare and (address.display_name or text.strip() != address.addr_spec):
        raise AddressError(f"expected a bare address such as {address.addr_spec!r}")
    return address
