"""Console calls for the workflows page and editor."""

from __future__ import annotations


class WorkflowPageOps:
    pass
