"""Secrets in 6 encodings (0 found): one secret used by an HTTP connection (Basic
auth, a token in the URL), an SMTP connection and a command (env:), every use made to
fail against a server that repeats the secret in every form; then everything the
product wrote is searched for it (raw, base64 incl. Basic auth, URL, JSON, hex, HTML,
and Python-escaped), whole and in 12-character pieces. The scenario is
tests/support/secret_leaks.py (its test: tests/engine/test_secret_leaks.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import keyring

from bench.fault_trials import FaultResult, Trial
from tests.support.inmemory_keyring import InMemoryKeyring
from tests.support.secret_leaks import run_trial


def secrets_in_six_encodings(trials: int) -> FaultResult:
    held = leaked = unexplained = 0
    places: dict[str, list[str]] = {}
    searched = 0
    previous = keyring.get_keyring()
    keyring.set_keyring(InMemoryKeyring())
    try:
        for _ in range(trials):
            with tempfile.TemporaryDirectory(prefix="sm-secrets-") as t:
                report = run_trial(Path(t))
            provoked = (
                report.http_saw_secret and report.smtp_saw_secret and report.failed_writes == 3
            )
            searched += report.searched_files + report.searched_texts
            if not provoked:
                unexplained += 1  # the fault did not happen: nothing was shown
            elif report.hits:
                leaked += report.leaked
                places.update(report.hits)
            else:
                held += 1
    finally:
        keyring.set_keyring(previous)
    detail = f"{searched} files and outputs searched; found: {places or 'nothing'}"
    return FaultResult(trials, held, leaked=leaked, unexplained=unexplained, detail=detail)


TRIALS = [Trial("secrets in 6 encodings (0 found)", 3, secrets_in_six_encodings, 1)]
