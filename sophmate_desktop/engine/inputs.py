"""Reading a trigger file per the workflow's `input` section."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
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


def check_max_writes(defn: WorkflowDefinition, writes: int, *, at_least: bool = False) -> None:
    """TooManyWrites when `writes` is over the workflow's limit (None: no limit).
    `at_least`: `writes` is a lower bound (counting stopped once over the limit)."""
    limit = defn.max_writes
    if limit is not None and writes > limit:
        counted = f"at least {writes}" if at_least else str(writes)
        raise TooManyWrites(
            f"this run would plan {counted} writes, over max_writes ({limit}) of workflow "
            f"{defn.name}; nothing was planned. Raise `max_writes` in the workflow file "
            "(a number, or `max_writes: none` for no limit) or split the input"
        )


class CsvBatches:
    """The rows of a CSV trigger file read a batch at a time, as `read_input` would
    make them (csv.DictReader's rows, a leading BOM dropped, the same errors): a big
    input is never held whole. Each pass reads the file again; a file that changed
    since the first pass is refused."""

    def __init__(self, path: Path, spec: InputSpec) -> None:
        self.path = path
        self.spec = spec
        self.bytes_read = 0
        self._first: tuple[int, int] | None = None  # (size, mtime_ns) of the first pass

    def batches(self, size: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(number of the batch's first row, from 1; its rows) for the whole file."""
        first = 1
        batch: list[dict[str, Any]] = []
        for row in self.rows():
            batch.append(row)
            if len(batch) >= size:
                yield first, batch
                first += len(batch)
                batch = []
        if batch:
            yield first, batch

    def rows(self) -> Iterator[dict[str, Any]]:
        path, spec = self.path, self.spec
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed below, after the last row
        except FileNotFoundError:
            raise InputError(f"input file {path} no longer exists")
        with raw:
            self._check_size(os.fstat(raw.fileno()))
            text = io.TextIOWrapper(raw, encoding=spec.encoding, newline="")
            reader = csv.DictReader(_without_bom(text))
            try:
                yield from reader
            except csv.Error as exc:
                raise InputError(f"input file {path} is not valid CSV: {exc}")
            except UnicodeDecodeError as exc:
                where, reason = _first_bad_byte(path, spec.encoding, exc)
                raise InputError(
                    f"input file {path} is not valid {spec.encoding} text (byte {where}: {reason})"
                )
            if reader.fieldnames is None:
                raise InputError(f"input file {path} is an empty CSV file (no header row)")
            self.bytes_read = raw.tell()
        if self.bytes_read > spec.max_bytes:
            raise InputError(f"input file {path} grew over input.max_bytes ({spec.max_bytes})")

    def count(self, ceiling: int) -> int:
        """The rows of the file, counted up to `ceiling` (no further row is read)."""
        counted = 0
        for _ in self.rows():
            counted += 1
            if counted >= ceiling:
                break
        return counted

    def _check_size(self, st: os.stat_result) -> None:
        if st.st_size > self.spec.max_bytes:
            raise InputError(
                f"input file {self.path} is {st.st_size} bytes, over input.max_bytes "
                f"({self.spec.max_bytes})"
            )
        seen = (st.st_size, st.st_mtime_ns)
        if self._first is None:
            self._first = seen
        elif seen != self._first:
            raise InputError(f"input file {self.path} changed while its rows were planned")


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """The lines with the BOMs that open the text removed (`text.lstrip("\\ufeff")`)."""
    it = iter(lines)
    for line in it:
        stripped = line.lstrip("\ufeff")
        if stripped:
            yield stripped
            break
    yield from it


def _first_bad_byte(path: Path, encoding: str, exc: UnicodeDecodeError) -> tuple[int, str]:
    """Where the file stops being `encoding` text, counted from its first byte (the
    reader's error counts from its own buffer)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as found:
                return offset - pending + found.start, found.reason
            offset += len(chunk)
    return offset, exc.reason
