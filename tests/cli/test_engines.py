"""`engines`: which engines share the database, up, down or stopped, and what each
holds: the way out of "is anything still working on this?" from a terminal."""

from __future__ import annotations

import json
import os
import socket

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import EngineInstance
from tests.support.factories import make_run, make_write, workflow_yaml


def test_engines_lists_each_instance_with_its_state_and_what_it_holds(any_cli):
    assert any_cli("engines").out.strip() == "No engine has run on this database yet."
    db = open_database(any_cli.url)  # the CLI opens its own each call: closed before it runs
    Console(db).import_workflow(workflow_yaml("wf-one"))
    run = make_run(db, "wf-one", status="running")
    write = make_write(db, run, status="applying")
    with write_transaction(db):
        EngineInstance.create(id="up1", host=socket.gethostname(), pid=os.getpid())
        # a pid that cannot be alive: this host's engine that died mid-apply
        EngineInstance.create(id="dead1", host=socket.gethostname(), pid=2**22 + 7)
        EngineInstance.create(id="gone1", host="elsewhere", pid=1, stopped_at=run.queued_at)
        type(run).update(claimed_by="vm:1#dead1").where(type(run).id == run.id).execute()
        type(write).update(claimed_by="vm:1#dead1").where(type(write).id == write.id).execute()
    db.close()

    rows = {r["id"]: r for r in json.loads(any_cli("engines", "--json").out)}
    assert {k: (r["state"], r["runs_held"], r["writes_held"]) for k, r in rows.items()} == {
        "up1": ("up", 0, 0),
        "dead1": ("down", 1, 1),
        "gone1": ("stopped", 0, 0),
    }
    table = any_cli("engines").out
    assert "down" in table and "stopped" in table and "elsewhere" in table


def test_engine_says_its_lease_option_and_refuses_a_lease_too_short(cli):
    shown = cli("engine", "--help")
    assert shown.code == 0
    text = " ".join(shown.out.split())
    assert "--lease S" in text and "$SOPHMATE_ENGINE_LEASE_S" in text and "else 30" in text
    refused = cli("engine", "--lease", "1", "--log-file", os.devnull)
    assert refused.code == 2
    assert "must be at least 3 seconds" in refused.err
