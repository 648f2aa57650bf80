"""An export an auditor can verify alone: the events (JSON lines, every column) and
then the checkpoints (`{"checkpoint": {...}}` lines).

`verify_export` re-links the chain from the file: without the key it checks that
every event matches its hash and joins the one before, that the ids run without a
gap, and that the hashes agree with the checkpoints (so a copy cut short or rebuilt
shows); with the key it also checks the checkpoints' signatures and the MACs. The
state the events imply cannot be compared with tables an export does not carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit_verify import (
    AuditReport,
    Finding,
    check_checkpoints,
    check_macs,
)
from sophmate_desktop.store.checkpoints import Checkpoint
from sophmate_desktop.store.models import GENESIS_HASH

_HEAD_FIELDS = ("id", "at", "actor", "action", "subject", "category", "workflow", "run", "reason")


def write_checkpoints(out: TextIO, points: Iterable[Checkpoint]) -> int:
    count = 0
    for point in points:
        out.write(json.dumps({"checkpoint": json.loads(point.line())}) + "\n")
        count += 1
    return count


def _read(path: str) -> tuple[list[dict[str, Any]], list[Checkpoint]]:
    events: list[dict[str, Any]] = []
    points: list[Checkpoint] = []
    try:
        with open(path, encoding="utf-8") as handle:
            lines = list(handle)
    except OSError as exc:
        raise BadInput(f"--export: cannot read {path}: {exc.strerror or exc}")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if "checkpoint" in data:
                points.append(Checkpoint.parse(json.dumps(data["checkpoint"])))
            else:
                events.append(data)
        except (ValueError, KeyError, TypeError):
            raise BadInput(
                f"--export: line {number} of {path} is neither an event nor a "
                "checkpoint (export with `audit export --format jsonl`)"
            )
    return events, points


def _chain(events: list[dict[str, Any]]) -> tuple[list[Finding], dict[int, str]]:
    prev, expected = GENESIS_HASH, events[0]["id"] if events else 1
    hashes: dict[int, str] = {}
    for ev in events:
        seq = ev["id"]
        if seq != expected:
            return [
                Finding("truncated", f"event {expected} is missing (next is {seq})", seq)
            ], hashes
        fields = tuple(ev[k] for k in _HEAD_FIELDS)
        digest = audit.event_hash(ev["prev_hash"], fields, audit.canonical_details(ev["details"]))
        if ev["prev_hash"] != prev and not (seq == events[0]["id"] and seq > 1):
            return [
                Finding("edited", f"event {seq}: does not join the event before it", seq)
            ], hashes
        if digest != ev["hash"]:
            return [
                Finding("edited", f"event {seq}: its content does not match its hash", seq)
            ], hashes
        hashes[seq] = digest
        prev, expected = digest, seq + 1
    return [], hashes


def verify_export(path: str, key: bytes | None) -> AuditReport:
    events, points = _read(path)
    findings, hashes = _chain(events)
    report = AuditReport(len(events), findings)
    last = events[-1]["id"] if events else 0
    head = (last, events[-1]["hash"] if events else GENESIS_HASH)
    found, newest = check_checkpoints(points, hashes, last, head, key, None, "the export")
    report.findings += found
    report.checkpoint = None if newest is None else json.loads(newest.line())
    macs = [(ev["id"], ev["hash"], ev.get("mac")) for ev in events]
    report.mac_from = next((seq for seq, _h, mac in macs if mac), None)
    if key is not None:
        report.findings += check_macs(macs, key, report.mac_from)
    else:
        report.notes.append(
            "verified without the audit key: the chain and its agreement with the "
            "checkpoint hashes were checked; signatures and MACs need the key"
        )
    if not points:
        report.notes.append("the export carries no checkpoint")
    if events and events[0]["id"] > 1:
        report.notes.append(f"the export starts at event {events[0]['id']} (a filtered export)")
    report.notes.append("the state the events imply needs the database (not in an export)")
    return report
