"""The audit trail proves itself beyond the database (issue 14 item 7): each way of
rewriting history behind the product's back is found and named by `audit verify`."""

from __future__ import annotations

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit import AuditEvent, NewEvent
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import AuditHead
from tests.support.engine import workflow_doc


@pytest.fixture
def trail(sqlite_db, sqlite_url, tmp_path):
    """A console that paused and resumed a category three times (checkpointed after
    each change), and a second handle on the same file: the forger's, with no key."""
    console = Console(sqlite_db, actor="ana")
    console.import_workflow(workflow_doc("w", tmp_path / "in", tmp_path / "out"))
    for i in range(3):
        console.pause_category("finance", reason=f"drill {i}")
        console.resume_category("finance", reason=f"drill {i}")
    assert console.verify_audit().ok
    forger = open_database(sqlite_url)
    yield console, forger
    forger.close()


def kinds(console: Console) -> set[str]:
    report = console.verify_audit()
    assert not report.ok
    return {f.kind for f in report.findings}


def rewind(db, keep_through: int) -> None:
    """Delete every event after `keep_through` and move the head back to it."""
    last = AuditEvent.get_by_id(keep_through)
    db.execute_sql("DELETE FROM audit_event WHERE id > ?", (keep_through,))
    AuditHead.update(last_id=keep_through, last_hash=last.hash).where(AuditHead.id == 1).execute()


def forge(db, reason: str) -> None:
    with write_transaction(db):
        audit.append(
            db,
            NewEvent(
                actor="mallory",
                action=AuditAction.CATEGORY_RESUMED,
                category="finance",
                reason=reason,
            ),
        )


def newest_id() -> int:
    return AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).scalar()


def test_truncation_with_the_head_moved_back_is_found(trail):
    console, forger = trail
    rewind(forger, newest_id() - 2)
    assert kinds(console) & {"truncated", "head_moved"}


def test_a_forged_event_with_a_valid_chain_hash_is_found(trail):
    console, forger = trail
    forge(forger, "nobody saw this")
    assert audit.verify(forger).ok  # the sha256 chain alone says intact
    assert "forged" in kinds(console)


def test_a_recomputed_chain_is_found(trail):
    console, forger = trail
    cut = newest_id() - 3
    rewind(forger, cut)
    for i in range(4):  # the same number of events, rewritten and chained afresh
        forge(forger, f"rewritten {i}")
    assert audit.verify(forger).ok
    assert kinds(console) & {"recomputed", "forged"} == {"recomputed", "forged"}


def test_a_state_changed_by_direct_sql_is_found(trail, sqlite_db):
    console, forger = trail
    forger.execute_sql(
        "UPDATE category SET paused = 1, paused_by = 'mallory' WHERE name = 'finance'"
    )
    report = console.verify_audit()
    assert not report.ok
    [state] = [f for f in report.findings if f.kind == "state"]
    assert "category finance" in state.text and "paused" in state.text
