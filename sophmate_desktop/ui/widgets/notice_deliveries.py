"""Who outside the window a notice was sent to: each target, sent or failed and why
(read in the background; re-read every second while a delivery is still pending)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import Plural, translate
from sophmate_desktop.ui.widgets.switch_text import PAUSED_RED

PENDING_REREAD_MS = 1000
STATUS_COLOURS = {"sent": "#2e7d32", "failed": PAUSED_RED, "pending": "#b35900"}


def delivery_html(deliveries: list) -> str:
    if not deliveries:
        return translate(
            "sophmate",
            "<p style='color:#888'>Not sent outside the window (tray and this list only).</p>",
        )
    items = []
    for d in deliveries:
        colour = STATUS_COLOURS.get(d.status, "#333333")
        word = (
            translate("sophmate", "sending…")
            if d.status == "pending" and d.attempts == 0
            else d.status
        )
        n = d.attempts
        tries = (
            (Plural.tr(", %n attempt", "", n) if n == 1 else Plural.tr(", %n attempts", "", n))
            if n
            else ""
        )
        why = f"<br><span style='color:#888'>{escape(d.last_error)}</span>" if d.last_error else ""
        items.append(
            f"<li><b>{escape(d.target)}</b>: "
            f"<span style='color:{colour}'>{escape(word)}{tries}</span>{why}</li>"
        )
    return translate("sophmate", "<p><b>Told</b></p>") + "<ul>" + "".join(items) + "</ul>"


class NoticeDeliveries(QLabel):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeDeliveries")
        self.setWordWrap(True)
        self.services = services
        self.notice_id: int | None = None
        self._reader = BackgroundRead(
            self, services.tasks, lambda: {}, self._show, self._failed, report=False
        )
        self._again = QTimer(self)
        self._again.setSingleShot(True)
        self._again.setInterval(PENDING_REREAD_MS)
        self._again.timeout.connect(self._reread)

    def show_for(self, notice_id: int | None) -> None:
        self.notice_id = notice_id
        self._again.stop()
        if notice_id is None:
            self.clear()
            return
        self._reread()

    def _reread(self) -> None:
        if self.notice_id is None:
            return
        wanted = self.notice_id
        console = self.services.console
        self._reader.request(lambda: (wanted, console.notice_deliveries([wanted])[wanted]))

    def _show(self, result: tuple[int, list]) -> None:
        notice_id, deliveries = result
        if notice_id != self.notice_id:
            return
        self.setText(delivery_html(deliveries))
        if any(d.status == "pending" for d in deliveries):
            self._again.start()

    def _failed(self, error: BaseException) -> None:
        self.setText(
            self.tr(
                "<p style='color:{PAUSED_RED}'>Could not read the deliveries: {error}</p>"
            ).format(PAUSED_RED=PAUSED_RED, error=escape(str(error)))
        )
