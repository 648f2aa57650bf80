"""The hot reads of the dashboard, reviews, runs, workflows, inbox, tray, switch panel
and audit pages: one console call each, as the pages and the CLI make them
(bench.history times them; tests/store/test_query_plans.py checks their plans)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sophmate_desktop.console import Console
from sophmate_desktop.console.inbox_pages import InboxFilters
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store import queries

Call = Callable[[Console], Any]


def hot_queries(
    production: str, staging: str, run_id: int, *, now: datetime | None = None
) -> dict[str, Call]:
    """name -> the call; `production`/`staging` name a workflow in that stage; `now` is
    the time the history was filled at (the dashboard's last 24 hours, a day of audit)."""
    now = now or utcnow()
    day = datetime.combine((now - timedelta(days=10)).date(), datetime.min.time())
    one_day = {"category": "cat-0", "since": day, "until": day + timedelta(days=1)}
    return {
        "dashboard": lambda c: c.dashboard(now),
        "reviews: due": lambda c: c.reviews_due(now),
        "reviews: escalations": lambda c: c.escalations(now),
        "reviews: runs awaiting review": lambda c: c.runs_awaiting_review(),
        "reviews: summary (production)": lambda c: c.review_summary(production, now),
        "reviews: runs to review (staging)": lambda c: c.review_runs(staging),
        "workflows: first page": lambda c: c.workflow_overview_page(0, 200),
        "runs: first page": lambda c: c.runs_page(0, 100),
        "runs: one workflow": lambda c: c.runs_page(0, 100, workflow=production),
        "runs: failed": lambda c: c.runs_page(0, 100, status="failed"),
        "runs: one workflow, failed": lambda c: c.runs_page(
            0, 100, workflow=production, status="failed"
        ),
        "runs: by start time": lambda c: c.runs_page(0, 100, sort_key="started"),
        "runs: one workflow by start time": lambda c: c.runs_page(
            0, 100, sort_key="started", workflow=production
        ),
        "runs: list (CLI)": lambda c: queries.list_runs(limit=100),
        "runs: list one workflow (CLI)": lambda c: c.list_runs(workflow=production, limit=100),
        "runs: one run's details": lambda c: c.run_details(run_id),
        "inbox: first page": lambda c: c.inbox_rows(0, 100),
        "inbox: one category": lambda c: c.inbox_rows(
            0, 100, filters=InboxFilters(category="cat-0")
        ),
        "inbox: by workflow": lambda c: c.inbox_rows(0, 100, sort_key="workflow"),
        "inbox: count": lambda c: c.inbox_count(),
        "inbox: filter choices": lambda c: c.inbox_choices(),
        "inbox: list (CLI)": lambda c: c.list_inbox(limit=500),
        "tray status": lambda c: c.tray_status(),
        "switch panel (held runs)": lambda c: (c.list_switches(), c.paused_workflow_rows()),
        "audit: first page": lambda c: c.audit_page(0, 100),
        "audit: one workflow": lambda c: c.audit_page(0, 100, workflow=production),
        "audit: one workflow (CLI)": lambda c: c.list_audit(limit=100, workflow=production),
        "audit: category + day": lambda c: c.audit_page(0, 100, **one_day),
        "audit: category + day (CLI)": lambda c: c.list_audit(limit=200, **one_day),
    }
