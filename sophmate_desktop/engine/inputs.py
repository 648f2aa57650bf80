"""Reading a trigger file per the workflow's `input` section."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sophmate_desktop.domain.workflow import InputSpec, WorkflowDefinition


class InputError(Exception):
    """The trigger file cannot be read as declared: the run fails with this message."""


def read_input(path: Path | None, spec: InputSpec | None) -> tuple[Any, int]:
    """Returns (data, bytes read). text -> str, csv -> list of row dicts, json -> value."""
    spec = spec or InputSpec()
    if path is None or spec.read == "none":
        return None, 0
    raw = _read_bytes(path, spec)
    text = _decode(path, spec, raw)
    if spec.read == "text":
        return text, len(raw)
    if spec.read == "csv":
        return _parse_csv(path, text), len(raw)
    if spec.read == "json":
        return _parse_json(path, text), len(raw)
    raise InputError(f"input.read {spec.read!r} is not supported")


def _read_bytes(path: Path, spec: InputSpec) -> bytes:
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
    return raw


def _decode(path: Path, spec: InputSpec, raw: bytes) -> str:
    try:
        return raw.decode(spec.encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"input file {path} is not valid {spec.encoding} text (byte {exc.start}: {exc.reason})"
        )


def _parse_csv(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        rows = [dict(r) for r in reader]
    except csv.Error as exc:
        raise InputError(f"input file {path} is not valid CSV: {exc}")
    if reader.fieldnames is None:
        raise InputError(f"input file {path} is an empty CSV file (no header row)")
    return rows


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"input file {path} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        )


class TooManyWrites(InputError):
    """A run would plan more writes than its workflow's `max_writes`."""


def expected_writes(defn: WorkflowDefinition, data: Any) -> int:
    """The writes a plan of `defn` over `data` makes, counted before planning: one per
    record for a `for_each` step, one for any other step."""
    records = len(data) if isinstance(data, list) else 0
    return sum(records if s.for_each else 1 for s in defn.steps)


def check_max_writes(defn: WorkflowDefinition, writes: int) -> None:
    """TooManyWrites when `writes` is over the workflow's limit (None: no limit)."""
    limit = defn.max_writes
    if limit is not None and writes > limit:
        raise TooManyWrites(
            f"this run would plan {writes} writes, over max_writes ({limit}) of workflow "
            f"{defn.name}; nothing was planned. Raise `max_writes` in the workflow file "
            "(a number, or `max_writes: none` for no limit) or split the input"
        )
