"""The shipped resources: read through importlib.resources, drawable, and styled as
the UI relies on (paused switches and the banner red)."""

from __future__ import annotations

import pytest
import yaml
from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from sophmate_desktop import resources
from sophmate_desktop.domain.workflow_file import parse_workflow_yaml

TRAY = ["tray-ok", "tray-pending", "tray-failure", "tray-paused"]
PAGES = [
    "dashboard",
    "inbox",
    "workflows",
    "runs",
    "audit",
    "reviews",
    "settings",
    "notifications",
]


def render(svg: bytes, size: int) -> QImage:
    renderer = QSvgRenderer(QByteArray(svg))
    assert renderer.isValid()
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def test_every_icon_the_ui_needs_ships_and_draws_at_16_px(qapp) -> None:
    assert set(resources.icon_names()) >= {"app", *TRAY, *PAGES}
    for name in resources.icon_names():
        image = render(resources.icon_bytes(name), 16)
        opaque = sum(image.pixelColor(x, y).alpha() > 128 for x in range(16) for y in range(16))
        assert opaque >= 20, f"{name} is nearly empty at 16 px"


@pytest.mark.parametrize(
    ("name", "hue"),
    [("tray-ok", "green"), ("tray-pending", "amber"), ("tray-failure", "red")],
)
def test_tray_states_have_their_colour(qapp, name: str, hue: str) -> None:
    c = render(resources.icon_bytes(name), 24).pixelColor(4, 12)
    r, g, b = c.red(), c.green(), c.blue()
    if hue == "green":
        assert g > r + 40 and g > b + 40
    elif hue == "amber":
        assert r > 200 and 100 < g < 200 and b < 80
    else:
        assert r > g + 100 and r > b + 100


def test_paused_tray_icon_is_grey_inside_a_red_ring(qapp) -> None:
    image = render(resources.icon_bytes("tray-paused"), 48)
    inside = image.pixelColor(10, 24)
    ring = image.pixelColor(3, 24)
    assert abs(inside.red() - inside.green()) < 10 and abs(inside.green() - inside.blue()) < 10
    assert ring.red() > ring.green() + 100


def test_icon_path_and_bytes_agree_and_bad_names_are_refused() -> None:
    path = resources.icon_path("tray-ok")
    assert path.name == "tray-ok.svg"
    assert path.read_bytes() == resources.icon_bytes("tray-ok.svg")
    with pytest.raises(FileNotFoundError, match="shipped: app"):
        resources.icon_bytes("no-such-icon")
    with pytest.raises(ValueError):
        resources.icon_bytes("../workflows/invoice-intake.yaml")


def test_example_workflows_parse_and_are_sorted() -> None:
    paths = resources.example_workflows()
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    assert len(paths) >= 4
    texts = resources.example_workflow_texts()
    assert [name for name, _ in texts] == [p.name for p in paths]
    for name, text in texts:
        defn = parse_workflow_yaml(text)
        assert yaml.safe_load(text)["name"] == defn.name == name.removesuffix(".yaml")


def _grab_colour(widget: QWidget, x: int, y: int) -> QColor:
    return widget.grab().toImage().pixelColor(x, y)


def test_style_sheet_paints_paused_switches_and_the_banner_red(qtbot) -> None:
    panel = QWidget()
    panel.setObjectName("killSwitchPanel")
    qtbot.addWidget(panel)
    layout = QVBoxLayout(panel)
    running = QPushButton("finance")
    paused = QPushButton("maintenance")
    paused.setProperty("paused", "true")
    banner = QLabel("Paused: maintenance, by ana: scratch disk replaced")
    banner.setObjectName("pausedBanner")
    badge = QLabel("customer")
    badge.setProperty("badge", "customer")
    for w in (running, paused, banner, badge):
        layout.addWidget(w)
    panel.setStyleSheet(resources.style_sheet())
    panel.resize(400, 200)
    panel.show()
    qtbot.waitExposed(panel)

    red = QColor("#c62828")
    assert _grab_colour(paused, 4, paused.height() // 2) == red
    assert _grab_colour(running, 4, running.height() // 2) != red
    assert _grab_colour(banner, 2, 2) == red
    text = banner.grab().toImage()
    assert any(
        text.pixelColor(x, y) == QColor("white")
        for x in range(text.width())
        for y in range(text.height())
    )
    assert _grab_colour(badge, 3, badge.height() // 2) == QColor("#6a1b9a")

    # A switch that is resumed must lose the red once re-polished.
    paused.setProperty("paused", "false")
    paused.style().unpolish(paused)
    paused.style().polish(paused)
    assert _grab_colour(paused, 4, paused.height() // 2) != red
