"""The one service API that the UI and the CLI call (DESIGN section 1).

Each call checks policy, changes state and appends its audit event in ONE
transaction, then tells listeners (the UI, the engine) what changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sophmate_desktop.console.core import console_with, default_actor

if TYPE_CHECKING:
    from sophmate_desktop.console.composed import Console


def __getattr__(name: str) -> Any:
    # `Console` with all its operation groups is imported when it is first asked for:
    # importing one group (console.switches) must not import every other one.
    if name == "Console":
        from sophmate_desktop.console.composed import Console

        return Console
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Console", "console_with", "default_actor"]
