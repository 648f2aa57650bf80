"""The connection dialog says which workflows use the name being typed: a new
connection for a name workflows already use is not "used by no workflow"."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.support.factories import workflow_yaml
from tests.support.gui import retype, wait_for_window

MAILING = workflow_yaml("dunning").replace(
    """  - action: write_file
    to: "{{ output.path }}/{{ file.name }}"
    content: "hello"
""",
    """  - action: send_email
    connection: mailer
    to: supplier@example.test
    subject: "Invoice {{ file.stem }}"
    body: "We received {{ file.name }}."
""",
)


def test_a_new_connection_names_the_workflows_that_use_its_name(qtbot, services, page):
    from sophmate_desktop.ui.widgets.settings_connections import ConnectionDialog

    services.console.import_workflow(MAILING)
    qtbot.mouseClick(page.connections.new_button, Qt.MouseButton.LeftButton)
    dialog = wait_for_window(qtbot, ConnectionDialog)
    assert dialog.impact.text() == "Workflows use a connection by its name."
    retype(qtbot, dialog.name_edit, "printer")
    assert dialog.impact.text() == "No workflow uses printer yet."
    retype(qtbot, dialog.name_edit, "mailer")
    assert dialog.impact.text().startswith("Used by dunning (pauses on a change).")
    dialog.reject()
