"""Workflows with prompt steps against the local AI stand-in (tests/support/llm_server.py):
an `llm` connection pointed at it, and a CSV of supplier invoices to draft replies to."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.engine import workflow_doc

PROMPT_STEPS = """\
  - action: prompt
    connection: {connection}
    for_each: rows
    system: "You draft short, polite replies to suppliers."
    prompt: "Draft a reply to {{{{ row.supplier }}}} about invoice {{{{ row.number }}}}."
    max_tokens: 200
    as: draft
  - action: send_email
    connection: supplier-smtp
    for_each: rows
    to: "{{{{ row.email }}}}"
    subject: "Invoice {{{{ row.number }}}}"
    body: "{{{{ steps.draft.text }}}}"
    customer_facing: true
"""

JSON_STEPS = """\
  - action: prompt
    connection: {connection}
    for_each: rows
    prompt: "Classify invoice {{{{ row.number }}}} from {{{{ row.supplier }}}} as JSON."
    json_schema:
      type: object
      properties:
        category: {{type: string}}
        urgent: {{type: boolean}}
      required: [category, urgent]
    as: label
  - action: write_file
    for_each: rows
    to: "{{{{ output.path }}}}/{{{{ row.number }}}}.txt"
    content: "{{{{ steps.label.json.category }}}} urgent={{{{ steps.label.json.urgent }}}}"
"""


def invoices_csv(folder: Path, rows: int = 3, name: str = "invoices.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    lines = ["number,supplier,email"]
    lines += [f"INV-{n},Supplier {n},s{n}@example.test" for n in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def prompt_workflow(
    name: str,
    out: Path,
    *,
    steps: str = PROMPT_STEPS,
    connection: str = "drafting-llm",
    approval: str = "{mode: always}",
    retry: int = 0,
    backoff: float = 0,
    extra: str = "",
    category: str = "finance",
) -> str:
    doc = workflow_doc(
        name,
        None,
        out,
        category=category,
        steps=steps.format(connection=connection),
        approval=approval,
        read="csv",
        retry=retry,
        backoff=backoff,
    )
    return doc + extra


def add_llm(
    console,
    base_url: str,
    *,
    name: str = "drafting-llm",
    provider: str = "openai",
    model: str = "gpt-x",
    price_in: float = 2.5,
    price_out: float = 10.0,
    timeout_s: float = 5,
    secret: str | None = "llm-key",
    staging: bool = True,
) -> None:
    """An llm connection to the stand-in (the same endpoint for staging)."""
    settings = {
        "provider": provider,
        "base_url": base_url,
        "model": model,
        "price_in": price_in,
        "price_out": price_out,
        "timeout_s": timeout_s,
    }
    if secret:
        console.set_secret(secret, "sk-test-" + name)
    console.save_connection(
        name, "llm", settings, dict(settings) if staging else None, secret_ref=secret
    )


def add_smtp(console, name: str = "supplier-smtp") -> None:
    settings = {"host": "127.0.0.1", "port": 2525, "from": "ap@example.test"}
    console.save_connection(name, "smtp", settings, dict(settings))


def dumps(value: object) -> str:
    return json.dumps(value)
