"""A plain template (literal text and `{{ name.attr }}` / `{{ name['key'] }}` outputs)
is rendered without jinja's per-render context (domain/templates.py, for big inputs):
it must give exactly what the compiled template gives, errors included."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain import templates
from sophmate_desktop.domain.templates import TemplateRenderError, render

CONTEXT = {
    "row": {"id": 7, "name": "a ${secret:KEY} b", "items": "column", "0": "zero", "n": None},
    "output": {"path": "/out", "paths": ["/out", "/other"]},
    "file": {"name": "in.csv", "size": 12.5},
    "workflow": {"name": "wf"},
    "flag": True,
}

PLAIN = [
    "{{ output.path }}/{{ row.id }}.txt",
    "{{ row.name }} owes {{ row['id'] }}",
    "{{ row.items }}",  # the dict's method, as jinja's sandbox finds it
    "{{ row['items'] }}",
    "{{ row['0'] }} {{ output.paths[1] }} {{ row.n }} {{ flag }} {{ file.size }}",
    "{{ row.missing }}",
    "{{ nothing }}",
    "{{ nothing.deeper }}",
    "{{ row.id.real }}",
    "{{ row.__class__ }}",
    "{{ range }}",
    "{{ 'a const' }} and text\n",
    "${secret:LITERAL} typed in",
    "",
]
NOT_PLAIN = [
    "{{ row.name | upper }}",
    "{{ secret.KEY }}",
    "{{ secret['KEY'] }}",
    "{% for i in range(2) %}{{ i }}{% endfor %}",
    "{{ row.id + 1 }}",
    "{{ self }}",
    "{{ row[row.id] }}",
]


def outcome(text: str) -> str:
    try:
        return "ok: " + render(text, CONTEXT)
    except TemplateRenderError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("text", PLAIN + NOT_PLAIN)
def test_the_plain_rendering_gives_what_the_compiled_template_gives(text, monkeypatch):
    assert (templates._plain_parts(text) is not None) == (text in PLAIN)
    fast = outcome(text)
    monkeypatch.setattr(templates, "_plain_parts", lambda text: None)
    assert outcome(text) == fast


def test_data_that_looks_like_a_secret_token_is_escaped_on_the_plain_path():
    assert render("{{ row.name }}", CONTEXT) == "a ${secret!:KEY} b"
    assert templates._plain_parts("{{ row.name }}") is not None
