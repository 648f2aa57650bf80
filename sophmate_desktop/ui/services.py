"""What every page is given: built once in app.py and passed in (no service locator)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sophmate_desktop.console import Console
from sophmate_desktop.ui.bridge import EventBridge
from sophmate_desktop.ui.navigator import Navigator
from sophmate_desktop.ui.preferences import Preferences
from sophmate_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from sophmate_desktop.engine.service import Engine


@dataclass(frozen=True)
class UiServices:
    console: Console
    events: EventBridge
    tasks: TaskRunner
    navigator: Navigator
    engine: Engine | None = None
    # Kept for this process only unless app.py gives the desktop's file.
    preferences: Preferences = field(default_factory=lambda: Preferences(None))
