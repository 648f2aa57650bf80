"""Plug-in actions discovered through a real entry point (a dist-info folder on sys.path)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import (
    ActionError,
    ScopeError,
    apply_write,
    get_action,
    plan_step,
    plugin_versions,
    refresh,
)
from sophmate_desktop.engine.actions.registry import plugin_errors
from tests.support.actions import step
from tests.support.plugins import (
    EXAMPLE_MODULE,
    installed_example_plugin,
    update_example_plugin,
    write_dist,
)

MODULE = EXAMPLE_MODULE


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path holding the example module and its distribution metadata."""
    with installed_example_plugin(tmp_path / "site") as folder:
        yield folder


def _append_step(line: str = "run {{ run.id }} done"):
    return step("append_line", to="{{ output.path }}/log.txt", line=line)


def test_the_plugin_is_found_with_its_version(site: Path) -> None:
    action = get_action("append_line")
    assert (action.name, action.effect, action.idempotent) == ("append_line", "file", True)
    assert plugin_versions() == {"append_line": "1.2.0"}


def test_the_plugin_plans_and_applies_once_per_key(
    site: Path, make_plan_ctx, make_apply_ctx, out_dir: Path
) -> None:
    (w,) = plan_step(_append_step(), make_plan_ctx(), 0)
    assert w.kind == "append_line" and w.preview.endswith("+run 7 done")
    first = apply_write(w.kind, w.payload, make_apply_ctx("k1"))
    again = apply_write(w.kind, w.payload, make_apply_ctx("k1"))
    apply_write(w.kind, w.payload, make_apply_ctx("k2"))
    log = out_dir / "log.txt"
    assert log.read_text().splitlines() == [
        "run 7 done  [sophmate:k1]",
        "run 7 done  [sophmate:k2]",
    ]
    assert first.undo == {"path": str(log), "remove_line_ending_with": "[sophmate:k1]"}
    assert again.output == "already appended"


def test_plugin_errors_carry_the_step_path(site: Path, make_plan_ctx, outside_dir) -> None:
    with pytest.raises(ActionError) as info:
        plan_step(_append_step("{{ nope }}"), make_plan_ctx(), 2)
    assert str(info.value) == "steps[2].with.line: 'nope' is undefined"
    escape = step("append_line", to=f"{outside_dir}/x", line="x")
    with pytest.raises(ScopeError, match=r"^steps\[0\]\.with\.to: target .* outside"):
        plan_step(escape, make_plan_ctx(), 0)


def test_an_updated_plugin_reports_its_new_version(site: Path) -> None:
    assert plugin_versions()["append_line"] == "1.2.0"
    update_example_plugin(site, "1.3.0")
    assert plugin_versions()["append_line"] == "1.3.0"


def test_broken_and_shadowing_plugins_are_reported_not_used(site: Path) -> None:
    write_dist(
        site,
        "sophmate-broken",
        "0.1.0",
        f"broken_action = {MODULE}:DoesNotExist\nwrite_file = {MODULE}:AppendLine",
    )
    importlib.invalidate_caches()
    refresh()
    with pytest.raises(
        ActionError,
        match=r"^action 'broken_action': the plug-in "
        r"sophmate-broken 0\.1\.0 cannot be used",
    ):
        get_action("broken_action")
    assert get_action("write_file").__class__.__name__ == "WriteFile"
    assert "may not replace the built-in 'write_file'" in plugin_errors()["write_file"]
    assert get_action("append_line").name == "append_line"


def test_without_the_plugin_the_action_is_unknown(make_plan_ctx) -> None:
    refresh()
    with pytest.raises(ActionError, match=r"^steps\[0\]\.action: unknown action 'append_line'"):
        plan_step(_append_step(), make_plan_ctx(), 0)
