"""The notification centre's table: columns, level colours and unread rows in bold."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QColor, QFont

from sophmate_desktop.console.notices import FAILURE_KINDS, NoticeRow
from sophmate_desktop.ui.models.base import AnyIndex, Column, LazyTableModel
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.switch_text import local_time

LEVEL_COLOURS = {"error": QColor("#c62828"), "warning": QColor("#b35900")}
KIND_WORDS = {
    "run_failed": QT_TRANSLATE_NOOP("sophmate", "run failed"),
    "watch_problem": QT_TRANSLATE_NOOP("sophmate", "not watching"),
    "auto_paused": QT_TRANSLATE_NOOP("sophmate", "paused itself"),
    "writes_pending": QT_TRANSLATE_NOOP("sophmate", "writes pending"),
    "write_interrupted": QT_TRANSLATE_NOOP("sophmate", "write interrupted"),
    "escalation": QT_TRANSLATE_NOOP("sophmate", "escalation"),
}


def kind_words(row: NoticeRow) -> str:
    """A notice's kind in words ("run failed"); an unknown kind as it is stored."""
    words = KIND_WORDS.get(row.kind)
    return translate("sophmate", words) if words else row.kind


COUNT_IN_TITLE = frozenset({"writes_pending"})
# What the "Show" filter offers: label -> notice kinds (None: every kind).
KIND_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    (QT_TRANSLATE_NOOP("sophmate", "All notices"), None),
    (QT_TRANSLATE_NOOP("sophmate", "Failures"), FAILURE_KINDS),
    (QT_TRANSLATE_NOOP("sophmate", "Automatic pauses"), ("auto_paused",)),
    (
        QT_TRANSLATE_NOOP("sophmate", "Writes awaiting approval"),
        ("writes_pending", "write_interrupted"),
    ),
)


def notice_title(row: NoticeRow) -> str:
    """The title with the group count: "intake: run 7 failed ×3". A pending-writes
    notice carries its number in the title already ("12 writes await approval")."""
    if row.count > 1 and row.kind not in COUNT_IN_TITLE:
        return f"{row.title} ×{row.count}"
    return row.title


def notice_state(row: NoticeRow) -> str:
    if row.acknowledged_at is not None:
        return f"acknowledged by {row.acknowledged_by} {local_time(row.acknowledged_at)}"
    if row.needs_acknowledgement:
        return "needs acknowledging"
    return "read" if row.read else "new"


def _level_colour(row: NoticeRow) -> QColor | None:
    return LEVEL_COLOURS.get(row.level)


COLUMNS = (
    Column(
        QT_TRANSLATE_NOOP("sophmate", "When"),
        lambda r: local_time(r.at),
        "at",
        lambda r: f"{r.at:%Y-%m-%d %H:%M:%S} UTC",
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Level"), lambda r: r.level, "level", foreground=_level_colour
    ),
    Column(QT_TRANSLATE_NOOP("sophmate", "Kind"), kind_words, "kind"),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Notice"),
        notice_title,
        "title",
        lambda r: r.body,
        _level_colour,
    ),
    Column(QT_TRANSLATE_NOOP("sophmate", "Workflow"), lambda r: r.workflow or "", "workflow"),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Run"),
        lambda r: "" if r.run is None else f"#{r.run}",
        "run",
        align_right=True,
    ),
    Column(QT_TRANSLATE_NOOP("sophmate", "State"), notice_state, "acknowledged"),
)


class NoticeTableModel(LazyTableModel):
    """Unread notices in bold; rows read in this session lose the bold at once."""

    def __init__(self, fetch: Callable, parent=None) -> None:
        super().__init__(COLUMNS, fetch, parent=parent)
        self._read_here: set[int] = set()
        self._bold = QFont()
        self._bold.setBold(True)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.FontRole and index.isValid():
            row = self.row_at(index.row())
            return self._bold if self.is_unread(row) else None
        return super().data(index, role)

    def is_unread(self, row: NoticeRow) -> bool:
        return not row.read and row.id not in self._read_here

    def mark_read_here(self, ids: Iterable[int]) -> None:
        self._read_here.update(ids)
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
            )

    def reload(self) -> None:
        self._read_here.clear()
        super().reload()
