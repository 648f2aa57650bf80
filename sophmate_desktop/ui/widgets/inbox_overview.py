"""What the inbox's preview pane says when it does not show one write: several
selected (how many, of which kinds, to which targets) or none waiting (why, and
what to do)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sophmate_desktop.console.inbox_pages import InboxRow
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.translation import Plural, translate

LISTED = 25  # targets listed; the rest are counted


def _writes(n: int) -> str:
    return Plural.tr("%n write", "", n) if n == 1 else Plural.tr("%n writes", "", n)


def selection_text(rows: Sequence[InboxRow]) -> tuple[str, str]:
    """(title, body) for several selected writes."""
    kinds = Counter(r.kind for r in rows)
    statuses = Counter(r.status for r in rows)
    title = translate("sophmate", "{count} selected: {kinds}").format(
        count=_writes(len(rows)),
        kinds=", ".join(f"{n:,} {kind}" for kind, n in kinds.most_common()),
    )
    lines = [", ".join(f"{n:,} {status}" for status, n in statuses.most_common())]
    customer = sum(r.customer_facing for r in rows)
    if customer:
        lines.append(translate("sophmate", "{n} customer-facing").format(n=_writes(customer)))
    lines.append("")
    for row in rows[:LISTED]:
        lines.append(
            translate("sophmate", "{kind} {target}   (run {run}, {workflow})").format(
                kind=f"{row.kind:<14}", target=row.target, run=row.run_id, workflow=row.workflow
            )
        )
    if len(rows) > LISTED:
        lines.append(translate("sophmate", "… and {n} more").format(n=f"{len(rows) - LISTED:,}"))
    return title, "\n".join(lines)


def empty_text(total: int, filtered: bool, applied: bool) -> tuple[str, str]:
    """(title, body) when the table shows no write."""
    if filtered and total:
        waiting = (
            Plural.tr("%n write waits", "", total)
            if total == 1
            else Plural.tr("%n writes wait", "", total)
        )
        return (
            translate("sophmate", "No write matches the filters"),
            translate(
                "sophmate",
                "{n} in the inbox, none of them of this choice. Clear filters (Alt+L) to "
                "see them all.",
            ).format(n=waiting),
        )
    if applied:
        return translate("sophmate", "No applied write to undo"), translate(
            "sophmate", "Nothing has been applied yet."
        )
    return (
        translate("sophmate", "Nothing waits for approval"),
        translate(
            "sophmate",
            "Writes appear here when a run plans them and its workflow's approval gate holds "
            "them: dry runs, staging and production runs all ask first unless the gate says "
            "otherwise.\n\nTo get some: enable a workflow on the Workflows page and drop a file "
            'into its watched folder, or use "Dry run on a file…" there. Interrupted writes '
            "(an apply the engine could not finish) wait here too.",
        ),
    )


class PreviewSync:
    """Keeps the inbox's preview on what the table shows: the current write (re-read,
    so a decision's outcome shows), the selection when several rows are selected,
    or why nothing is there."""

    def __init__(self, page) -> None:  # an InboxPage (not imported: it imports this)
        self.page = page
        self.counts = (0, 0)  # (shown, total)
        self._shown: InboxRow | None = None  # the table row the preview was read for
        self._reads = 0  # the latest read asked for wins: an older answer is dropped
        self._in_background = False
        self._reader = BackgroundRead(
            page, page.services.tasks, lambda: None, self._read, self._read_failed
        )

    @contextmanager
    def refreshing(self, from_events: bool) -> Iterator[None]:
        """While the table takes in a refresh that changes elsewhere asked for, a write
        to preview is read in the background: its ~10 statements on the main thread,
        each waiting for the GIL while the engine applies, stalled the window for up to
        90 ms (bench.window). A person's own refresh still shows it at once."""
        self._in_background = from_events
        try:
            yield
        finally:
            self._in_background = False

    def set_counts(self, shown: int, total: int) -> None:
        self.counts = (shown, total)
        if not shown:
            self.show()

    def show(self, *, again: bool = False) -> None:
        """`again`: re-read the current write even when its row is unchanged (after a
        decision). Otherwise a refresh that left the current row as it was (the table
        re-reads at every change: 1,000 applies elsewhere) does not re-read it."""
        page = self.page
        rows = page.selected_rows()
        if len(rows) != 1:
            self._shown = None
        if len(rows) > 1:
            page.preview.show_note(*selection_text(rows))
            return
        index = page.table.selectionModel().currentIndex()
        if not index.isValid() and rows:
            index = page.model.index(page.table.selected_row_numbers()[0], 0)
        if not index.isValid():
            if page.model.rowCount() == 0:
                filters = page.filter_bar.filters()
                page.preview.show_note(*empty_text(self.counts[1], filters.active, filters.applied))
            else:
                page.preview.show_write(None)
            self._shown = None
            return
        current = page.model.row_at(index.row())
        if not again and current == self._shown and page.preview.row is not None:
            return
        self._shown = current
        self._reads += 1
        if self._in_background:
            self._read_in_background(current)
            return
        self._show_read(_write_or_none(page.console, current.id))

    def _read_in_background(self, current: InboxRow) -> None:
        page = self.page
        shown = page.preview.row
        if shown is None or shown.id != current.id:  # the same write stays until read anew
            page.preview.show_note(
                translate("sophmate", "{kind} {target}").format(
                    kind=current.kind, target=current.target
                ),
                translate("sophmate", "Reading write {id}…").format(id=current.id),
            )
        console, read = page.console, self._reads
        self._reader.request(lambda: (read, _write_or_none(console, current.id)))

    def _read(self, result: tuple[int, object]) -> None:
        read, row = result
        if read == self._reads:  # else asked again since (another row, a decision)
            self._show_read(row)

    def _show_read(self, row) -> None:
        if row is None:
            self._shown = None
        self.page.preview.show_write(row)

    def _read_failed(self, _error: BaseException) -> None:
        self._shown = None  # read again at the next change


def _write_or_none(console, write_id: int):
    """The write's preview row; None when it was decided and gone meanwhile (the next
    refresh drops its table row)."""
    try:
        return console.get_write(write_id)
    except SophmateError:
        return None
