"""`--actor NAME` on one desktop is audited "as NAME by OS-USER", and the Audit page
shows it as the command line's `audit list` does."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop import app
from sophmate_desktop.store.models import database_proxy
from sophmate_desktop.ui.pages.audit import AuditPage
from tests.support.cli import REPORTS, os_user
from tests.support.gui import on_screen


def test_a_scripted_actor_shows_as_name_by_os_user(qtbot, services, gui_db, sqlite_url, capsys):
    with os_user("alice"):
        code = app.main(["--db", sqlite_url, "--actor", "nightly-script", "workflow", "import",
                         str(REPORTS)])  # fmt: skip
        assert code == 0
        capsys.readouterr()
        assert app.main(["--db", sqlite_url, "audit", "list"]) == 0
    listed = capsys.readouterr().out
    database_proxy.initialize(gui_db)  # the command line bound the models to its own
    page = on_screen(qtbot, AuditPage(services), 1280, 700)
    page.refresh()
    page.model.fetch_all()
    [row] = [r for r in page.model.loaded_rows() if r.action == "workflow.imported"]
    column = [page.model.headerData(i, Qt.Orientation.Horizontal) for i in
              range(page.model.columnCount())].index("Actor")  # fmt: skip
    shown = page.model.data(page.model.index(page.model.loaded_rows().index(row), column))
    assert shown == "as nightly-script by alice"
    assert "as nightly-script by alice" in listed
