"""An example custom action, shipped the way a team would ship its own.

A plug-in distribution declares it in its packaging metadata:
    [project.entry-points."sophmate_desktop.actions"]
    append_line = "sophmate_example_plugin:AppendLine"
and a workflow step uses it as
    - action: append_line
      effect: file
      with: {to: "{{ output.path }}/log.txt", line: "run {{ run.id }} done"}

`append_line` adds one line to a file inside the output scope. Each line ends with a
marker carrying the write's idempotency key, so applying the same write twice adds
the line once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.templates import TemplateError, TemplateRenderError, render
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions import (
    ActionError,
    ApplyContext,
    ApplyResult,
    PlanContext,
    PlannedWrite,
    ScopeError,
    field_error,
)
from sophmate_desktop.engine.actions.paths import atomic_write, recheck_target, resolve_in_scope


def marker(key: str) -> str:
    return f"[sophmate:{key}]"


class AppendLine:
    name = "append_line"
    effect = EffectKind.FILE
    idempotent = True

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        spec = step.params  # a custom step's `with` mapping
        variables = ctx.template_context()
        rendered: dict[str, str] = {}
        for key in ("to", "line"):
            if key not in spec:
                raise field_error(f"with.{key}", "required field is missing")
            try:
                rendered[key] = render(spec[key], variables)
            except (TemplateError, TemplateRenderError) as exc:
                raise field_error(f"with.{key}", str(exc))
        if "\n" in rendered["line"] or "\r" in rendered["line"]:
            raise field_error("with.line", "must be a single line")
        try:
            path = resolve_in_scope(rendered["to"], ctx.output_paths)
        except ScopeError as exc:
            raise field_error("with.to", str(exc), ScopeError)
        return [
            PlannedWrite(
                kind=self.name,
                effect=self.effect,
                target=str(path),
                summary=f"append a line to {path.name}",
                preview=f"append to {path}:\n+{rendered['line']}",
                payload={
                    "path": str(path),
                    "line": rendered["line"],
                    "scope": [str(p) for p in ctx.output_paths],
                },
            )
        ]

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        path: Path = recheck_target(payload["path"], payload["scope"])
        tag = marker(ctx.idempotency_key)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if any(line.endswith(tag) for line in current.splitlines()):
            return ApplyResult(output="already appended")
        if current and not current.endswith("\n"):
            current += "\n"
        line = f"{payload['line']}  {tag}\n"
        try:
            atomic_write(path, (current + line).encode("utf-8"))
        except OSError as exc:
            raise ActionError(f"could not append to {path}: {exc.strerror or exc}")
        return ApplyResult(
            undo={"path": str(path), "remove_line_ending_with": tag},
            bytes_written=len(line.encode("utf-8")),
            output=f"appended to {path}",
        )
