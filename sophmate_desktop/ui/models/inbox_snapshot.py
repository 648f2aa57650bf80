"""What one background read of the inbox brings back: the rows the table shows (in
its order and with its filters) and the counts beside it.

`read_inbox` runs on a task-runner thread; the query is built on the main thread
from what the page shows when the refresh is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sophmate_desktop.console import Console
from sophmate_desktop.console.inbox_pages import InboxFilters, InboxRow


@dataclass(frozen=True)
class InboxQuery:
    sort_key: str | None
    descending: bool
    filters: InboxFilters
    limit: int  # rows to read from the top; 0: only the counts (the page is hidden)
    # Read because something changed elsewhere (the engine applying, another desktop):
    # the preview of a write that moved follows in the background.
    from_events: bool = False

    @property
    def order(self) -> tuple[str | None, bool, InboxFilters]:
        return self.sort_key, self.descending, self.filters


@dataclass(frozen=True)
class InboxSnapshot:
    query: InboxQuery
    rows: list[InboxRow]
    total: int  # every waiting write
    shown: int  # those the filters let through

    @property
    def exhausted(self) -> bool:
        """No row follows the last one read."""
        return len(self.rows) < self.query.limit


def read_inbox(console: Console, query: InboxQuery) -> InboxSnapshot:
    rows: list[InboxRow] = []
    if query.limit:
        rows = console.inbox_rows(0, query.limit, query.sort_key, query.descending, query.filters)
    total = console.inbox_count()
    shown = console.inbox_count(query.filters) if query.filters.active else total
    return InboxSnapshot(query, rows, total, shown)
