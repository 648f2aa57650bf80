"""plan_step: action lookup, for_each over CSV rows and JSON items, error paths."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import ActionError, get_action, plan_step
from tests.support.actions import step


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def invoices(tmp_path: Path) -> Path:
    path = tmp_path / "invoices.csv"
    path.write_text(
        "number,email,amount\n101,a@example.test,10\n102,b@example.test,20\n103,c@example.test,30\n"
    )
    return path


def test_for_each_row_gives_one_write_per_row(make_plan_ctx, invoices, out_dir):
    s = step(
        "write_file",
        for_each="rows",
        to="{{ output.path }}/{{ row.number }}.txt",
        content="{{ row.email }} owes {{ row.amount }}",
    )
    writes = plan_step(s, make_plan_ctx(file=invoices, input=_rows(invoices)), 1)
    assert [w.target for w in writes] == [str(out_dir / f"{n}.txt") for n in (101, 102, 103)]
    assert [w.payload["content"] for w in writes][1] == "b@example.test owes 20"
    assert all(w.records == 1 for w in writes)


def test_for_each_item_over_a_json_list(make_plan_ctx, out_dir):
    items = json.loads('[{"sku": "A-1"}, {"sku": "B-2"}]')
    s = step(
        "write_file",
        for_each="items",
        to="{{ output.path }}/{{ item.sku }}",
        content="{{ item.sku }}",
    )
    writes = plan_step(s, make_plan_ctx(input=items), 0)
    assert [Path(w.target).name for w in writes] == ["A-1", "B-2"]


def test_without_for_each_row_is_undefined_and_the_error_names_step_and_field(make_plan_ctx):
    s = step("write_file", to="{{ output.path }}/{{ row.number }}.txt", content="x")
    with pytest.raises(ActionError) as info:
        plan_step(s, make_plan_ctx(), 1)
    assert str(info.value) == "steps[1].to: 'row' is undefined"


def test_a_missing_column_names_the_step_field_and_row(make_plan_ctx, invoices):
    s = step(
        "write_file",
        for_each="rows",
        to="{{ output.path }}/{{ row.number }}",
        content="{{ row.phone }}",
    )
    with pytest.raises(ActionError) as info:
        plan_step(s, make_plan_ctx(input=_rows(invoices)), 3)
    assert str(info.value) == "steps[3].content: 'dict object' has no attribute 'phone' (row 1)"


@pytest.mark.parametrize(
    ("for_each", "data", "message"),
    [
        ("rows", "plain text", "steps[1].for_each: the input is not a list of rows"),
        ("rows", [1, 2], "steps[1].for_each: the input is not a list of rows"),
        ("items", {"items": [1]}, "steps[1].for_each: the input is not a list of items"),
    ],
)
def test_for_each_needs_a_list(make_plan_ctx, for_each, data, message):
    s = step("write_file", for_each=for_each, to="{{ output.path }}/x", content="x")
    with pytest.raises(ActionError) as info:
        plan_step(s, make_plan_ctx(input=data), 1)
    assert str(info.value).startswith(message)


def test_an_empty_csv_plans_nothing(make_plan_ctx):
    s = step("write_file", for_each="rows", to="{{ output.path }}/x", content="x")
    assert plan_step(s, make_plan_ctx(input=[]), 0) == []


def test_unknown_action(make_plan_ctx):
    with pytest.raises(ActionError) as info:
        plan_step(step("xyz"), make_plan_ctx(), 4)
    assert str(info.value) == (
        "steps[4].action: unknown action 'xyz' "
        "(no built-in action or installed plug-in has that name)"
    )
    with pytest.raises(ActionError, match=r"^unknown action 'xyz'"):
        get_action("xyz")


def test_a_template_syntax_error_names_the_field(make_plan_ctx):
    with pytest.raises(ActionError, match=r"^steps\[0\]\.content: .*\(line 1\)"):
        plan_step(
            step("write_file", to="{{ output.path }}/x", content="{{ oops"), make_plan_ctx(), 0
        )


def test_a_step_marked_customer_facing_marks_every_write(make_plan_ctx):
    s = step("write_file", to="{{ output.path }}/x", content="x", customer_facing=True)
    assert _only_flag(plan_step(s, make_plan_ctx(), 0)) is True


def _only_flag(writes) -> bool:
    (w,) = writes
    return w.customer_facing
