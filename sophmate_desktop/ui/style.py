"""The application's style sheet and icons, from the package resources."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def apply_style(app: QApplication) -> None:
    """Placeholder until the shipped style sheet lands."""
