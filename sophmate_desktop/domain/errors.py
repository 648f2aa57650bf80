"""Typed errors shared by every layer. The CLI maps them to exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The command line's exit codes, one place (README: "Exit codes")."""

    OK = 0
    FAILED = 1  # anything else (a broken audit chain, an unexpected error)
    BAD_INPUT = 2
    REFUSED = 3  # policy: kill switch, checklist, four eyes, graduation
    DB_UNREACHABLE = 10  # the database cannot be opened or connected to
    DB_BUSY = 11  # locked by another process for longer than we wait
    DB_READ_ONLY = 12  # a write asked of a read-only database
    DB_FULL = 13  # the disk (or the database's size limit) is full
    DB_CORRUPT = 14  # the integrity check failed
    INTERRUPTED = 130  # Ctrl-C


class SophmateError(Exception):
    """Base of every error the product raises on purpose."""

    exit_code = 1


class BadInput(SophmateError):
    """The user gave something malformed: a file, an argument, a field (exit 2)."""

    exit_code = 2


class FolderMissing(BadInput):
    """A workflow's watched folder does not exist: enabling it would only fail runs."""

    def __init__(self, message: str, folder: str) -> None:
        super().__init__(message)
        self.folder = folder


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
    """The database named is not one (a bad URL, not a SQLite file, a newer schema)."""

    exit_code = ExitCode.BAD_INPUT


class DatabaseUnreachable(DatabaseError):
    """The database cannot be opened or connected to."""

    exit_code = ExitCode.DB_UNREACHABLE


class DatabaseBusy(DatabaseError):
    """Another process holds the database's write lock for longer than we wait."""

    exit_code = ExitCode.DB_BUSY


class DatabaseReadOnly(DatabaseError):
    """A write asked of a database opened read-only (file, folder or file system)."""

    exit_code = ExitCode.DB_READ_ONLY


class DatabaseFull(DatabaseError):
    """The disk, or the database's own size limit, is full; nothing was written."""

    exit_code = ExitCode.DB_FULL


class DatabaseCorrupt(DatabaseError):
    """The integrity check failed; the message names the newest backup."""

    exit_code = ExitCode.DB_CORRUPT


class SecretsUnavailable(SophmateError):
    """No secure keyring backend, a locked keyring or a timeout."""

    exit_code = 1
