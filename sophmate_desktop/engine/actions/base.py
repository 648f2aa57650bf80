"""The plan/apply contract every action honours (DESIGN section 6).

`plan` is read-only: it renders templates and returns PlannedWrites (a target, a
summary, a preview a person can read, and a JSON payload that carries secrets only
as `${secret:NAME}` tokens). `apply` performs one write idempotently: the same
idempotency key twice has one effect. Neither half touches the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.workflow import StepSpec, WorkflowDefinition


class ActionError(SophmateError):
    """A plan or an apply failed; the message says which step and why."""


class ScopeError(ActionError):
    """A target lies outside the workflow's declared output scope."""


class Stale(ActionError):
    """What a write was previewed against (its target, its source, its connection)
    changed since: it is not applied, the executor plans it again for a new approval."""


class Cancelled(ActionError):
    """A kill switch stopped the work at a checkpoint."""


class Held(ActionError):
    """A prompt step was reached while the `ai` kill switch is paused: the run is held
    (replayed or discarded later), not failed."""


@dataclass
class PromptAccess:
    """How a run's prompt steps reach their providers (engine/actions/prompt.py)."""

    live: bool  # False: placeholder answers (a dry run without dry_run_prompts)
    api_key: Callable[[str], str]  # secret name -> value (keyring), read once per run
    blocked: str | None = None  # the `ai` switch's refusal when it is paused
    attempt: int = 1  # the run's attempt (recorded with each call)


@dataclass(frozen=True)
class TriggerFile:
    path: Path
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class PlanContext:
    """What a step may read while planning."""

    workflow: WorkflowDefinition
    run_id: int
    mode: str  # dry_run | staging | production
    file: TriggerFile | None
    input: Any  # text, list of row dicts (csv), parsed JSON, or None
    output_paths: tuple[Path, ...]  # resolved: staging paths in staging mode
    connections: Mapping[str, Mapping[str, Any]]  # name -> settings for this mode (or {})
    connection_kinds: Mapping[str, str] = field(default_factory=dict)
    # Folders of targets resolved so far (engine/actions/paths.py): one plan resolves
    # each folder once, however many targets it has there.
    resolved_folders: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # Prompt steps: the answers so far by `as` name (`steps` in templates), a for_each
    # prompt's by record number, the calls made (recorded with the plan), and how to
    # reach a provider (None: a preview or a replan, which never calls one).
    answers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    record_answers: dict[int, dict[str, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )
    prompt_calls: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)
    prompts: PromptAccess | None = field(default=None, repr=False, compare=False)

    def template_context(self, **extra: Any) -> dict[str, Any]:
        f = self.file
        ctx: dict[str, Any] = {
            "workflow": {
                "name": self.workflow.name,
                "category": self.workflow.category,
                "owner": self.workflow.owner,
            },
            "run": {"id": self.run_id, "mode": self.mode},
            "output": {
                "path": str(self.output_paths[0]) if self.output_paths else "",
                "paths": [str(p) for p in self.output_paths],
            },
            "input": self.input,
            "steps": self.answers,
        }
        if f is not None:
            ctx["file"] = {
                "path": str(f.path),
                "name": f.path.name,
                "stem": f.path.stem,
                "suffix": f.path.suffix,
                "parent": str(f.path.parent),
                "size": f.size,
                "sha256": f.sha256,
            }
        ctx.update(extra)
        return ctx


@dataclass(frozen=True)
class PlannedWrite:
    kind: str  # the action name
    effect: EffectKind
    target: str
    summary: str
    preview: str  # shown to approvers; secrets masked / by reference only
    payload: dict[str, Any]  # JSON-safe; what apply needs
    customer_facing: bool = False
    records: int = 1  # affected records this write stands for
    record_number: int | None = None  # with for_each: which input record (from 1)
    sendable: bool = True  # False: stays planned (e.g. no staging settings for e-mail)
    cost: float = 0.0
    ai_drafted: bool = False  # its content came from a prompt step's answer


@dataclass(frozen=True)
class ApplyResult:
    undo: dict[str, Any] | None = None
    bytes_written: int = 0
    output: str = ""  # stdout/response tail, secrets masked by the caller
    cost: float = 0.0


@dataclass
class ApplyContext:
    """What apply may use: secrets resolved late, a cancel flag for checkpoints."""

    idempotency_key: str
    secret: Callable[[str], str]  # name -> value (keyring), raises SecretMissing
    connections: Mapping[str, Mapping[str, Any]]
    cancelled: threading.Event = field(default_factory=threading.Event)
    register_process: Callable[[Any], None] = lambda proc: None  # to be killed on pause
    undo_dir: Path | None = None  # previous file contents are kept here (store/undo_blobs)
    # Makes a rename durable; None: the folder is fsynced at once. A batch passes its
    # DirSync.defer and flushes before it records the outcomes (engine/write_apply.py).
    sync_dir: Callable[[Path], None] | None = None

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("stopped by a kill switch")


class Action(Protocol):
    name: str
    effect: EffectKind
    idempotent: bool  # True: a cut-short apply can be finished after a crash

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]: ...

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult: ...
