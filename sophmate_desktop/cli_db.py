"""`db` commands: backup, backups, restore, check. They work on the SQLite file itself,
so they run without opening the database the usual way (it may be corrupt)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import default_actor
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import audit, backups, integrity
from sophmate_desktop.store.database import (
    default_db_url,
    open_database,
    parse_url,
    write_transaction,
)


def _sqlite_path(a: argparse.Namespace) -> Path:
    target = parse_url(default_db_url() if a.db is None else a.db)
    if target.kind != "sqlite" or target.path is None:
        raise BadInput(
            "db backup/restore work on a SQLite file; back a PostgreSQL database up "
            "with pg_dump and restore it with pg_restore"
        )
    if not target.path.exists() and a.action != "restore":
        raise BadInput(f"no database at {target.path}")
    return target.path


def _line(b: backups.Backup) -> str:
    status = "verified" if b.verified else "FAILED its check"
    size = f"{b.size / 1e6:.1f} MB"
    return f"{b.taken_at:%Y-%m-%d %H:%M:%S} UTC  {status:<16} {b.reason:<22} {size:>9}  {b.path}"


def cmd_db_backup(a: argparse.Namespace) -> tuple[str, int]:
    path = _sqlite_path(a)
    db = open_database(f"sqlite:///{path}", create=False)  # checks it: no copy of a corrupt file
    try:
        keep = backups.schedule_settings()[1]
    finally:
        db.close()
    b = backups.take_backup(path, reason="manual", keep=keep)
    if a.json:
        return fmt.to_json(b.to_dict()), 0 if b.verified else 1
    if not b.verified:
        return f"backup {b.path} FAILED its check: the database may be corrupt", 1
    return f"backup taken: {b.path} (verified; the newest {keep} are kept)", 0


def cmd_db_backups(a: argparse.Namespace) -> str:
    path = _sqlite_path(a)
    found = backups.list_backups(path)
    if a.json:
        return fmt.to_json([b.to_dict() for b in found])
    if not found:
        return f"No backups of {path} in {backups.backup_dir(path)}."
    return "\n".join(_line(b) for b in found)


def cmd_db_check(a: argparse.Namespace) -> tuple[str, int]:
    path = _sqlite_path(a)
    db = open_database(f"sqlite:///{path}", create=False)  # runs quick_check
    try:
        problems = integrity.integrity_check(db, path)
    finally:
        db.close()
    if problems:
        raise integrity.corrupt(path, f"integrity check: {problems[0]}")
    return f"the database {path} is sound (integrity check ok)", 0


def restore_recorded(
    path: Path, chosen: backups.Backup, actor: str, reason: str | None
) -> backups.Restored:
    """Put `chosen` in place of the file at `path` and audit it in the restored file
    (the command line's `db restore` and the window's Restore button)."""
    restored = backups.restore(path, chosen)
    db = open_database(f"sqlite:///{path}", create=False)
    try:
        with write_transaction(db):
            audit.append(
                db,
                actor=actor,
                action=AuditAction.DATABASE_RESTORED,
                subject=str(path),
                reason=reason,
                details=_details(restored),
            )
    finally:
        db.close()
    return restored


def cmd_db_restore(a: argparse.Namespace) -> str:
    path = _sqlite_path(a)
    chosen = backups.pick(path, a.backup)
    restored = restore_recorded(path, chosen, a.actor or default_actor(), a.reason)
    aside = f"; the replaced file is kept as {restored.set_aside}" if restored.set_aside else ""
    return f"restored {path} from {chosen.path} (taken {chosen.taken_at:%Y-%m-%d %H:%M} UTC){aside}"


def _details(restored: backups.Restored) -> dict[str, Any]:
    return {
        "backup": str(restored.backup.path),
        "backup_taken_at": restored.backup.taken_at.isoformat(),
        "set_aside": str(restored.set_aside) if restored.set_aside else None,
        "restored_at": utcnow().isoformat(),
    }
