"""The YAML tab of the workflow editor: the file as text, with line numbers, the lines
that have errors highlighted and the errors listed with their line numbers.
Activating an error (click or Enter) moves the cursor to its line."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QPainter, QPaintEvent, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.workflow_file import FieldError
from sophmate_desktop.ui.widgets.wf_document import describe_error

ERROR_LINE = QColor("#fde0e0")
GUTTER = QColor("#eef1f3")
GUTTER_TEXT = QColor("#78909c")
GUTTER_ERROR = QColor("#c62828")


class _Gutter(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)


class CodeEditor(QPlainTextEdit):
    """A plain text editor with line numbers; error lines get a red number."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.error_lines: set[int] = set()
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._scroll_gutter)
        self._update_margin()

    def gutter_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 10 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margin(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), GUTTER)
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            line = block.blockNumber() + 1
            if block.isVisible():
                painter.setPen(GUTTER_ERROR if line in self.error_lines else GUTTER_TEXT)
                painter.drawText(
                    0, top, self._gutter.width() - 5, height, Qt.AlignmentFlag.AlignRight, str(line)
                )
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def highlight_lines(self, lines: set[int]) -> None:
        self.error_lines = set(lines)
        selections = []
        for line in sorted(lines):
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(ERROR_LINE)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(block)
            selections.append(selection)
        self.setExtraSelections(selections)
        self._gutter.update()

    def go_to_line(self, line: int) -> None:
        block = self.document().findBlockByNumber(max(0, line - 1))
        if block.isValid():
            self.setTextCursor(QTextCursor(block))
            self.centerCursor()
            self.setFocus()


class YamlView(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = CodeEditor()
        self.editor.setObjectName("yamlEdit")
        self.editor.textChanged.connect(self.changed)
        self.errors = QListWidget()
        self.errors.setObjectName("yamlErrors")
        self.errors.setMaximumHeight(96)
        self.errors.setStyleSheet("QListWidget { color: #c62828; }")
        self.errors.itemActivated.connect(self._go_to_error)
        self.errors.itemClicked.connect(self._go_to_error)
        self.errors.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.errors)

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)

    def show_errors(self, errors: list[FieldError]) -> None:
        self.errors.clear()
        for error in errors:
            item = QListWidgetItem(describe_error(error))
            item.setData(Qt.ItemDataRole.UserRole, error.line)
            self.errors.addItem(item)
        self.errors.setVisible(bool(errors))
        self.editor.highlight_lines({e.line for e in errors if e.line is not None})

    def error_messages(self) -> list[str]:
        return [self.errors.item(i).text() for i in range(self.errors.count())]

    def highlighted_lines(self) -> set[int]:
        return set(self.editor.error_lines)

    def _go_to_error(self, item: QListWidgetItem) -> None:
        line = item.data(Qt.ItemDataRole.UserRole)
        if line:
            self.editor.go_to_line(int(line))
