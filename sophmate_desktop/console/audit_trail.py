"""The audit trail that proves itself: the audit key for this database handle, the
checkpoints written after each call, `audit verify` in full and the verifiable export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from peewee import Database

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.secrets import SecretStore, audit_key
from sophmate_desktop.store import audit, checkpoints, queries
from sophmate_desktop.store import audit_key as keys
from sophmate_desktop.store.models import Setting

if TYPE_CHECKING:
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.audit_verify import AuditReport

# Verifying and exporting (audit_verify, audit_replay, audit_export) are imported by
# the calls that do them: every other command appends events and never needs them.


def attach_audit_key(db: Database, secrets: SecretStore) -> None:
    """The audit key of `db` comes from `secrets`' keyring (made for a trail without MACs)."""
    keys.use_key_loader(db, lambda: audit_key(secrets, create=checkpoints.first_mac(db) is None))


def _read_mirror(
    db: Database, path: Path
) -> tuple[str | None, list[checkpoints.Checkpoint], list[str], list[str]]:
    """(where the mirror is, its checkpoints, lines that are not, why it is unreadable)."""
    folder = checkpoints.mirror_path(db, path)
    if folder is not None:
        points, bad = checkpoints.read(folder)
        return str(folder), points, bad, []
    url = checkpoints.http_mirror(db)
    if url is None:
        return None, [], [], []
    try:
        points, bad = checkpoints.read_http_mirror(url)
    except checkpoints.MirrorUnreadable as exc:
        why = (
            f"the checkpoint mirror {url} could not be read ({exc}): a rollback of both "
            "the database and the local checkpoint file cannot be ruled out"
        )
        return url, [], [], [why]
    return url, points, bad, []


class AuditTrailOps:
    def verify_audit(self: Console) -> AuditReport:
        """The chain, its checkpoints, the MACs and the state the events imply."""
        from sophmate_desktop.store.audit_verify import verify_database

        key = keys.prime(self.db)
        identity = checkpoints.identity(self.db)
        path = checkpoints.Checkpointer.for_db(self.db).path
        local, bad = checkpoints.read(path)
        where, mirrored, bad_more, unread = _read_mirror(self.db, path)
        report = verify_database(
            self.db,
            local + mirrored,
            key,
            key_problem=keys.key_problem(self.db),
            db_identity=identity,
            bad_lines=bad + bad_more,
            mirror_problems=unread,
        )
        local_seq = max((p.seq for p in local if p.db == identity), default=0)
        mirror_seq = max((p.seq for p in mirrored if p.db == identity), default=0)
        if mirror_seq > local_seq:  # expected only where another machine's file wrote it
            report.notes.insert(
                0,
                f"the mirror {where} holds a checkpoint of event {mirror_seq}; the local "
                f"checkpoint file {path} ends at event {local_seq or 'none'} (rolled back "
                "or lost, unless another machine writes this database)",
            )
        return report

    def verify_audit_export(self: Console, path: str) -> AuditReport:
        """An exported copy verified alone (with this keyring's audit key if it has one)."""
        from sophmate_desktop.store import audit_export

        return audit_export.verify_export(path, keys.prime(self.db))

    def export_audit(self: Console, fmt: str, out: TextIO, **filters: Any) -> int:
        """The events matching `filters`, oldest first; a JSON-lines export of the
        whole trail ends with the checkpoints, so that it can be verified alone."""
        if fmt not in ("jsonl", "csv"):
            raise BadInput(f"--format: unknown export format {fmt!r} (use jsonl or csv)")
        query = queries.audit_query(**filters).order_by(audit.AuditEvent.id)
        count = (audit.export_jsonl if fmt == "jsonl" else audit.export_csv)(out, query)
        if fmt == "jsonl" and not any(v not in (None, "") for v in filters.values()):
            from sophmate_desktop.store import audit_export

            path = checkpoints.Checkpointer.for_db(self.db).path
            audit_export.write_checkpoints(out, checkpoints.read(path)[0][-50:])
        return count

    def set_checkpoint_mirror(self: Console, target: str | None) -> None:
        """A second place for the checkpoints: a folder (another disk) or an http(s) URL
        that receives a POST of each one; None or "" stops it (audited)."""
        self.require_role(Role.ADMINISTRATOR, "changing settings")
        target = (target or "").strip() or None
        if target and not target.startswith(("http://", "https://")):
            folder = Path(target).expanduser()
            if folder.exists() and not folder.is_dir():
                raise BadInput(f"{folder} is not a folder")
            target = str(folder.resolve())
        with self.transaction():
            row = Setting.get_or_none(Setting.key == checkpoints.MIRROR_SETTING)
            before = None if row is None else row.value
            if row is None:
                Setting.create(key=checkpoints.MIRROR_SETTING, value=target)
            else:
                Setting.update(value=target).where(
                    Setting.key == checkpoints.MIRROR_SETTING
                ).execute()
            self.audit(
                AuditAction.SETTING_CHANGED,
                subject=checkpoints.MIRROR_SETTING,
                details={"from": before, "to": target},
            )

    def _checkpoint_after_commit(self: Console) -> None:
        checkpoints.Checkpointer.for_db(self.db).after_commit()
