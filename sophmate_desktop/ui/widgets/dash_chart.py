"""Runs per day as stacked bars (succeeded green below, failed red on top), QPainter only."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from sophmate_desktop.console.dashboard import DayCount
from sophmate_desktop.ui.translation import translate

SUCCEEDED_COLOUR = QColor("#2e7d32")
FAILED_COLOUR = QColor("#c62828")
TITLE = QT_TRANSLATE_NOOP("sophmate", "Runs per day, last 14 days (UTC)")


def nice_step(maximum: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5 x 10^k) so that about `ticks` steps cover `maximum`."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


class RunsPerDayChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsChart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 210)
        self._days: list[DayCount] = []

    def sizeHint(self) -> QSize:
        return QSize(560, 260)

    def set_days(self, days: Sequence[DayCount]) -> None:
        self._days = list(days)
        total_ok = sum(d.succeeded for d in self._days)
        total_failed = sum(d.failed for d in self._days)
        self.setAccessibleName(translate("sophmate", TITLE))
        self.setAccessibleDescription(
            self.tr("{total_ok} succeeded and {total_failed} failed runs over {n} days").format(
                total_ok=total_ok, total_failed=total_failed, n=len(self._days)
            )
        )
        self.update()

    def days(self) -> list[DayCount]:
        return list(self._days)

    # Geometry, shared by painting, tooltips and tests -------------------

    def _metrics(self) -> QFontMetrics:
        return QFontMetrics(self.font())

    def plot_rect(self) -> QRectF:
        fm = self._metrics()
        left = fm.horizontalAdvance(f"{self._top():,}") + 14
        top = fm.height() * 2 + 10
        bottom = fm.height() + 10
        return QRectF(
            left, top, max(1, self.width() - left - 10), max(1, self.height() - top - bottom)
        )

    def _top(self) -> int:
        biggest = max((d.succeeded + d.failed for d in self._days), default=0)
        step = nice_step(biggest)
        return max(step, math.ceil(biggest / step) * step)

    def slot_rect(self, index: int) -> QRectF:
        plot = self.plot_rect()
        width = plot.width() / max(1, len(self._days))
        return QRectF(plot.left() + index * width, plot.top(), width, plot.height())

    def bar_rects(self, index: int) -> tuple[QRectF, QRectF]:
        """(succeeded, failed) rectangles of day `index`; empty rectangles for zero."""
        plot, slot = self.plot_rect(), self.slot_rect(index)
        day = self._days[index]
        scale = plot.height() / self._top()
        bar_width = max(2.0, slot.width() * 0.62)
        x = slot.center().x() - bar_width / 2
        ok_height = day.succeeded * scale
        failed_height = day.failed * scale
        ok = QRectF(x, plot.bottom() - ok_height, bar_width, ok_height)
        failed = QRectF(x, ok.top() - failed_height, bar_width, failed_height)
        return ok, failed

    def day_at(self, point: QPointF) -> int | None:
        for i in range(len(self._days)):
            if self.slot_rect(i).adjusted(0, -20, 0, 40).contains(point):
                return i
        return None

    # Painting -------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        grid = self.palette().color(QPalette.ColorRole.Mid)
        fm = self._metrics()
        plot = self.plot_rect()

        painter.setPen(text)
        painter.drawText(QPointF(4, fm.ascent() + 2), translate("sophmate", TITLE))
        self._paint_legend(painter, fm, text)

        top = self._top()
        step = nice_step(top)
        for value in range(0, top + 1, step):
            y = plot.bottom() - value * plot.height() / top
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine if value else Qt.PenStyle.SolidLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            label = f"{value:,}"
            painter.drawText(
                QPointF(plot.left() - 6 - fm.horizontalAdvance(label), y + fm.ascent() / 2 - 1),
                label,
            )

        every = self._label_every(fm)
        for i, day in enumerate(self._days):
            ok, failed = self.bar_rects(i)
            painter.fillRect(ok, SUCCEEDED_COLOUR)
            painter.fillRect(failed, FAILED_COLOUR)
            if (len(self._days) - 1 - i) % every == 0:  # always label today
                label = day.day.strftime("%d %b")
                x = self.slot_rect(i).center().x() - fm.horizontalAdvance(label) / 2
                painter.setPen(text)
                painter.drawText(QPointF(x, plot.bottom() + fm.ascent() + 5), label)

        if not any(d.succeeded or d.failed for d in self._days):
            painter.setPen(text)
            painter.drawText(
                plot, Qt.AlignmentFlag.AlignCenter, self.tr("No finished runs in the last 14 days")
            )
        painter.end()

    def _label_every(self, fm: QFontMetrics) -> int:
        if not self._days:
            return 1
        needed = fm.horizontalAdvance("28 Sep") + 8
        width = self.slot_rect(0).width()
        return max(1, math.ceil(needed / max(1.0, width)))

    def _paint_legend(self, painter: QPainter, fm: QFontMetrics, text: QColor) -> None:
        x = self.width() - 8
        y = fm.height() + 6
        box = fm.ascent() - 2
        for label, colour in (
            (self.tr("Failed"), FAILED_COLOUR),
            (self.tr("Succeeded"), SUCCEEDED_COLOUR),
        ):
            x -= fm.horizontalAdvance(label)
            painter.setPen(text)
            painter.drawText(QPointF(x, y + fm.ascent() - 1), label)
            x -= box + 5
            painter.fillRect(QRectF(x, y + 1, box, box), colour)
            x -= 14

    # Tooltips ---------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.day_at(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
            else:
                day = self._days[index]
                QToolTip.showText(
                    event.globalPos(),
                    f"{day.day:%a %d %b %Y}: {day.succeeded} succeeded, {day.failed} failed",
                    self,
                )
            return True
        return super().event(event)
