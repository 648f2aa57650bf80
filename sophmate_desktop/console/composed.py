"""`Console`: the one service API that the UI and the CLI call (DESIGN section 1), the
core (console/core.py) with every group of operations."""

from __future__ import annotations

from sophmate_desktop.console.audit_trail import AuditTrailOps
from sophmate_desktop.console.change_preview import ChangePreviewOps
from sophmate_desktop.console.core import ConsoleCore
from sophmate_desktop.console.dashboard import DashboardOps
from sophmate_desktop.console.database_health import DatabaseHealthOps
from sophmate_desktop.console.history_pages import HistoryPageOps
from sophmate_desktop.console.inbox import InboxOps
from sophmate_desktop.console.inbox_pages import InboxPageOps
from sophmate_desktop.console.notice_delivery import NoticeDeliveryOps
from sophmate_desktop.console.notices import NoticeOps
from sophmate_desktop.console.records import RecordOps
from sophmate_desktop.console.review_pages import ReviewPageOps
from sophmate_desktop.console.run_grid import RunGridOps
from sophmate_desktop.console.schedules import ScheduleOps
from sophmate_desktop.console.setup import SetupOps
from sophmate_desktop.console.switches import SwitchOps
from sophmate_desktop.console.team import TeamOps
from sophmate_desktop.console.undo import UndoOps
from sophmate_desktop.console.workflow_pages import WorkflowPageOps
from sophmate_desktop.console.workflow_switch import WorkflowSwitchOps
from sophmate_desktop.console.workflows import WorkflowOps


class Console(
    ConsoleCore,
    WorkflowOps,
    SwitchOps,
    WorkflowSwitchOps,
    InboxOps,
    UndoOps,
    RecordOps,
    InboxPageOps,
    NoticeOps,
    NoticeDeliveryOps,
    DashboardOps,
    ReviewPageOps,
    WorkflowPageOps,
    HistoryPageOps,
    SetupOps,
    ChangePreviewOps,
    DatabaseHealthOps,
    AuditTrailOps,
    ScheduleOps,
    RunGridOps,
    TeamOps,
):
    """Every operation of the console (see console/__init__.py)."""
