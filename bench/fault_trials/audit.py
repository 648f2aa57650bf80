"""Audit tampering (issue 14, item 7): history rewritten behind the product's back,
each way found and named by `python -m sophmate_desktop audit verify`.

Each trial builds two databases with real events through the real command line in
real processes (`demo`: workflows imported, runs by the engine, writes awaiting
approval, a held category; then an approval, a rejection, a category paused and
resumed, a workflow paused), every process on the trial's keyring (one audit key).
One is left untouched (the control), the other is tampered with sqlite3 directly:

- truncation: the newest 3 events deleted and the chain head moved back to match;
- rollback: the database file replaced by an older copy (taken before the last
  pause and resume); the local checkpoint file is left as it is;
- recomputed chain: one event edited and every later hash recomputed with the
  product's own hash function (the attacker knows sha256 and the format, not the
  HMAC key), the head moved to the new last hash;
- forged event: an event "category resumed" appended with a valid chain hash (no MAC,
  or a made-up one) and the category un-paused to agree with it;
- direct SQL: a paused category un-paused and a rejected write made `approved`, with
  no event.

Then `audit verify` runs on both. Held: the tampered one exits non-zero AND its output
names the finding (the specific words in EXPECTED); the control exits 0 saying
"intact". Anything else is unexplained (a false alarm on the control too).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.fault_trials import FaultResult, Trial
from bench.fault_trials.crash_rig import TRIAL_KEYRING
from bench.fault_trials.trial_keyring import PATH_ENV
from sophmate_desktop.store.audit import event_hash, iso_at

REPO = Path(__file__).resolve().parents[2]
HEAD_FIELDS = ("id", "at", "actor", "action", "subject", "category", "workflow", "run", "reason")
HELD_CATEGORY = "maintenance"  # `demo` leaves it paused with runs held
CUT = 3  # events the truncation deletes


@dataclass
class Done:
    code: int
    out: str
    err: str


@dataclass
class Built:
    path: Path
    rejected: int  # the write the rejection ended
    older: Path | None = None  # a copy taken before the last two changes


class Lab:
    """One trial's folder: its keyring file and the environment of its processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root),
            "PYTHONPATH": str(REPO),
            "PYTHON_KEYRING_BACKEND": TRIAL_KEYRING,
            PATH_ENV: str(root / "keyring.json"),
            "SOPHMATE_ALLOW_INSECURE_KEYRING": "1",
        }

    def cli(self, path: Path, *args: str, actor: str = "ana") -> Done:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sophmate_desktop",
                "--db",
                f"sqlite:///{path}",
                "--actor",
                actor,
                *args,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            env=self.env,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    def must(self, path: Path, *args: str, actor: str = "ana") -> Done:
        done = self.cli(path, *args, actor=actor)
        if done.code != 0:
            raise RuntimeError(f"{' '.join(args)} exited {done.code}: {done.err[-400:]}")
        return done

    def build(self, name: str, *, keep_older: bool = False) -> Built:
        """A database of real events made by the command line (see the module doc)."""
        folder = self.root / name
        folder.mkdir()
        path = folder / "audit.sqlite3"
        self.must(path, "demo", "--folder", str(folder / "demo"), actor="demo-lead")
        pending = [w["id"] for w in json.loads(self.must(path, "inbox", "list", "--json").out)]
        if len(pending) < 2:
            raise RuntimeError(f"demo left {len(pending)} writes pending, not 2")
        self.must(path, "inbox", "approve", str(pending[0]), "--comment", "checked", actor="bob")
        self.must(path, "inbox", "reject", str(pending[1]), "--comment", "wrong", actor="carol")
        self.must(path, "workflow", "pause", "report-archive", "--reason", "quarter close")
        built = Built(path, pending[1])
        if keep_older:
            built.older = folder / "older.sqlite3"
            backup(path, built.older)
        self.must(path, "category", "pause", "finance", "--reason", "bank incident")
        self.must(path, "category", "resume", "finance", "--reason", "incident over")
        return built


def backup(path: Path, to: Path) -> None:
    """A consistent copy of the file (SQLite's online backup), as a person would keep."""
    source, target = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, timeout=30)


def last_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT max(id) FROM audit_event").fetchone()[0]


# The tampering, each with sqlite3 alone ------------------------------------------


def truncate(built: Built, trial: int) -> dict[str, object]:
    conn = connect(built.path)
    try:
        keep = last_id(conn) - CUT
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM audit_event WHERE id > ?", (keep,))
        conn.execute(
            "UPDATE audit_head SET last_id = ?, last_hash = "
            "(SELECT hash FROM audit_event WHERE id = ?)",
            (keep, keep),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {"missing": CUT}


def roll_back(built: Built, trial: int) -> dict[str, object]:
    assert built.older is not None
    newer = connect(built.path)
    older = connect(built.older)
    try:
        missing = last_id(newer) - last_id(older)
    finally:
        newer.close()
        older.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{built.path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(built.older, built.path)
    return {"missing": missing}


def _rechain(conn: sqlite3.Connection, start: int) -> None:
    """Every hash from `start` on recomputed with the product's function, and the head."""
    columns = ", ".join(HEAD_FIELDS)
    prev = conn.execute("SELECT prev_hash FROM audit_event WHERE id = ?", (start,)).fetchone()[0]
    rows = conn.execute(
        f"SELECT {columns}, details FROM audit_event WHERE id >= ? ORDER BY id", (start,)
    ).fetchall()
    for *fields, details in rows:
        digest = event_hash(prev, tuple(fields), details)
        conn.execute(
            "UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?",
            (prev, digest, fields[0]),
        )
        prev = digest
    conn.execute("UPDATE audit_head SET last_hash = ?", (prev,))


def recompute(built: Built, trial: int) -> dict[str, object]:
    conn = connect(built.path)
    try:
        target = last_id(conn) - 2 - trial  # the rejection or an event just before it
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE audit_event SET reason = 'all fine', actor = 'ops-lead' WHERE id = ?",
            (target,),
        )
        _rechain(conn, target)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {"edited": target}


def forge(built: Built, trial: int) -> dict[str, object]:
    conn = connect(built.path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        seq = last_id(conn) + 1
        prev = conn.execute("SELECT last_hash FROM audit_head").fetchone()[0]
        fields = (
            seq,
            iso_at(),
            "ops-lead",
            "category.resumed",
            HELD_CATEGORY,
            HELD_CATEGORY,
            None,
            None,
            "maintenance window over",
        )
        details = '{"replayed":0}'
        digest = event_hash(prev, fields, details)
        mac = None if trial % 2 == 0 else secrets.token_hex(32)  # none, or a made-up one
        conn.execute(
            f"INSERT INTO audit_event ({', '.join(HEAD_FIELDS)}, details, prev_hash, hash, mac)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, details, prev, digest, mac),
        )
        conn.execute("UPDATE audit_head SET last_id = ?, last_hash = ?", (seq, digest))
        conn.execute("UPDATE category SET paused = 0 WHERE name = ?", (HELD_CATEGORY,))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {"forged": seq, "mac": mac is not None}


def direct_sql(built: Built, trial: int) -> dict[str, object]:
    conn = connect(built.path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE category SET paused = 0 WHERE name = ?", (HELD_CATEGORY,))
        conn.execute("UPDATE write SET status = 'approved' WHERE id = ?", (built.rejected,))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {"write": built.rejected}


# What verify must say about each ------------------------------------------------


def names_truncation(out: str, told: dict[str, object]) -> bool:
    return "truncated:" in out and f"{told['missing']} events are missing from the end" in out


def names_rollback(out: str, told: dict[str, object]) -> bool:
    return names_truncation(out, told) and "rolled back to an older copy" in out


def names_recomputed(out: str, told: dict[str, object]) -> bool:
    return (
        "recomputed:" in out
        and "the chain was rewritten and its hashes recomputed" in out
        and "forged:" in out  # the MACs from the edited event on are the key's no more
    )


def names_forgery(out: str, told: dict[str, object]) -> bool:
    how = "have a MAC the audit key did not make" if told["mac"] else "have no MAC"
    return "forged:" in out and f"1 events {how}" in out and str(told["forged"]) in out


def names_direct_sql(out: str, told: dict[str, object]) -> bool:
    return (
        f"state: category {HELD_CATEGORY}: table says running" in out
        and f"state: write {told['write']}: table says approved" in out
        and "says rejected" in out
    )


Tamper = Callable[[Built, int], dict[str, object]]
Check = Callable[[str, dict[str, object]], bool]


def tamper_trial(tamper: Tamper, names: Check, *, needs_older: bool = False):
    def run(trials: int) -> FaultResult:
        held = unexplained = 0
        wrong: list[str] = []
        for trial in range(trials):
            with tempfile.TemporaryDirectory(prefix="sm-audit-") as tmp:
                lab = Lab(Path(tmp))
                control = lab.build("control")
                tampered = lab.build("tampered", keep_older=needs_older)
                told = tamper(tampered, trial)
                verdicts = (
                    ("control", lab.cli(control.path, "audit", "verify")),
                    ("tampered", lab.cli(tampered.path, "audit", "verify")),
                )
                for what, done in verdicts:
                    if what == "control":
                        ok = done.code == 0 and "audit trail intact" in done.out
                    else:
                        ok = done.code != 0 and names(done.out, told)
                    if ok:
                        held += 1
                    else:
                        unexplained += 1
                        wrong.append(f"{what} exit {done.code}: {(done.out + done.err)[-300:]!r}")
        detail = f"{trials} tampered databases and {trials} untouched controls verified"
        if wrong:
            detail += "; WRONG: " + "; ".join(wrong[:3])
        return FaultResult(trials, held, unexplained=unexplained, detail=detail)

    return run


TRIALS = [
    Trial("audit truncation", 3, tamper_trial(truncate, names_truncation)),
    Trial("audit rollback", 3, tamper_trial(roll_back, names_rollback, needs_older=True)),
    Trial("audit recomputed chain", 3, tamper_trial(recompute, names_recomputed)),
    Trial("audit forged event", 3, tamper_trial(forge, names_forgery)),
    Trial("audit state changed by direct SQL", 3, tamper_trial(direct_sql, names_direct_sql)),
]
