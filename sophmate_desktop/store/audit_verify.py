"""`audit verify` in full: the chain, its checkpoints outside the database, the
per-event MACs and the state the events imply, each finding named.

What is found (`Finding.kind`):
  edited        an event does not match its hash, or the links do not join
  truncated     the database ends before a checkpointed event (cut off, or an older copy)
  head_moved    the chain head row disagrees with the events (moved back or forward)
  recomputed    the hash at a checkpointed seq differs: the chain was rebuilt
  forged        an event's MAC is missing or wrong (appended behind the product's back)
  checkpoint    a checkpoint's signature is wrong, or a line is not a checkpoint
  mirror        the checkpoint mirror could not be read back: a rollback of both the
                database and the local checkpoint file cannot be ruled out
  state         a row disagrees with the last event about it (changed by direct SQL)
Without the audit key the chain and its agreement with the checkpoint hashes are still
checked; signatures and MACs are not (a note says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from peewee import Database

from sophmate_desktop.store import audit, audit_replay
from sophmate_desktop.store.audit_key import event_mac, key_id, same, sign
from sophmate_desktop.store.checkpoints import Checkpoint, first_mac
from sophmate_desktop.store.models import AuditEvent, AuditHead

KINDS = (
    "edited",
    "truncated",
    "head_moved",
    "recomputed",
    "forged",
    "checkpoint",
    "mirror",
    "state",
)
CHECKED_CHECKPOINTS = 64  # the newest ones compared hash by hash
_SHOWN = 10  # events named one by one in a finding


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str
    seq: int | None = None


@dataclass
class AuditReport:
    checked: int
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mac_from: int | None = None
    checkpoint: dict[str, Any] | None = None  # the newest one compared
    compared_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def describe(self) -> str:
        if self.ok:
            lines = [f"audit trail intact: {self.checked} events verified"]
            if self.checkpoint:
                lines.append(
                    f"agrees with the checkpoint of {self.checkpoint['at']} "
                    f"(event {self.checkpoint['seq']})"
                )
        else:
            seqs = [f.seq for f in self.findings if f.seq is not None]
            where = f" at event {min(seqs)}" if seqs else ""
            lines = [f"audit trail broken{where} ({self.checked} events read):"]
            lines += [f"  {f.kind}: {f.text}" for f in self.findings]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        first = next((f for f in self.findings), None)
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_id": None if first is None else first.seq,
            "problem": "" if first is None else f"{first.kind}: {first.text}",
            "findings": [asdict(f) for f in self.findings],
            "notes": self.notes,
            "mac_from": self.mac_from,
            "checkpoint": self.checkpoint,
            "compared_rows": self.compared_rows,
        }


def _chain_finding(result: audit.VerifyResult) -> Finding:
    problem = result.problem
    if "events removed from the end" in problem:
        kind = "truncated"
    elif "chain head" in problem:
        kind = "head_moved"
    else:
        kind = "edited"
    return Finding(kind, f"event {result.first_bad_id}: {problem}", result.first_bad_id)


def check_checkpoints(
    points: Sequence[Checkpoint],
    hashes: dict[int, str],
    last_seq: int,
    head: tuple[int, str],
    key: bytes | None,
    db_identity: str | None,
    what: str = "the database",
) -> tuple[list[Finding], Checkpoint | None]:
    """Compare the events' hashes (`hashes`: seq -> hash) with the checkpoints
    (`what` holds the events: the database, or an export)."""
    findings: list[Finding] = []
    good: list[Checkpoint] = []
    for point in points:
        if key is not None and point.key_id and point.key_id != key_id(key):
            continue  # signed with another key (another keyring): cannot be judged here
        if key is not None and not same(point.sig, sign(key, point.signed_text())):
            findings.append(
                Finding("checkpoint", f"the checkpoint of {point.at} has a wrong signature")
            )
        elif db_identity is not None and point.db != db_identity:
            continue  # another database's checkpoint in the same folder
        else:
            good.append(point)
    if not good:
        return findings, None
    newest = max(good, key=lambda p: (p.seq, p.at))
    if newest.seq > last_seq:
        findings.append(
            Finding(
                "truncated",
                f"{what} ends at event {last_seq} but the checkpoint of {newest.at} "
                f"recorded event {newest.seq}: {newest.seq - last_seq} events are missing "
                f"from the end (cut off, or {what} was rolled back to an older copy)",
                last_seq + 1,
            )
        )
    if head[0] < newest.seq <= last_seq:
        findings.append(
            Finding(
                "head_moved",
                f"the chain head was moved back to event {head[0]}; the checkpoint of "
                f"{newest.at} recorded event {newest.seq}",
                head[0],
            )
        )
    for point in sorted(good, key=lambda p: p.seq):
        seen = hashes.get(point.seq)
        if seen is not None and seen != point.hash:
            findings.append(
                Finding(
                    "recomputed",
                    f"event {point.seq}'s hash differs from the checkpoint of {point.at}: "
                    "the chain was rewritten and its hashes recomputed",
                    point.seq,
                )
            )
            break
    return findings, newest


def check_macs(
    rows: Iterable[tuple[int, str, str | None]], key: bytes, mac_from: int | None
) -> list[Finding]:
    """rows: (seq, hash, mac) in order; every event from `mac_from` on needs its MAC."""
    if mac_from is None:
        return []
    missing: list[int] = []
    wrong: list[int] = []
    for seq, digest, mac in rows:
        if seq < mac_from:
            continue
        if mac is None:
            missing.append(seq)
        elif not same(mac, event_mac(key, digest)):
            wrong.append(seq)
    out = []
    for seqs, how in ((missing, "have no MAC"), (wrong, "have a MAC the audit key did not make")):
        if seqs:
            shown = ", ".join(map(str, seqs[:_SHOWN])) + (" ..." if len(seqs) > _SHOWN else "")
            out.append(
                Finding(
                    "forged",
                    f"{len(seqs)} events {how} (appended behind the product's back?): {shown}",
                    seqs[0],
                )
            )
    return out


def _mac_rows(batch: int = 50_000) -> Iterable[tuple[int, str, str | None]]:
    after = 0
    while True:
        rows = list(
            AuditEvent.select(AuditEvent.id, AuditEvent.hash, AuditEvent.mac)
            .where(AuditEvent.id > after)
            .order_by(AuditEvent.id)
            .limit(batch)
            .tuples()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def verify_database(
    db: Database,
    points: Sequence[Checkpoint],
    key: bytes | None,
    *,
    key_problem: str | None = None,
    db_identity: str | None = None,
    bad_lines: Sequence[str] = (),
    mirror_problems: Sequence[str] = (),
) -> AuditReport:
    chain = audit.verify(db)
    report = AuditReport(chain.checked)
    if not chain.ok:
        report.findings.append(_chain_finding(chain))
    last = AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1).scalar() or 0
    head = AuditHead.select(AuditHead.last_id, AuditHead.last_hash).tuples().first() or (0, "")
    seqs = sorted({p.seq for p in points})[-CHECKED_CHECKPOINTS:]
    hashes = (
        dict(
            AuditEvent.select(AuditEvent.id, AuditEvent.hash)
            .where(AuditEvent.id.in_(seqs))
            .tuples()
        )
        if seqs
        else {}
    )
    found, newest = check_checkpoints(
        [p for p in points if p.seq in set(seqs) or p.seq > last],
        hashes,
        last,
        tuple(head),
        key,
        db_identity,
    )
    report.findings += found
    report.checkpoint = None if newest is None else asdict(newest)
    report.mac_from = first_mac(db)
    if (
        newest is not None
        and newest.mac_from is not None
        and (report.mac_from is None or report.mac_from > newest.mac_from)
    ):
        report.findings.append(
            Finding(
                "forged",
                f"the checkpoint of {newest.at} says MACs start at event {newest.mac_from}; "
                f"the database's start at {report.mac_from or 'none'} (MACs removed)",
                newest.mac_from,
            )
        )
    if key is not None:
        report.findings += check_macs(_mac_rows(), key, report.mac_from)
    else:
        report.notes.append(
            (key_problem or "no audit key")
            + ": signatures and MACs were not checked (the chain and the checkpoint "
            "hashes were)"
        )
    disagreements, report.compared_rows = audit_replay.replay(db)
    report.findings += [Finding("state", d.describe(), d.said.seq) for d in disagreements]
    report.findings += [Finding("checkpoint", line) for line in bad_lines]
    report.findings += [Finding("mirror", text) for text in mirror_problems]
    _describe_start(report, points)
    return report


def _describe_start(report: AuditReport, points: Sequence[Checkpoint]) -> None:
    if report.mac_from is None:
        report.notes.append("no event carries a MAC yet")
    elif report.mac_from > 1:
        report.notes.append(
            f"events before {report.mac_from} were written before MACs (migration 0014)"
        )
    if not points:
        report.notes.append("no checkpoint found: truncation and a rebuilt chain cannot be seen")
