"""Secrets in every form (issue 14 item 6), end to end: one secret used by an HTTP
connection (Basic auth and a token in the URL), an SMTP connection (its password,
also for the e-mail notices) and a command (env:), against real servers on 127.0.0.1
that refuse and repeat the secret in every form; then everything the product wrote
(database file and WAL, log, notices, previews, exports, CLI output) is searched for
the secret in seven encodings, whole and in part (tests/support/secret_leaks.py)."""

from __future__ import annotations

from pathlib import Path

from tests.support.secret_leaks import SECRET, run_trial
from tests.support.secret_search import pieces, search, secret_forms


def test_a_secret_that_every_failure_repeats_is_found_nowhere(tmp_path: Path) -> None:
    report = run_trial(tmp_path)
    # The faults happened: each server got the secret and each failure repeated it.
    assert report.http_saw_secret >= 1
    assert report.smtp_saw_secret >= 1
    assert report.failed_writes == 3, report.texts["write errors"]
    assert report.notice_errors >= 2 and report.webhook_notices >= 1
    assert "••••••" in report.texts["write errors"]
    assert report.searched_files >= 5 and report.searched_texts >= 10
    assert report.hits == {}, report.hits


def test_the_search_finds_each_encoding_whole_and_in_part(tmp_path: Path) -> None:
    """The search is not blind: every form it knows is found, and a cut piece too."""
    forms = secret_forms(SECRET, "ops")
    assert set(forms.values()) == {"raw", "base64", "url", "json", "hex", "html", "repr"}
    texts = {f"form {i}": f"x {form} y" for i, form in enumerate(forms)}
    found = search(forms, [], texts)
    assert len(found) == len(forms)
    hexed = SECRET.encode().hex()
    cut = search(forms, [], {"tail": "..." + hexed[len(hexed) // 2 :]})
    assert cut == {"tail": ["part of hex"]}
    assert len(pieces(forms)) > len(forms)
