"""The audit trail that proves itself: the audit key for this database handle, the
checkpoints written after each call, `audit verify` in full and the verifiable export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from peewee import Database

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
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


class AuditTrailOps:
    def verify_audit(self: Console) -> AuditReport:
        """The chain, its checkpoints, the MACs and the state the events imply."""
        from sophmate_desktop.store.audit_verify import verify_database

        key = keys.prime(self.db)
        path = checkpoints.Checkpointer.for_db(self.db).path
        points, bad = checkpoints.read(path)
        mirror = checkpoints.mirror_path(self.db, path)
        if mirror is not None:
            more, bad_more = checkpoints.read(mirror)
            points, bad = points + more, bad + bad_more
        unread: list[str] = []
        url = checkpoints.http_mirror(self.db)
        if url is not None:
            try:
                more, bad_more = checkpoints.read_http_mirror(url)
                points, bad = points + more, bad + bad_more
            except checkpoints.MirrorUnreadable as exc:
                unread.append(
                    f"the checkpoint mirror {url} could not be read ({exc}): a rollback of "
                    "both the database and the local checkpoint file cannot be ruled out"
                )
        return verify_database(
            self.db,
            points,
            key,
            key_problem=keys.key_problem(self.db),
            db_identity=checkpoints.identity(self.db),
            bad_lines=bad,
            mirror_problems=unread,
        )

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
