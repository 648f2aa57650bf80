"""Typed errors shared by every layer. The CLI maps them to exit codes."""

from __future__ import annotations


class SophmateError(Exception):
    """Base of every error the product raises on purpose."""

    exit_code = 1


class BadInput(SophmateError):
    """The user gave something malformed: a file, an argument, a field (exit 2)."""

    exit_code = 2


class NotFound(BadInput):
    """A named thing (workflow, write, run, category) does not exist (exit 2)."""


class PolicyRefused(SophmateError):
    """Policy says no: kill switch, checklist, four eyes, graduation (exit 3)."""

    exit_code = 3


class Conflict(SophmateError):
    """Someone else moved the record first (another approver, another process)."""

    exit_code = 3


class IllegalTransition(SophmateError):
    """A state machine was asked for a move its table does not allow."""

    def __init__(self, machine: str, old: str | None, new: str) -> None:
        super().__init__(f"{machine}: illegal transition {old!r} -> {new!r}")
        self.machine = machine
        self.old = old
        self.new = new


class DatabaseError(SophmateError):
    """The database cannot be opened or is of the wrong version."""

    exit_code = 2


class SecretsUnavailable(SophmateError):
    """No secure keyring backend, a locked keyring or a timeout."""

    exit_code = 1
