"""Console calls for settings and the first-run welcome page."""

from __future__ import annotations


class SetupOps:
    pass
