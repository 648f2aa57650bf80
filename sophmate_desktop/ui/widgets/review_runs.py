"""The runs a review covers, each with a tick box: the successful ones are ticked."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from sophmate_desktop.console.review_runs import ReviewRunRow


def run_line(run: ReviewRunRow) -> str:
    when = f"{run.finished_at:%Y-%m-%d %H:%M} UTC" if run.finished_at else "not finished"
    return f"run {run.id} · {run.status} · {run.mode.replace('_', ' ')} · {when}"


class ReviewRunList(QListWidget):
    changed = Signal()  # a tick was set or cleared

    def __init__(self, runs: Sequence[ReviewRunRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewRunList")
        self.setAccessibleName(self.tr("Runs this review covers"))
        self.setToolTip(
            self.tr("Tick the runs you read through; promotion counts the successful ones reviewed")
        )
        for run in runs:
            item = QListWidgetItem(run_line(run))
            item.setData(Qt.ItemDataRole.UserRole, run.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = Qt.CheckState.Checked if run.succeeded else Qt.CheckState.Unchecked
            item.setCheckState(ticked)
            self.addItem(item)
        self.setMaximumHeight(140)
        self.itemChanged.connect(lambda _item: self.changed.emit())

    def ticked_ids(self) -> list[int]:
        return [
            self.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]
