"""Set-up commands: `init`, `secret` (OS keyring), `connection` and `settings`."""

from __future__ import annotations

import argparse
import getpass
import sys

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import BadInput

FOUR_EYES_VALUES: dict[str, bool | str] = {"on": True, "off": False, "auto": "auto"}


def cmd_init(c: Console, a: argparse.Namespace) -> str:
    where = getattr(c.db, "url_display", "?")
    if getattr(a, "created", False):
        return f"created a new database at {where}"
    return f"the database at {where} is ready (it existed; its schema is up to date)"


def _read_secret(name: str) -> str:
    if sys.stdin is None:
        raise BadInput("secret value: there is no standard input to read it from")
    if sys.stdin.isatty():
        value = getpass.getpass(f"Value of secret {name} (not shown): ")
    else:
        value = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not value:
        raise BadInput("secret value: empty; pipe one line into `secret set NAME` or type it")
    return value


def cmd_secret_set(c: Console, a: argparse.Namespace) -> str:
    c.set_secret(a.name, _read_secret(a.name))
    status = c.secrets_status()
    if status.insecure:  # allowed by the override: stored, but not protected
        fmt.err("warning", f"secret {a.name} is NOT protected: {status.message}")
    return f"secret {a.name} stored in the keyring"


def cmd_secret_delete(c: Console, a: argparse.Namespace) -> str:
    c.delete_secret(a.name)
    return f"secret {a.name} deleted"


def cmd_connection_set(c: Console, a: argparse.Namespace) -> str:
    saved = c.save_connection_reporting(
        a.name, a.kind, a.settings, a.staging_settings, a.secret_ref
    )
    if a.json:
        return fmt.to_json(
            {
                "connection": saved.row.to_dict(),
                "created": saved.created,
                "changed": saved.changed,
                "paused": list(saved.paused),
                "reviews_due": list(saved.reviews_due),
            }
        )
    row = saved.row
    if saved.created:
        return f"connection {row.name} ({row.kind}) created"
    if not saved.changed:
        return f"connection {row.name} ({row.kind}) unchanged: nothing to save"
    lines = [f"connection {row.name} ({row.kind}) changed"]
    if saved.paused:
        lines.append(
            f"paused the workflows that use it: {', '.join(saved.paused)}; check them, "
            f"then `{fmt.PROG} workflow resume NAME --reason TEXT`"
        )
    if saved.reviews_due:
        lines.append(f"provider-change review now due for: {', '.join(saved.reviews_due)}")
    return "\n".join(lines)


def cmd_settings_four_eyes(c: Console, a: argparse.Namespace) -> str:
    if a.value is not None:
        c.set_four_eyes(FOUR_EYES_VALUES[a.value])
    stored = c.setting("four_eyes", "auto")
    word = "auto" if stored == "auto" else "on" if stored else "off"
    return f"four eyes: {word} (in effect: {'on' if c.four_eyes_enabled else 'off'})"


def cmd_settings_customer_approvers(c: Console, a: argparse.Namespace) -> str:
    if a.value is not None:
        c.set_customer_facing_approvers(a.value)
    return f"customer-facing writes need {c.customer_facing_approvers()} approver(s)"


def cmd_settings_plan_timeout(c: Console, a: argparse.Namespace) -> str:
    if a.seconds is not None:
        c.set_plan_timeout(a.seconds)
    return f"a run may plan for {c.plan_timeout_s():g} s before it fails"


def cmd_settings_undo_retention(c: Console, a: argparse.Namespace) -> str:
    if a.days is not None:
        c.set_undo_retention(a.days)
    return f"previous file contents are kept {c.undo_retention_days()} days for undo"


def cmd_settings_notify_email(c: Console, a: argparse.Namespace) -> str:
    if a.clear:
        c.set_notify_email_connection(None)
    elif a.connection is not None:
        c.set_notify_email_connection(a.connection)
    name = c.notify_email_connection()
    return f"e-mail notices go through: {name or 'no connection (email: targets fail)'}"
