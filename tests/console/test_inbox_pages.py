"""The console calls behind the inbox page (its pages, positions, filters and
choices), over SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from sophmate_desktop.console.inbox_pages import INBOX_SORT_KEYS, InboxFilters
from sophmate_desktop.domain.errors import BadInput
from tests.support.factories import make_run, make_write, workflow_yaml


@pytest.fixture
def inbox(db, make_console):
    lead = make_console("lead")
    lead.import_workflow(workflow_yaml("alpha", "finance"))
    lead.import_workflow(workflow_yaml("beta", "ops"))
    made = []
    kinds = [("write_file", "file"), ("send_email", "email"), ("http_request", "http")]
    for n, workflow in enumerate(["alpha", "beta", "alpha"]):
        run = make_run(db, workflow)
        for seq in range(1, 6):
            kind, effect = kinds[(seq + n) % 3]
            made.append(
                make_write(
                    db,
                    run,
                    seq=seq,
                    kind=kind,
                    effect=effect,
                    customer_facing=kind == "send_email",
                    target=f"/t/{(seq * 7 + n) % 4}.txt",
                    status="interrupted" if seq == 5 else "pending",
                )
            )
    make_write(db, make_run(db, "beta"), status="applied")  # not in the inbox
    return lead, made


def test_position_matches_the_page_order(inbox, console):
    filter_sets = (None, InboxFilters(category="finance"), InboxFilters(kind="send_email"))
    for key in (None, *INBOX_SORT_KEYS):
        for descending in (False, True):
            for filters in filter_sets:
                rows = console.inbox_rows(0, 1000, key, descending, filters)
                by_offset = [
                    r
                    for offset in range(0, len(rows), 4)
                    for r in console.inbox_rows(offset, 4, key, descending, filters)
                ]
                assert [r.id for r in by_offset] == [r.id for r in rows], (key, descending)
                by_keyset, after = [], None
                while page := console.inbox_rows(0, 4, key, descending, filters, after=after):
                    by_keyset += page
                    after = page[-1]
                assert [r.id for r in by_keyset] == [r.id for r in rows], (key, descending)
                for i, row in enumerate(rows):
                    assert console.inbox_position(row.id, key, descending, filters) == i
            if key in ("category", "kind", "target", "status", "customer_facing"):
                values = [getattr(r, key) for r in console.inbox_rows(0, 1000, key, descending)]
                assert values == sorted(values, reverse=descending)


def test_filters_counts_and_choices(inbox, console):
    _lead, made = inbox
    assert console.inbox_count() == 15
    finance = InboxFilters(category="finance")
    assert console.inbox_count(finance) == 10
    assert {r.workflow for r in console.inbox_rows(0, 100, filters=finance)} == {"alpha"}
    facing = console.inbox_rows(0, 100, filters=InboxFilters(customer_facing_only=True))
    assert facing and all(r.customer_facing and r.kind == "send_email" for r in facing)
    both = InboxFilters(workflow="beta", kind="http_request")
    assert {(r.workflow, r.kind) for r in console.inbox_rows(0, 100, filters=both)} == {
        ("beta", "http_request")
    }
    choices = console.inbox_choices()
    assert choices.categories == ("finance", "ops")
    assert choices.workflows == ("alpha", "beta")
    assert choices.kinds == ("http_request", "send_email", "write_file")
    assert {r.status for r in console.inbox_rows(0, 100)} == {"pending", "interrupted"}
    default = [r.id for r in console.inbox_rows(0, 100)]
    assert default == sorted(default)  # oldest first
    assert console.inbox_position(10**9) is None
    assert console.inbox_position(made[0].id, filters=InboxFilters(category="ops")) is None
    with pytest.raises(BadInput, match="unknown key"):
        console.inbox_rows(0, 10, "payload; drop table write")
