"""Templates: sandbox, strict undefined variables, secrets by reference."""

from __future__ import annotations

import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.templates import (
    MAX_RENDERED_CHARS,
    SECRET_TOKEN,
    TemplateError,
    TemplateRenderError,
    compile_template,
    mask_values,
    referenced_secrets,
    render,
    secret_names,
    substitute_secrets,
)


def test_render_fills_variables_and_keeps_text_as_is() -> None:
    context = {"row": {"email": "a@example.test"}, "x": "<b>&"}
    assert render("To {{ row.email }}: {{ x }}", context) == "To a@example.test: <b>&"
    assert render("line\n", {}) == "line\n"  # trailing newline kept


def test_a_missing_variable_is_an_error_never_an_empty_string() -> None:
    with pytest.raises(TemplateRenderError, match="'row' is undefined"):
        render("Hello {{ row.email }}", {})
    with pytest.raises(TemplateRenderError, match="has no attribute 'email'"):
        render("Hello {{ row.email }}", {"row": {"name": "x"}})
    with pytest.raises(TemplateRenderError, match="'missing' is undefined"):
        render("{% if missing %}x{% endif %}", {})


def test_render_errors_are_bad_input() -> None:
    with pytest.raises(BadInput):
        render("{{ 1 / 0 }}", {})
    with pytest.raises(TemplateRenderError, match="ZeroDivisionError"):
        render("{{ 1 / 0 }}", {})
    with pytest.raises(TemplateRenderError, match="no loader"):
        render("{% include 'other.txt' %}", {})


def test_compile_errors_name_the_problem_and_line() -> None:
    with pytest.raises(TemplateError) as info:
        compile_template("{{ output.path }")
    assert str(info.value) == "unexpected '}' (line 1)"
    assert info.value.lineno == 1
    assert isinstance(info.value, BadInput)
    with pytest.raises(TemplateError) as info:
        compile_template("first line\nsecond {% if %}")
    assert info.value.lineno == 2
    assert str(info.value).endswith("(line 2)")
    with pytest.raises(TemplateError, match="Unexpected end of template"):
        compile_template("{% for x in y %}")


def test_compile_returns_a_reusable_template() -> None:
    template = compile_template("{{ a }}-{{ b }}")
    assert template.render(a=1, b=2) == "1-2"
    assert compile_template("{{ a }}-{{ b }}") is template


def test_the_sandbox_refuses_internals() -> None:
    with pytest.raises(TemplateRenderError, match="unsafe"):
        render("{{ ''.__class__.__mro__ }}", {})
    with pytest.raises(TemplateRenderError, match="unsafe"):
        render("{{ row.__init__.__globals__ }}", {"row": object()})


def _constants(code: types.CodeType) -> list[object]:
    """Every constant of a compiled function and of the functions inside it."""
    found: list[object] = []
    for const in code.co_consts:
        found += _constants(const) if isinstance(const, types.CodeType) else [const]
    return found


def test_huge_results_are_refused_without_being_built() -> None:
    # How long compiling takes: python -m bench.responsiveness.
    template = compile_template("{{ 2 ** 100000000 }}{{ 'a' * 10 ** 9 }}")
    assert template is not None
    # Nothing folded at compile time: the operands are the only constants, the huge
    # number and string are left to render time (where the sandbox refuses them).
    constants = _constants(template.root_render_func.__code__)
    assert {2, 100000000, "a", 10, 9} <= set(constants)
    assert all(not isinstance(c, int) or c <= 10**9 for c in constants)
    assert all(not isinstance(c, str) or len(c) < 100 for c in constants)
    with pytest.raises(TemplateRenderError, match="too large"):
        render("{{ 2 ** 100000000 }}", {})
    with pytest.raises(TemplateRenderError, match="more than"):
        render("{{ 'a' * 10 ** 9 }}", {})
    with pytest.raises(TemplateRenderError, match="more than"):
        render("{{ [1] * 10 ** 9 }}", {})
    assert render("{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ 3 * 4 }}", {}) == "ababab 1024 12"


def test_a_loop_that_renders_too_much_text_is_stopped_naming_the_limit() -> None:
    # 1,000 characters 100,000 times: over the limit long before the loop ends
    runaway = "{% for a in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"
    with pytest.raises(TemplateRenderError, match=f"longer than {MAX_RENDERED_CHARS:,}"):
        render(runaway, {})
    many = "{% for a in range(20000) %}{{ a % 10 }}{% endfor %}"  # joined in chunks
    assert render(many, {}) == "0123456789" * 2000


def test_secrets_render_as_tokens_never_values() -> None:
    out = render("Bearer {{ secret.status_api_token }} {{ secret['smtp-pass'] }}", {})
    assert out == "Bearer ${secret:status_api_token} ${secret:smtp-pass}"
    assert secret_names(out) == {"status_api_token", "smtp-pass"}
    assert SECRET_TOKEN.search(out).group(1) == "status_api_token"


def test_the_context_cannot_replace_the_secret_object() -> None:
    out = render("{{ secret.token }}", {"secret": {"token": "the-real-value"}})
    assert out == "${secret:token}"


def test_substitute_replaces_tokens_at_apply_time() -> None:
    text = render("user={{ row.user }} pass={{ secret.db }}", {"row": {"user": "ana"}})
    values = {"db": "s3cret!"}
    assert substitute_secrets(text, values.__getitem__) == "user=ana pass=s3cret!"


def test_data_that_looks_like_a_token_is_never_substituted() -> None:
    row = {"note": "${secret:db} and ${secret!:x}"}
    text = render("{{ row.note }} / {{ secret.db }}", {"row": row})
    assert secret_names(text) == {"db"}
    asked: list[str] = []

    def lookup(name: str) -> str:
        asked.append(name)
        return "VALUE"

    assert substitute_secrets(text, lookup) == "${secret:db} and ${secret!:x} / VALUE"
    assert asked == ["db"]


def test_literal_token_text_in_a_template_stays_literal() -> None:
    text = render("cost: ${secret:db} ${{ secret.db }}", {})
    assert substitute_secrets(text, lambda name: "V") == "cost: ${secret:db} $V"


def test_a_filter_on_a_secret_reference_is_refused() -> None:
    with pytest.raises(TemplateRenderError, match="changed by a filter"):
        render("{{ secret.db | upper }}", {})
    with pytest.raises(TemplateRenderError, match="changed by a filter"):
        render("{{ secret.db | replace('d', 'x') }}", {})
    with pytest.raises(TemplateRenderError, match=r"secret\.NAME"):
        render("{{ secret }}", {})


def test_invalid_secret_names_are_undefined() -> None:
    with pytest.raises(TemplateRenderError):
        render("{{ secret['bad name'] }}", {})
    with pytest.raises(TemplateRenderError):
        render("{{ secret._private }}", {})


def test_referenced_secrets_reads_the_template() -> None:
    assert referenced_secrets("{{ secret.a }} {{ secret['b c'] }} {{ row.secret }}") == {
        "a",
        "b c",
    }
    assert referenced_secrets("no secrets {{ x }}") == set()
    with pytest.raises(TemplateError):
        referenced_secrets("{{ secret.a }")


def test_mask_values_masks_every_known_value() -> None:
    text = "token abc123, again abc123, short abc"
    assert mask_values(text, ["abc123", "", "abc"]) == "token ••••••, again ••••••, short ••••••"
    assert mask_values(text, ["abc123"], mask="***") == "token ***, again ***, short abc"
    assert mask_values(text, []) == text
    assert mask_values("a.b a-b", ["a.b"]) == "•••••• a-b"  # values are not regexes


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_data_renders_back_to_itself_after_substitution(data: str) -> None:
    def refuse(name: str) -> str:
        raise AssertionError(f"data made the engine look up secret {name!r}")

    out = render("{{ value }}", {"value": data})
    assert secret_names(out) == set()
    assert substitute_secrets(out, refuse) == data


@settings(max_examples=200, deadline=None)
@given(st.text(), st.lists(st.text(alphabet=st.characters(exclude_characters="•"), min_size=1)))
def test_masked_text_contains_no_value(text: str, values: list[str]) -> None:
    masked = mask_values(text + "".join(values), values)
    for value in values:
        assert value not in masked
