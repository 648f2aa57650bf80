"""Reading a trigger file per the workflow's `input` section."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sophmate_desktop.domain.workflow import InputSpec


class InputError(Exception):
    """The trigger file cannot be read as declared: the run fails with this message."""


def read_input(path: Path | None, spec: InputSpec | None) -> tuple[Any, int]:
    """Returns (data, bytes read). text -> str, csv -> list of row dicts, json -> value."""
    spec = spec or InputSpec()
    if path is None or spec.read == "none":
        return None, 0
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"input file {path} no longer exists")
    if size > spec.max_bytes:
        raise InputError(
            f"input file {path} is {size} bytes, over input.max_bytes ({spec.max_bytes})"
        )
    with open(path, "rb") as fh:
        raw = fh.read(spec.max_bytes + 1)
    if len(raw) > spec.max_bytes:
        raise InputError(f"input file {path} grew over input.max_bytes ({spec.max_bytes})")
    try:
        text = raw.decode(spec.encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"input file {path} is not valid {spec.encoding} text (byte {exc.start}: {exc.reason})"
        )
    if spec.read == "text":
        return text, len(raw)
    if spec.read == "csv":
        try:
            reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
            rows = [dict(r) for r in reader]
        except csv.Error as exc:
            raise InputError(f"input file {path} is not valid CSV: {exc}")
        if reader.fieldnames is None:
            raise InputError(f"input file {path} is an empty CSV file (no header row)")
        return rows, len(raw)
    if spec.read == "json":
        try:
            return json.loads(text), len(raw)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"input file {path} is not valid JSON: {exc.msg} "
                f"(line {exc.lineno}, column {exc.colno})"
            )
    raise InputError(f"input.read {spec.read!r} is not supported")
