"""The inbox's preview pane: exactly what a write will do, in the form a person reads.

The engine stores a preview per write (sophmate_desktop/engine/actions/*.py), with
secrets only as `${secret:NAME}` references. This pane renders it by kind:
write_file as a coloured unified diff (a new file as all-added lines), http_request
as the request (method and URL, headers, body), send_email as the message, and
run_command with its argv one argument a line.
"""

from __future__ import annotations

import shlex

from PySide6.QtCore import Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextEdit, QVBoxLayout, QWidget

from sophmate_desktop.domain.clock import age_text
from sophmate_desktop.store.rows import WriteRow
from sophmate_desktop.ui.translation import Plural, translate

ADDED = QColor("#116329")
ADDED_BG = QColor("#dafbe1")
REMOVED = QColor("#a40e26")
REMOVED_BG = QColor("#ffebe9")
HUNK = QColor("#0550ae")
NOTE = QColor("#7a5c00")

NOT_SENT = "(previewed, not sent:"
STAGING_NOTE = "(staging: sent through the staging server"
STALE_NOTE = "changed since this preview"  # in the comment of a stale write's replacement


def diff_line_style(line: str) -> str | None:
    """The style of one line of a unified diff: header, hunk, added, removed or None."""
    if line.startswith(("+++ ", "--- ")):
        return "header"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return None


class _Writer:
    """Appends lines to a document, each with its own colours."""

    def __init__(self, edit: QTextEdit) -> None:
        edit.clear()
        self.cursor = QTextCursor(edit.document())
        self.first = True

    def line(
        self,
        text: str,
        colour: QColor | None = None,
        background: QColor | None = None,
        bold: bool = False,
        italic: bool = False,
    ) -> None:
        block = QTextBlockFormat()
        if background is not None:
            block.setBackground(QBrush(background))
        if self.first:
            self.cursor.setBlockFormat(block)
            self.first = False
        else:
            self.cursor.insertBlock(block)
        fmt = QTextCharFormat()
        if colour is not None:
            fmt.setForeground(QBrush(colour))
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setFontItalic(italic)
        self.cursor.insertText(text, fmt)

    def styled(self, text: str, style: str | None) -> None:
        if style == "added":
            self.line(text, ADDED, ADDED_BG)
        elif style == "removed":
            self.line(text, REMOVED, REMOVED_BG)
        elif style == "hunk":
            self.line(text, HUNK)
        elif style == "header":
            self.line(text, bold=True)
        elif style == "note":
            self.line(text, NOTE, italic=True)
        else:
            self.line(text)


def _not_sent_note(out: _Writer, lines: list[str]) -> list[str]:
    """The notes a plan puts first (not sent; sent to the staging server), as notes."""
    while lines and lines[0].startswith((NOT_SENT, STAGING_NOTE)):
        out.styled(lines[0], "note")
        lines = lines[1:]
    return lines


def _render_file(out: _Writer, preview: str) -> None:
    lines = preview.splitlines()
    if not lines:
        return
    if lines[0].startswith("--- "):
        for line in lines:
            out.styled(line, diff_line_style(line))
    elif lines[0].startswith("new file: "):
        out.styled(lines[0], "header")
        n = len(lines) - 1
        count = Plural.tr("%n line", "", n) if n == 1 else Plural.tr("%n lines", "", n)
        out.styled(translate("sophmate", "@@ new file, {count} @@").format(count=count), "hunk")
        for line in lines[1:]:
            out.styled("+" + line, "added")
    else:  # unchanged, or too large to show a diff
        out.styled(lines[0], "note")
        for line in lines[1:]:
            out.line(line)


def _render_headers_then_body(out: _Writer, lines: list[str], request_line: bool) -> None:
    in_headers = True
    for i, line in enumerate(lines):
        if in_headers and not line:
            in_headers = False
            out.line("")
        elif in_headers and request_line and i == 0:
            out.line(line, bold=True)
        elif in_headers and ": " in line:
            name, value = line.split(": ", 1)
            out.line(f"{name}: {value}")
            _bold_prefix(out, len(name) + 1)
        else:
            out.line(line)


def _bold_prefix(out: _Writer, length: int) -> None:
    """Make the first `length` characters of the last line bold (a header's name)."""
    cursor = QTextCursor(out.cursor.block())
    cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
    cursor.movePosition(
        QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor, length
    )
    fmt = QTextCharFormat()
    fmt.setFontWeight(QFont.Weight.Bold)
    cursor.mergeCharFormat(fmt)


def _render_command(out: _Writer, preview: str) -> None:
    lines = preview.splitlines()
    if not lines:
        return
    out.line("$ " + lines[0], bold=True)
    try:
        argv = shlex.split(lines[0])
    except ValueError:
        argv = []
    if argv:
        out.line("")
        out.line("argv (no shell):", NOTE, italic=True)
        for i, arg in enumerate(argv):
            out.line(f"  [{i}] {arg}")
    if lines[1:]:
        out.line("")
    for line in lines[1:]:
        out.line(line)


def render_preview(edit: QTextEdit, kind: str, preview: str) -> None:
    """Fill `edit` with the preview of a write of `kind`."""
    out = _Writer(edit)
    if kind == "write_file":
        _render_file(out, preview)
    elif kind == "http_request":
        _render_headers_then_body(out, _not_sent_note(out, preview.splitlines()), True)
    elif kind == "send_email":
        _render_headers_then_body(out, _not_sent_note(out, preview.splitlines()), False)
    elif kind == "run_command":
        _render_command(out, preview)
    else:
        for line in preview.splitlines():
            out.line(line)
    edit.moveCursor(QTextCursor.MoveOperation.Start)


def decision_text(row: WriteRow) -> str:
    """Who decided what and when, for writes that someone has decided; for the new
    write that replaces a stale one, why it is there."""
    if not row.decided_by or row.decided_at is None:
        if row.status == "pending" and row.comment and STALE_NOTE in row.comment:
            return translate("sophmate", "New preview: {comment}.").format(comment=row.comment)
        return ""
    when = f"{row.decided_at:%Y-%m-%d %H:%M}"
    if row.status == "rejected":
        text = translate("sophmate", "Rejected by {who} on {when} UTC")
    elif row.status in ("interrupted", "applied", "applying", "failed", "stale"):
        text = translate("sophmate", "Approved by {who} on {when} UTC")
    else:
        text = translate("sophmate", "{status} by {who} on {when} UTC")
    text = text.format(status=row.status.capitalize(), who=row.decided_by, when=when)
    if row.comment:
        text += translate("sophmate", ": “{comment}”").format(comment=row.comment)
    if row.applied_at is not None:
        text += translate("sophmate", "; applied {when} UTC").format(
            when=f"{row.applied_at:%Y-%m-%d %H:%M}"
        )
    return text


def approval_text(row: WriteRow) -> str:
    """ "1 of 2 approvals" for a write that needs several people, and why the person
    looking may not approve it (before they press A)."""
    parts = []
    if row.approvals_needed > 1 and row.status == "pending":
        parts.append(
            translate("sophmate", "{given} of {needed} approvals").format(
                given=row.approvals_given, needed=row.approvals_needed
            )
        )
    if row.refusal:
        parts.append(translate("sophmate", "You may not approve it: {why}").format(why=row.refusal))
    return " · ".join(parts)


class InboxPreview(QWidget):
    """Title, facts, who decided, and the rendered preview of one write."""

    open_run_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("writePreviewPane")
        self.title = QLabel()
        self.title.setObjectName("previewTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.facts = QLabel()
        self.facts.setObjectName("previewFacts")
        self.facts.setWordWrap(True)
        self.decision = QLabel()
        self.decision.setObjectName("previewDecision")
        self.decision.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("previewProblem")
        self.problem.setWordWrap(True)
        self.problem.setProperty("level", "error")
        palette = self.problem.palette()
        palette.setColor(QPalette.ColorRole.WindowText, REMOVED)
        self.problem.setPalette(palette)
        self.text = QTextEdit()
        self.text.setObjectName("writePreview")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # A badge beside the title, not only words in the facts line: customer-facing
        # output is what an approver must not miss (the style sheet colours [badge]).
        self.customer_badge = QLabel(translate("sophmate", "customer-facing"))
        self.customer_badge.setObjectName("customerBadge")
        self.customer_badge.setProperty("badge", "customer")
        self.customer_badge.setToolTip(
            translate("sophmate", "Customer-facing: always needs a person's approval")
        )
        self.ai_badge = QLabel(translate("sophmate", "AI-drafted"))
        self.ai_badge.setObjectName("aiBadge")
        self.ai_badge.setProperty("badge", "ai")
        self.ai_badge.setToolTip(
            translate("sophmate", "Drafted by an AI prompt step: read it before it reaches anyone")
        )
        self.open_run = QPushButton(translate("sophmate", "&Open run"))
        self.open_run.setObjectName("openRunButton")
        self.open_run.clicked.connect(self._open_run)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.customer_badge)
        heading.addWidget(self.ai_badge)
        heading.addWidget(self.open_run)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(heading)
        for widget in (self.facts, self.decision, self.problem):
            layout.addWidget(widget)
        layout.addWidget(self.text, 1)
        self.row: WriteRow | None = None
        self.show_write(None)

    def show_write(self, row: WriteRow | None) -> None:
        self.row = row
        self.open_run.setEnabled(row is not None)
        self.customer_badge.setVisible(row is not None and row.customer_facing)
        self.ai_badge.setVisible(row is not None and row.ai_drafted)
        if row is None:
            self.title.setText(self.tr("Select a write to see what it will do."))
            for label in (self.facts, self.decision, self.problem):
                label.clear()
                label.setVisible(False)
            self.text.clear()
            return
        badge = " · customer-facing" if row.customer_facing else ""
        badge += " · AI-drafted" if row.ai_drafted else ""
        self.title.setText(row.summary or f"{row.kind} {row.target}")
        self.facts.setText(
            self.tr(
                "{kind} · {category} · workflow {workflow} · run {run_id} · write {id} · "
                "{status} · waiting {age}{badge}"
            ).format(
                kind=row.kind,
                category=row.category,
                workflow=row.workflow,
                run_id=row.run_id,
                id=row.id,
                status=row.status,
                age=age_text(row.created_at),
                badge=badge,
            )
        )
        self.facts.setVisible(True)
        decided = " · ".join(t for t in (decision_text(row), approval_text(row)) if t)
        self.decision.setText(decided)
        self.decision.setVisible(bool(decided))
        self.problem.setText(self.tr("Error: {error}").format(error=row.error) if row.error else "")
        self.problem.setVisible(bool(row.error))
        render_preview(self.text, row.kind, row.preview)

    def show_note(self, title: str, body: str) -> None:
        """Not one write: several selected, or none (inbox_overview.py words them)."""
        self.row = None
        self.open_run.setEnabled(False)
        self.customer_badge.setVisible(False)
        self.title.setText(title)
        for label in (self.facts, self.decision, self.problem):
            label.clear()
            label.setVisible(False)
        self.text.setPlainText(body)

    def _open_run(self) -> None:
        if self.row is not None:
            self.open_run_requested.emit(self.row.run_id)
