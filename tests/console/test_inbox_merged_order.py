"""Inbox pages read one query per status and merge them (console/inbox_pages.py,
store/queries.list_writes): the merged order must be exactly SQL's own order over all
the statuses at once, for every sort key, both directions, and at any offset."""

from __future__ import annotations

import sqlite3

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.console.inbox_pages import _SORTS, INBOX_SORT_KEYS
from sophmate_desktop.store import queries
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Workflow, Write
from tests.support.history_fill import fill


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory):
    filled = fill(tmp_path_factory.mktemp("inbox-merge") / "h.sqlite3", 1_500)
    con = sqlite3.connect(filled.path)
    # every status the inbox shows, interleaved in id order, and ties on each key
    con.execute("UPDATE write SET status = 'pending' WHERE id % 5 = 0")
    con.execute("UPDATE write SET status = 'interrupted' WHERE id % 5 = 1")
    con.execute("UPDATE write SET status = 'applying' WHERE id % 5 = 2 AND id % 3 = 0")
    con.execute("UPDATE write SET summary = '' WHERE id % 4 = 0")
    con.commit()
    con.close()
    db = open_database(f"sqlite:///{filled.path}", create=False)
    yield Console(db, actor="reader")
    db.close()


def reference(key: str | None, descending: bool) -> list[int]:
    if key is None:  # no key: oldest first, whatever the direction asked
        expr, desc = Write.id, False
    else:
        expr, inverted, _attribute = _SORTS[key]
        desc = inverted != descending
    order = [expr.desc() if desc else expr.asc()]
    if expr is not Write.id:
        order.append(Write.id.desc() if desc else Write.id.asc())
    query = (
        Write.select(Write.id)
        .join(Workflow, on=(Write.workflow == Workflow.id))
        .where(Write.status.in_(list(queries.INBOX_STATUSES)))
        .order_by(*order)
    )
    return [row[0] for row in query.tuples()]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("key", [None, *INBOX_SORT_KEYS])
def test_a_merged_page_is_sqls_order(console: Console, key, descending: bool) -> None:
    want = reference(key, descending)
    assert len(want) > 300 and len(queries.INBOX_STATUSES) > 1
    whole = console.inbox_rows(0, len(want) + 10, sort_key=key, descending=descending)
    assert [r.id for r in whole] == want
    page = console.inbox_rows(37, 50, sort_key=key, descending=descending)
    assert [r.id for r in page] == want[37:87]


def test_the_cli_list_merges_statuses_in_id_order(console: Console) -> None:
    want = reference(None, False)
    assert [w.id for w in console.list_inbox(limit=100_000)] == want
    assert [w.id for w in console.list_inbox(limit=40, offset=25)] == want[25:65]
    everything = [w.id for w in console.list_inbox(include_all=True, limit=100_000)]
    assert everything == sorted(everything) and set(want) < set(everything)
