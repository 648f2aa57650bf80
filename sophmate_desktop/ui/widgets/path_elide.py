"""Eliding a line that holds paths: shorten the paths in their middle (both ends
of a path say the most: where it is and what it is called), never the words around
them; only when that is not enough is the end cut off."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

ELLIPSIS = "…"
_PATH = re.compile(r"[^\s]*/[^\s]+")  # a token with a slash: a path or a URL
CELL_PADDING = 10  # the text margins of an item view cell, both sides together


def _shorten(path: str, keep: int) -> str:
    """`path` with its middle replaced by an ellipsis, `keep` characters kept."""
    if keep >= len(path):
        return path
    keep = max(keep, 2)
    head = keep // 2
    return path[:head] + ELLIPSIS + path[len(path) - (keep - head) :]


def elide_paths(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` fitting `width` pixels: the longest paths shortened in the middle first."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    spans = [(m.start(), m.end()) for m in _PATH.finditer(text)]
    if spans:
        pieces = [text[i:j] for i, j in spans]
        lengths = [len(p) for p in pieces]
        while max(lengths) > 6:
            longest = lengths.index(max(lengths))
            lengths[longest] -= max(1, lengths[longest] // 8)
            candidate = _rebuild(text, spans, pieces, lengths)
            if metrics.horizontalAdvance(candidate) <= width:
                return candidate
    # too narrow for the words themselves: cut the end off, as a view would
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


def _rebuild(text: str, spans: list[tuple[int, int]], pieces: list[str], keep: list[int]) -> str:
    out, last = [], 0
    for (start, end), piece, n in zip(spans, pieces, keep, strict=True):
        out.append(text[last:start])
        out.append(_shorten(piece, n))
        last = end
    out.append(text[last:])
    return "".join(out)


class PathElideDelegate(QStyledItemDelegate):
    """A column whose text is shortened by `elide_paths` rather than the view's mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:
        super().initStyleOption(option, index)
        width = option.rect.width() - CELL_PADDING
        if option.text and width > 0:
            option.text = elide_paths(option.text, option.fontMetrics, width)
        option.textElideMode = Qt.TextElideMode.ElideRight
