"""The production checklist beside the editor: each item present (✓) or missing (✗)."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from sophmate_desktop.domain.policy import CHECKLIST_ITEMS

PRESENT_STYLE = "color: #2e7d32;"
MISSING_STYLE = "color: #c62828; font-weight: bold;"
UNKNOWN_STYLE = "color: #78909c;"


class ChecklistView(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Production checklist"), parent)
        self.setObjectName("productionChecklist")
        layout = QVBoxLayout(self)
        self.labels: dict[str, QLabel] = {}
        for item in CHECKLIST_ITEMS:
            label = QLabel()
            label.setObjectName("checklistItem")
            self.labels[item] = label
            layout.addWidget(label)
        self.summary = QLabel()
        self.summary.setObjectName("checklistSummary")
        self.summary.setWordWrap(True)
        layout.addSpacing(6)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        self.set_missing(None)

    def set_missing(self, missing: list[str] | None) -> None:
        """Show which items are missing; None when there is no document to judge."""
        for item, label in self.labels.items():
            if missing is None:
                label.setText(f"·  {item}")
                label.setProperty("present", None)
                label.setStyleSheet(UNKNOWN_STYLE)
                continue
            present = item not in missing
            label.setText(f"{'✓' if present else '✗'}  {item}")
            label.setToolTip("" if present else self.tr("missing: {item}").format(item=item))
            label.setProperty("present", present)
            label.setStyleSheet(PRESENT_STYLE if present else MISSING_STYLE)
        if missing is None:
            self.summary.setText("")
        elif missing:
            count = len(missing)
            self.summary.setText(
                self.tr(
                    "%n item missing: it cannot be enabled or promoted to production yet.",
                    "",
                    count,
                )
                if count == 1
                else self.tr(
                    "%n items missing: it cannot be enabled or promoted to production yet.",
                    "",
                    count,
                )
            )
        else:
            self.summary.setText(self.tr("Complete: it may be enabled."))

    def state(self) -> dict[str, bool | None]:
        """item -> present (True), missing (False) or unknown (None)."""
        return {item: label.property("present") for item, label in self.labels.items()}

    def texts(self) -> list[str]:
        return [label.text() for label in self.labels.values()]
