"""Console calls for the approval inbox's paged, sorted, filtered queries."""

from __future__ import annotations


class InboxPageOps:
    pass
