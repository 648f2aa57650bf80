"""Prompt steps from the command line: an llm connection with its key in the keyring,
a workflow file with a prompt step, a manual dry run that shows the prompt it would
send (no call), one that asks (dry_run_prompts), and `runs show` with each call."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from sophmate_desktop.store.models import Connection
from tests.support.cli import Cli
from tests.support.llm_server import llm_server
from tests.support.prompts import JSON_STEPS, invoices_csv, prompt_workflow

KEY = "sk-cli-Correct-Horse"


@pytest.fixture
def server():
    with llm_server(api_key=KEY) as s:
        yield s


def _connect(cli: Cli, monkeypatch, base_url: str, **extra: object) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert cli("secret", "set", "llm-key").code == 0
    settings = {"provider": "openai", "base_url": base_url, "model": "gpt-x"}
    settings |= {"price_in": 2.5, "price_out": 10.0, **extra}
    result = cli(
        "connection", "set", "drafting-llm", "--kind", "llm",
        "--settings", json.dumps(settings), "--staging-settings", json.dumps(settings),
        "--secret-ref", "llm-key",
    )  # fmt: skip
    assert result.code == 0, result.err


def _import(cli: Cli, tmp_path: Path, extra: str = "") -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    doc = tmp_path / "labels.yaml"
    doc.write_text(prompt_workflow("labels", out, steps=JSON_STEPS, extra=extra))
    assert cli("workflow", "import", doc).code == 0
    return invoices_csv(tmp_path / "in", 2)


def test_a_dry_run_shows_the_prompts_it_would_send_and_sends_none(
    cli: Cli, monkeypatch, tmp_path: Path, server
) -> None:
    _connect(cli, monkeypatch, server.base_url)
    csv = _import(cli, tmp_path)
    result = cli("workflow", "run", "labels", "--dry-run", "--file", csv, "--timeout", "20")
    assert result.code == 0, (result.out, result.err)
    assert server.received == []
    [run] = cli("runs", "list", "--json").json()
    shown = cli("runs", "show", run["id"])
    assert "Prompt calls (2):" in shown.out
    assert "placeholder" in shown.out
    assert "Classify invoice INV-2 from Supplier 2 as JSON." in shown.out
    said = " ".join(shown.out.split())
    assert "2 placeholder answers stood in for the model: no prompt was sent" in said


def test_runs_show_lists_each_call_with_tokens_cost_and_request_id(
    cli: Cli, monkeypatch, tmp_path: Path, server
) -> None:
    _connect(cli, monkeypatch, server.base_url)
    csv = _import(cli, tmp_path, extra="dry_run_prompts: true\n")
    server.answer_by(
        {
            "INV-1 ": '{"category": "freight", "urgent": true}',
            "INV-2 ": '{"category": "office", "urgent": false}',
        }
    )
    result = cli("workflow", "run", "labels", "--dry-run", "--file", csv, "--timeout", "20")
    assert result.code == 0, (result.out, result.err)
    [run] = cli("runs", "list", "--json").json()
    shown = cli("runs", "show", run["id"])
    said = " ".join(shown.out.split())
    assert "Its prompt steps asked gpt-x about row 1:" in said
    for received in server.received:
        assert f"request {received.request_id}" in shown.out
    doc = cli("runs", "show", run["id"], "--json").json()
    assert [p["status"] for p in doc["prompts"]] == ["answered", "answered"]
    assert doc["prompts"][1]["answer"] == '{"category": "office", "urgent": false}'
    assert doc["run"]["cost"] == pytest.approx(sum(p["cost"] for p in doc["prompts"]))
    assert KEY not in shown.out + json.dumps(doc)


def test_connection_settings_are_checked_and_named(cli: Cli) -> None:
    bad = {"provider": "openai", "model": "gpt-x", "price_in": -1, "base_url": "http://x"}
    result = cli("connection", "set", "x", "--kind", "llm", "--settings", json.dumps(bad))
    assert result.code == 2 and "settings.price_in: a price cannot be negative" in result.err
    result = cli(
        "connection", "set", "x", "--kind", "llm", "--settings", json.dumps({"model": "m"})
    )
    assert result.code == 2 and "settings.base_url: required" in result.err
    assert Connection.select().count() == 0


def test_a_new_model_pauses_the_workflows_but_a_new_price_does_not(
    cli: Cli, monkeypatch, tmp_path: Path, server
) -> None:
    _connect(cli, monkeypatch, server.base_url)
    _import(cli, tmp_path)
    cli("workflow", "enable", "labels")
    settings = {"provider": "openai", "base_url": server.base_url, "model": "gpt-x"}
    cheaper = cli(
        "connection", "set", "drafting-llm", "--kind", "llm",
        "--settings", json.dumps(settings | {"price_in": 1.0, "price_out": 4.0}),
        "--staging-settings", json.dumps(settings | {"price_in": 2.5, "price_out": 10.0}),
        "--secret-ref", "llm-key",
    )  # fmt: skip
    assert cheaper.code == 0 and "paused" not in cheaper.out, cheaper.out
    newer = cli(
        "connection", "set", "drafting-llm", "--kind", "llm",
        "--settings", json.dumps(settings | {"model": "gpt-y"}),
        "--secret-ref", "llm-key",
    )  # fmt: skip
    assert newer.code == 0
    assert "paused the workflows that use it: labels" in newer.out
    assert "provider-change review now due for: labels" in newer.out
