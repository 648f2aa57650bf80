"""Where things are: the repository root and the example workflow files it ships."""

from __future__ import annotations

from pathlib import Path

import sophmate_desktop.resources

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = Path(sophmate_desktop.resources.__file__).parent / "workflows"
