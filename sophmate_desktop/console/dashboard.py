"""Console calls for the dashboard's figures and the reviews page."""

from __future__ import annotations


class DashboardOps:
    pass
