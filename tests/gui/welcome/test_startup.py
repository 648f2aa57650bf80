"""Starting the application: one instance per database, the style and the icon."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from PySide6.QtWidgets import QApplication

from sophmate_desktop import resources
from sophmate_desktop.ui.single_instance import SingleInstance, server_name
from sophmate_desktop.ui.style import apply_style


@pytest.fixture
def instances(qtbot):
    made: list[SingleInstance] = []

    def make(url: str) -> SingleInstance:
        instance = SingleInstance(url)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


def test_a_second_launch_on_the_same_database_raises_the_first(qtbot, instances, sqlite_url):
    first = instances(sqlite_url)
    assert not first.ask_running_instance_to_raise()  # nobody there yet
    first.listen()
    assert first.listening

    second = instances(sqlite_url)
    with qtbot.waitSignal(first.raise_requested, timeout=3000):
        assert second.ask_running_instance_to_raise()


def test_other_databases_and_other_users_do_not_meet(qtbot, instances, tmp_path, sqlite_url):
    first = instances(sqlite_url)
    first.listen()
    other = instances(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert not other.ask_running_instance_to_raise()
    assert server_name(sqlite_url, "ana") != server_name(sqlite_url, "bo")
    # The same file named two ways is the same database.
    relative = os.path.relpath(sqlite_url.removeprefix("sqlite:///"))
    assert server_name(f"sqlite:///{relative}") == server_name(sqlite_url)


@pytest.mark.skipif(sys.platform == "win32", reason="socket files are a Unix matter")
def test_a_socket_left_by_a_crashed_instance_is_replaced(qtbot, instances, sqlite_url):
    name = server_name(sqlite_url)
    path = Path(QDir.tempPath()) / name
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening, closed without unlinking: a crash
    stale.close()
    assert path.exists()

    first = instances(sqlite_url)
    assert not first.ask_running_instance_to_raise()
    first.listen()
    assert first.listening
    with qtbot.waitSignal(first.raise_requested, timeout=3000):
        assert instances(sqlite_url).ask_running_instance_to_raise()
    first.close()
    assert not path.exists()


def test_a_second_process_raises_the_first_and_exits_0(qtbot, instances, sqlite_url, tmp_path):
    first = instances(sqlite_url)
    first.listen()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    with qtbot.waitSignal(first.raise_requested, timeout=30_000):
        proc = subprocess.Popen(
            [sys.executable, "-m", "sophmate_desktop", "--db", sqlite_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.communicate()[0]
    assert proc.returncode == 0, output
    assert "already running" in output
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # it opened nothing


def test_the_style_sheet_and_the_icon_are_applied(qapp: QApplication):
    before = qapp.styleSheet()
    try:
        apply_style(qapp)
        assert qapp.styleSheet() == resources.style_sheet()
        assert "#killSwitchPanel" in qapp.styleSheet()
        icon = qapp.windowIcon()
        assert not icon.isNull()
        assert icon.pixmap(64, 64).width() == 64
    finally:
        qapp.setStyleSheet(before)
