"""Console calls for the runs and audit pages, and a run's plain-language account."""

from __future__ import annotations


class HistoryPageOps:
    pass
