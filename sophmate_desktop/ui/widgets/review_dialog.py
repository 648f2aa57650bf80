"""The review dialog: read the workflow's state since its last review, record a review.

Recording a review marks the runs the reviewer ticked reviewed (the successful ones
are ticked at first; a failed run only when ticked), and promotion counts the
reviewed successful ones ("3 of 5 reviewed staging runs"); the dialog says so before
and after, so the reviewer knows when promotion becomes possible.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console import Console
from sophmate_desktop.console.review_pages import ReviewSummary
from sophmate_desktop.domain.enums import ReviewKind
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.store.rows import ReviewRow
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.review_runs import ReviewRunList

KIND_LABELS = {
    ReviewKind.FIRST_RUN.value: "First run",
    ReviewKind.AFTER_FAILURE.value: "After a failure",
    ReviewKind.PROVIDER_CHANGE.value: "After a provider change",
    ReviewKind.MONTHLY.value: "Regular (monthly)",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def runs_text(s: ReviewSummary) -> str:
    if not s.unreviewed:
        return "no finished runs since the last review"
    parts = [f"{s.unreviewed_succeeded} succeeded", f"{s.unreviewed_failed} failed"]
    if s.unreviewed_rejected:
        parts.append(f"{s.unreviewed_rejected} rejected")
    return ", ".join(parts)


def month_text(s: ReviewSummary) -> str:
    """The last 30 days in one line: runs, failures, affected records, cost."""
    if not s.month_runs:
        return "no finished runs"
    failed = f" ({s.month_failed} failed)" if s.month_failed else ""
    return (
        f"{_plural(s.month_runs, 'run')}{failed}, "
        f"{_plural(s.month_records, 'affected record')}, cost {s.month_cost:,.2f}"
    )


def promotion_status(s: ReviewSummary) -> str:
    """Whether promotion is allowed as things stand (e.g. right after a review)."""
    if s.next_stage is None:
        return "in production (the last stage)"
    if s.promotion_now is None:
        return f"promotion to {s.next_stage.replace('_', ' ')} is allowed now"
    return f"not yet ({s.promotion_now.removeprefix(f'cannot promote to {s.next_stage}: ')})"


def promotion_text(s: ReviewSummary) -> str:
    """Promotion now, and what recording this review would change."""
    if s.next_stage is None or s.promotion_now is None:
        return promotion_status(s)
    text = s.promotion_now.removeprefix(f"cannot promote to {s.next_stage}: ")
    if s.promotion_after is None:
        return f"not yet ({text}); after this review it is allowed"
    return f"not yet ({text}); this review alone is not enough"


class ReviewDialog(QDialog):
    recorded = Signal(object)  # the stored ReviewRow

    def __init__(
        self,
        console: Console,
        workflow: str,
        *,
        kind: str | None = None,
        reason: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewDialog")
        self.console = console
        self.workflow = workflow
        self.result_row: ReviewRow | None = None
        self.summary = console.review_summary(workflow)
        s = self.summary
        self.setWindowTitle(f"Review {workflow}")

        form = QFormLayout()
        self._add_summary_rows(form, s, reason)
        self._add_input_rows(form, s, kind)
        self._build_buttons()
        self.notes.textChanged.connect(self._update)
        self.run_list.changed.connect(self._update)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.marks_label)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(560, 460)
        self.notes.setFocus()
        self._update()

    def _add_summary_rows(self, form: QFormLayout, s: ReviewSummary, reason: str | None) -> None:
        form.addRow("Workflow:", QLabel(f"{s.workflow} ({s.category})"))
        form.addRow("Stage:", QLabel(s.stage.replace("_", " ")))
        self.owner_edit = QLineEdit(s.owner or "")
        self.owner_edit.setObjectName("reviewOwner")
        self.owner_edit.setPlaceholderText(
            translate("sophmate", "nobody: name the person who answers for it")
        )
        self.owner_edit.setToolTip(
            translate("sophmate", "Change it to replace an owner who left (a new revision)")
        )
        form.addRow("&Owner:", self.owner_edit)
        last = (
            f"{s.last_reviewed_at:%Y-%m-%d %H:%M} UTC by {s.last_reviewer or 'unknown'}"
            if s.last_reviewed_at
            else "never"
        )
        form.addRow("Last review:", QLabel(last))
        self.runs_label = QLabel(runs_text(s))
        self.runs_label.setObjectName("reviewRuns")
        form.addRow("Runs since then:", self.runs_label)
        self.month_label = QLabel(month_text(s))
        self.month_label.setObjectName("reviewMonth")
        self.month_label.setToolTip(translate("sophmate", "Runs that finished in the last 30 days"))
        form.addRow("Last 30 days:", self.month_label)
        self.promotion_label = QLabel(promotion_text(s))
        self.promotion_label.setObjectName("reviewPromotion")
        self.promotion_label.setWordWrap(True)
        form.addRow("Promotion:", self.promotion_label)
        reasons = [reason] if reason else [d.reason for d in s.due]
        self.reason_label = QLabel("\n".join(reasons) or "no review is due; a review is welcome")
        self.reason_label.setObjectName("reviewReason")
        self.reason_label.setWordWrap(True)
        form.addRow("Why now:", self.reason_label)

    def _add_input_rows(self, form: QFormLayout, s: ReviewSummary, kind: str | None) -> None:
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("reviewKind")
        for value, label in KIND_LABELS.items():
            self.kind_combo.addItem(label, value)
        wanted = kind or (s.due[0].kind if s.due else ReviewKind.MONTHLY.value)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(wanted)))
        form.addRow("&Kind:", self.kind_combo)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("reviewNotes")
        self.notes.setPlaceholderText(
            translate("sophmate", "What you checked and what you found (required)")
        )
        self.notes.setTabChangesFocus(True)
        form.addRow("&Notes:", self.notes)
        self.run_list = ReviewRunList(self.console.review_runs(self.workflow))
        form.addRow("&Runs covered:", self.run_list)
        self.marks_label = QLabel("")
        self.marks_label.setObjectName("reviewMarks")

    def _build_buttons(self) -> None:
        self.error = QLabel("")
        self.error.setObjectName("reviewError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.record_button = self.buttons.addButton(
            "&Record review", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.record_button.setObjectName("recordReviewButton")
        self.record_button.setDefault(True)
        self.buttons.accepted.connect(self.record)
        self.buttons.rejected.connect(self.reject)

    def _update(self) -> None:
        self.record_button.setEnabled(bool(self.notes.toPlainText().strip()))
        total = self.run_list.count()
        ticked = len(self.run_list.ticked_ids())
        self.marks_label.setText(
            f"Recording marks {ticked} of {_plural(total, 'finished run')} reviewed "
            "(the ticked ones)."
            if total
            else ""
        )

    def record(self) -> None:
        notes = self.notes.toPlainText().strip()
        if not notes:
            return
        owner = self.owner_edit.text().strip()
        try:
            if owner and owner != (self.summary.owner or ""):
                self.console.replace_owner(self.workflow, owner)
            self.result_row = self.console.record_review(
                self.workflow, self.kind_combo.currentData(), notes, self.run_list.ticked_ids()
            )
        except SophmateError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.recorded.emit(self.result_row)
        self.accept()
