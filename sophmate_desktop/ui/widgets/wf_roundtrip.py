"""The YAML tab's text after a form edit, as the person wrote it: ruamel.yaml's round
trip keeps comments, key order and block scalars (`|` text) of everything the form
did not change; only the changed values are written anew (a multi-line text as a
block scalar). PyYAML, which reads the workflow files, keeps none of that."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _fresh(value: Any) -> Any:
    """A new value in round-trip form: multi-line text as a block scalar."""
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value if value.endswith("\n") else value + "\n")
    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _fresh(item)
        return out
    if isinstance(value, list):
        return CommentedSeq(_fresh(item) for item in value)
    return value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, str) and isinstance(new, str):
        return old.rstrip("\n") == new.rstrip("\n")  # a block scalar ends with a newline
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return old == new


def _update(target: CommentedMap, doc: dict[str, Any]) -> None:
    for key in [k for k in target if k not in doc]:
        del target[key]
    for key, value in doc.items():
        if key not in target:
            target[key] = _fresh(value)
        elif isinstance(target[key], dict) and isinstance(value, dict):
            _update(target[key], value)
        elif not _same(target[key], value):
            target[key] = _fresh(value)


def merge_into_yaml(text: str, doc: dict[str, Any]) -> str | None:
    """`text` with `doc`'s values (None: the text is not a YAML mapping to keep)."""
    y = _yaml()
    try:
        data = y.load(text)
    except YAMLError:
        return None
    if not isinstance(data, CommentedMap):
        return None
    _update(data, doc)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()
