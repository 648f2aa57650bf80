"""The validated shape of a workflow file (see README, "Workflow file").

`sophmate_desktop.domain.workflow_file` parses YAML into these frozen dataclasses;
`to_dict()` gives back the plain document (what the database stores as JSON and
what export writes as YAML). Optional safety fields are None when the file omits
them, so the production checklist can name each missing item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sophmate_desktop.domain.enums import BUILTIN_ACTION_EFFECTS, EffectKind


@dataclass(frozen=True)
class TriggerSpec:
    folder: str | None = None  # a watched folder; None for manual/schedule only
    patterns: tuple[str, ...] = ("*",)  # simple name patterns (fnmatch on the file name)
    ignore: tuple[str, ...] = ()
    events: tuple[str, ...] = ("created", "moved")
    settle_ms: int = 500
    recursive: bool = False
    polling: bool = False  # polling observer for network shares
    interval_s: int | None = None  # an interval schedule (seconds), no file
    cron: str | None = None  # a cron schedule (croniter: 5 fields, or 6 with seconds last)
    timezone: str | None = None  # the cron's IANA zone (None: UTC)
    catch_up: str | None = None  # missed slots: latest (None: the default) | none | all
    manual: bool = False  # only "Run on file..." / `workflow run`
    # None: the default, left out of the stored document (older documents stay equal)
    settle: str | None = None  # "closed": wait for the writer's close, not a timer
    safety_scan_s: int | None = None  # periodic stat-only rescan (default 300, 0: off)
    follow_links_outside: bool | None = None  # a link resolving outside is refused


@dataclass(frozen=True)
class InputSpec:
    read: str = "text"  # none | text | csv | json
    max_bytes: int = 10 * 1024 * 1024
    encoding: str = "utf-8"


@dataclass(frozen=True)
class OutputSpec:
    paths: tuple[str, ...] = ()
    staging_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepSpec:
    action: str
    params: dict[str, Any] = field(default_factory=dict)  # action-specific keys
    connection: str | None = None
    for_each: str | None = None  # rows | items
    customer_facing: bool = False
    effect: str | None = None  # custom actions: which kill switch covers them
    label: str | None = None  # the step's optional `name` in the workflow file

    @property
    def effect_kind(self) -> EffectKind:
        if self.action in BUILTIN_ACTION_EFFECTS:
            return BUILTIN_ACTION_EFFECTS[self.action]
        return EffectKind(self.effect or "command")


@dataclass(frozen=True)
class ApprovalSpec:
    mode: str = "always"  # always | until_reviewed
    reviewed_runs: int = 10
    customer_facing_override: bool = False  # set by an administrator, audited
    approvers: int = 1  # distinct people who approve a write before it is applied


@dataclass(frozen=True)
class GraduationSpec:
    staging_runs: int = 5


@dataclass(frozen=True)
class RetrySpec:
    limit: int = 0
    backoff_s: float = 30.0


@dataclass(frozen=True)
class NotifySpec:
    on_failure: tuple[str, ...] = ()  # "tray", "email:ADDR", "webhook:URL", apprise URLs


@dataclass(frozen=True)
class PauseSpec:
    consecutive_failures: int = 3
    on_provider_change: bool = True
    on_plugin_update: bool = True


MAX_WRITES_DEFAULT = 10_000
MAX_WRITES_LIMIT = 1_000_000_000


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    category: str
    owner: str | None = None
    description: str = ""
    trigger: TriggerSpec | None = None
    input: InputSpec | None = None
    output: OutputSpec | None = None
    steps: tuple[StepSpec, ...] = ()
    approval: ApprovalSpec | None = None
    graduation: GraduationSpec = field(default_factory=GraduationSpec)
    retry: RetrySpec | None = None
    notify: NotifySpec | None = None
    pause: PauseSpec | None = None
    rollback: str | None = None
    plan_timeout_s: float | None = None  # None: the engine's setting (plan_timeout_s)
    max_writes: int | None = MAX_WRITES_DEFAULT  # writes one run may plan; None: no limit
    # The engine (or pool of engines) that watches its folder, plans its runs and applies
    # its writes; None: any engine of the database (a single desktop).
    runs_on: str | None = None
    dry_run_prompts: bool = False  # a dry run asks the provider (else: placeholder answers)

    @property
    def connections(self) -> tuple[str, ...]:
        names = [s.connection for s in self.steps if s.connection]
        return tuple(dict.fromkeys(names))

    @property
    def effect_kinds(self) -> frozenset[EffectKind]:
        kinds = {s.effect_kind for s in self.steps}
        if any(s.customer_facing for s in self.steps):
            kinds.add(EffectKind.CUSTOMER_FACING)
        return frozenset(kinds)

    @property
    def sends_customer_facing(self) -> bool:
        return any(s.customer_facing for s in self.steps)

    @property
    def prompts(self) -> bool:
        """Whether a step asks an AI provider (its effect kind `ai`)."""
        return any(s.action == "prompt" for s in self.steps)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    return []


def step_reads_answers(step: StepSpec) -> bool:
    """Whether the step's templates read `steps` (a prompt's answer): its writes are
    then AI-drafted. A template that does not compile reads nothing here (planning
    reports it)."""
    from sophmate_desktop.domain.templates import TemplateError, referenced_names

    for text in _texts(step.params):
        if "steps" not in text:
            continue
        try:
            if "steps" in referenced_names(text):
                return True
        except TemplateError:
            continue
    return False
