"""Who approved which write, for workflows that need more than one approver."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from peewee import Database

from sophmate_desktop.store.models import WriteApproval
from sophmate_desktop.store.sql import id_list

CHUNK = 500


def given_by(db: Database, ids: Sequence[int]) -> dict[int, list[str]]:
    """The approvers recorded so far for each of `ids` (writes without any left out)."""
    out: dict[int, list[str]] = {}
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        chunk = id_list(db, ids[start : start + CHUNK])
        query = (
            WriteApproval.select(WriteApproval.write, WriteApproval.approver)
            .where(WriteApproval.write.in_(chunk))
            .order_by(WriteApproval.id)
            .tuples()
        )
        for write_id, approver in query:
            out.setdefault(write_id, []).append(approver)
    return out


def record(
    db: Database, ids: Iterable[int], approver: str, at: datetime, comment: str | None
) -> None:
    """One approval by `approver` of each of `ids` (unique per write and person)."""
    rows = [{"write": i, "approver": approver, "at": at, "comment": comment} for i in ids]
    for start in range(0, len(rows), CHUNK):
        WriteApproval.insert_many(rows[start : start + CHUNK]).execute()
