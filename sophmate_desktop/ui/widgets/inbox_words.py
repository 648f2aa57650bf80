"""The words of the inbox's decisions: what a bulk decision asks and says while it
runs, and how it went (what was done, what was refused or went stale)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sophmate_desktop.ui.translation import Plural, translate


def plural(n: int) -> str:
    """ "1 write", "1,234 writes" (a numerus message: {n} keeps the thousands commas)."""
    if n == 1:
        return Plural.tr("{n} write", "", n).format(n=f"{n:,}")
    return Plural.tr("{n} writes", "", n).format(n=f"{n:,}")


def decision_texts(verb: str, n: int, comment: str | None) -> tuple[str, str, str]:
    """(busy line, question, detail) for approving or rejecting n writes."""
    writes = plural(n)
    if verb == "approve":
        busy = translate("sophmate", "Approving {writes}…").format(writes=writes)
        question = translate("sophmate", "Approve {writes}?").format(writes=writes)
    else:
        busy = translate("sophmate", "Rejecting {writes}…").format(writes=writes)
        question = translate("sophmate", "Reject {writes}?").format(writes=writes)
    detail = (
        translate("sophmate", "Comment: “{comment}”").format(comment=comment)
        if comment
        else translate("sophmate", "No comment.")
    )
    if verb == "approve":
        detail += translate("sophmate", " The engine applies approved writes at once.")
    return busy, question, detail


def resolve_texts(verb: str, n: int) -> tuple[str, str]:
    """(busy line, question) for marking n interrupted writes applied or retrying them."""
    writes = plural(n)
    if verb == "retry":
        return (
            translate("sophmate", "Retry: {writes}…").format(writes=writes),
            translate("sophmate", "Retry {writes}?").format(writes=writes),
        )
    return (
        translate("sophmate", "Mark applied: {writes}…").format(writes=writes),
        translate("sophmate", "Mark applied {writes}?").format(writes=writes),
    )


def gone_text(write_id: int, status: str, decided_by: str | None) -> str:
    if decided_by:
        return translate("sophmate", "Write {id} no longer waits: it is {status} by {who}.").format(
            id=write_id, status=status, who=decided_by
        )
    return translate("sophmate", "Write {id} no longer waits: it is {status}.").format(
        id=write_id, status=status
    )


def _more(refused: Sequence[Any]) -> str:
    if len(refused) < 2:
        return ""
    return translate("sophmate", " (and {n} more)").format(n=f"{len(refused) - 1:,}")


def decided_message(results: Sequence[Any]) -> tuple[str, str]:
    """(text, level) after approving or rejecting: what was done, what was refused."""
    ok = [r for r in results if r.ok]
    stale = [r for r in results if not r.ok and r.status == "stale"]
    refused = [r for r in results if not r.ok and r.status != "stale"]
    approved = not ok or ok[0].status == "approved"
    if stale:
        return _with_stale(results, ok, stale, refused, approved)
    if not refused:
        if len(ok) == 1:
            text = (
                translate("sophmate", "Write {id} approved.")
                if approved
                else translate("sophmate", "Write {id} rejected.")
            ).format(id=ok[0].write_id)
        else:
            text = (
                translate("sophmate", "{n} writes approved.")
                if approved
                else translate("sophmate", "{n} writes rejected.")
            ).format(n=f"{len(ok):,}")
        return text, "ok"
    if len(results) == 1:
        return refused[0].message, "error"
    return (
        translate("sophmate", "{ok} of {writes} done; {refused} refused: {why}{more}").format(
            ok=f"{len(ok):,}",
            writes=plural(len(results)),
            refused=f"{len(refused):,}",
            why=refused[0].message,
            more=_more(refused),
        ),
        "error",
    )


def _with_stale(results, ok, stale, refused, approved: bool) -> tuple[str, str]:
    """Stale writes are counted apart: not refused, replaced by a new preview."""
    if len(results) == 1:
        return stale[0].message, "warning"
    text = (
        translate(
            "sophmate",
            "{ok} of {writes} approved; {stale} stale (the file or connection changed "
            "since the preview: approve the new preview)",
        )
        if approved
        else translate(
            "sophmate",
            "{ok} of {writes} rejected; {stale} stale (the file or connection changed "
            "since the preview: approve the new preview)",
        )
    ).format(ok=f"{len(ok):,}", writes=plural(len(results)), stale=f"{len(stale):,}")
    if refused:
        text += translate("sophmate", "; {refused} refused: {why}{more}").format(
            refused=f"{len(refused):,}", why=refused[0].message, more=_more(refused)
        )
    return text + ".", ("error" if refused else "warning")


def resolved_message(
    outcome: Sequence[tuple[int, str | None]], waits: Sequence[str] = ()
) -> tuple[str, str]:
    """(text, level) after marking interrupted writes applied or retrying them;
    `waits`: why retried writes wait (their workflow is paused) instead of applying."""
    errors = [message for _wid, message in outcome if message]
    if errors:
        return errors[0], "error"
    text = translate("sophmate", "{writes} resolved.").format(writes=plural(len(outcome)))
    for why in dict.fromkeys(waits):
        text += translate("sophmate", " It waits for the resume: {why}.").format(why=why)
    return text, "ok"
