"""The review dialog: read the workflow's state since its last review, record a review.

Recording a review marks the runs the reviewer ticked reviewed (the successful ones
are ticked at first; a failed run only when ticked), and promotion counts the
reviewed successful ones ("3 of 5 reviewed staging runs"); the dialog says so before
and after, so the reviewer knows when promotion becomes possible.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Signal
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
from sophmate_desktop.ui.translation import Plural, translate
from sophmate_desktop.ui.widgets.review_runs import ReviewRunList

# Marked for lupdate here, translated where shown (kind_label).
KIND_LABELS = {
    ReviewKind.FIRST_RUN.value: QT_TRANSLATE_NOOP("sophmate", "First run"),
    ReviewKind.AFTER_FAILURE.value: QT_TRANSLATE_NOOP("sophmate", "After a failure"),
    ReviewKind.PROVIDER_CHANGE.value: QT_TRANSLATE_NOOP("sophmate", "After a provider change"),
    ReviewKind.MONTHLY.value: QT_TRANSLATE_NOOP("sophmate", "Regular (monthly)"),
}


def kind_label(kind: str) -> str:
    """A review kind in words ("First run"); an unknown kind as it is stored."""
    label = KIND_LABELS.get(kind)
    return translate("sophmate", label) if label else kind


def _runs(n: int) -> str:
    return Plural.tr("%n run", "", n) if n == 1 else Plural.tr("%n runs", "", n)


def _records(n: int) -> str:
    if n == 1:
        return Plural.tr("%n affected record", "", n)
    return Plural.tr("%n affected records", "", n)


def _finished_runs(n: int) -> str:
    return Plural.tr("%n finished run", "", n) if n == 1 else Plural.tr("%n finished runs", "", n)


def runs_text(s: ReviewSummary) -> str:
    if not s.unreviewed:
        return translate("sophmate", "no finished runs since the last review")
    parts = [
        translate("sophmate", "{n} succeeded").format(n=s.unreviewed_succeeded),
        translate("sophmate", "{n} failed").format(n=s.unreviewed_failed),
    ]
    if s.unreviewed_rejected:
        parts.append(translate("sophmate", "{n} rejected").format(n=s.unreviewed_rejected))
    return ", ".join(parts)


def month_text(s: ReviewSummary) -> str:
    """The last 30 days in one line: runs, failures, affected records, cost."""
    if not s.month_runs:
        return translate("sophmate", "no finished runs")
    failed = (
        translate("sophmate", " ({n} failed)").format(n=s.month_failed) if s.month_failed else ""
    )
    return translate("sophmate", "{runs}{failed}, {records}, cost {cost}").format(
        runs=_runs(s.month_runs),
        failed=failed,
        records=_records(s.month_records),
        cost=f"{s.month_cost:,.2f}",
    )


def promotion_status(s: ReviewSummary) -> str:
    """Whether promotion is allowed as things stand (e.g. right after a review)."""
    if s.next_stage is None:
        return translate("sophmate", "in production (the last stage)")
    if s.promotion_now is None:
        return translate("sophmate", "promotion to {stage} is allowed now").format(
            stage=s.next_stage.replace("_", " ")
        )
    # promotion_now is the console's refusal, in the console's words
    why = s.promotion_now.removeprefix(f"cannot promote to {s.next_stage}: ")
    return translate("sophmate", "not yet ({why})").format(why=why)


def promotion_text(s: ReviewSummary) -> str:
    """Promotion now, and what recording this review would change."""
    if s.next_stage is None or s.promotion_now is None:
        return promotion_status(s)
    why = s.promotion_now.removeprefix(f"cannot promote to {s.next_stage}: ")
    if s.promotion_after is None:
        return translate("sophmate", "not yet ({why}); after this review it is allowed").format(
            why=why
        )
    return translate("sophmate", "not yet ({why}); this review alone is not enough").format(why=why)


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
        self.setWindowTitle(self.tr("Review {workflow}").format(workflow=workflow))

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
        form.addRow(self.tr("Workflow:"), QLabel(f"{s.workflow} ({s.category})"))
        form.addRow(self.tr("Stage:"), QLabel(s.stage.replace("_", " ")))
        self.owner_edit = QLineEdit(s.owner or "")
        self.owner_edit.setObjectName("reviewOwner")
        self.owner_edit.setPlaceholderText(
            translate("sophmate", "nobody: name the person who answers for it")
        )
        self.owner_edit.setToolTip(
            translate("sophmate", "Change it to replace an owner who left (a new revision)")
        )
        form.addRow(self.tr("&Owner:"), self.owner_edit)
        last = (
            f"{s.last_reviewed_at:%Y-%m-%d %H:%M} UTC by {s.last_reviewer or 'unknown'}"
            if s.last_reviewed_at
            else "never"
        )
        form.addRow(self.tr("Last review:"), QLabel(last))
        self.runs_label = QLabel(runs_text(s))
        self.runs_label.setObjectName("reviewRuns")
        form.addRow(self.tr("Runs since then:"), self.runs_label)
        self.month_label = QLabel(month_text(s))
        self.month_label.setObjectName("reviewMonth")
        self.month_label.setToolTip(translate("sophmate", "Runs that finished in the last 30 days"))
        form.addRow(self.tr("Last 30 days:"), self.month_label)
        self.promotion_label = QLabel(promotion_text(s))
        self.promotion_label.setObjectName("reviewPromotion")
        self.promotion_label.setWordWrap(True)
        form.addRow(self.tr("Promotion:"), self.promotion_label)
        reasons = [reason] if reason else [d.reason for d in s.due]
        self.reason_label = QLabel(
            "\n".join(reasons) or self.tr("no review is due; a review is welcome")
        )
        self.reason_label.setObjectName("reviewReason")
        self.reason_label.setWordWrap(True)
        form.addRow(self.tr("Why now:"), self.reason_label)

    def _add_input_rows(self, form: QFormLayout, s: ReviewSummary, kind: str | None) -> None:
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("reviewKind")
        for value, label in KIND_LABELS.items():
            self.kind_combo.addItem(translate("sophmate", label), value)
        wanted = kind or (s.due[0].kind if s.due else ReviewKind.MONTHLY.value)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(wanted)))
        form.addRow(self.tr("&Kind:"), self.kind_combo)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("reviewNotes")
        self.notes.setPlaceholderText(
            translate("sophmate", "What you checked and what you found (required)")
        )
        self.notes.setTabChangesFocus(True)
        form.addRow(self.tr("&Notes:"), self.notes)
        self.run_list = ReviewRunList(self.console.review_runs(self.workflow))
        form.addRow(self.tr("&Runs covered:"), self.run_list)
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
            self.tr("&Record review"), QDialogButtonBox.ButtonRole.AcceptRole
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
            self.tr("Recording marks {ticked} of {runs} reviewed (the ticked ones).").format(
                ticked=ticked, runs=_finished_runs(total)
            )
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
