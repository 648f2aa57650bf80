"""The words of a run's plain-language account: the account itself and the small
helpers that turn sizes, durations, times and errors into text.

The story is told by `console/run_account.py` from the run's rows; everything here
is pure text handling, shared with the runs page.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

STDERR_CHARS = 300
MODE_WORDS = {"dry_run": "as a dry run", "staging": "in staging", "production": "in production"}
STAGE_WORDS = {"dry_run": "dry run", "staging": "staging", "production": "production"}
# What kind of failure an exception class stands for, to open the sentence with.
ERROR_LEADS = {
    "InputError": "it could not read its input file",
    "ScopeError": "a write target lies outside the workflow's declared output",
    "TemplateRenderError": "a template could not be filled in",
    "TemplateError": "a template is not valid",
    "ActionError": "a step could not plan its writes",
    "FileChanged": "the input file changed while it was being read",
    "TimeoutError": "a step took too long",
    "PermissionError": "it was not allowed to read or write a file",
    "FileNotFoundError": "a file it needed was missing",
}
_STDERR = re.compile(r"(?:exited with code -?\d+|was killed by signal \d+): (.+)\Z", re.S)


@dataclass(frozen=True)
class RunAccount:
    """What happened in a run: a headline, paragraphs of sentences, and the planned
    writes as bullets."""

    run_id: int
    headline: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...] = ()

    def text(self, width: int = 88) -> str:
        parts = [self.headline]
        for paragraph in self.paragraphs:
            parts += ["", textwrap.fill(paragraph, width)]
        if self.bullets:
            parts += ["", "Planned writes:"]
            parts += [
                textwrap.fill(b, width, initial_indent="  - ", subsequent_indent="    ")
                for b in self.bullets
            ]
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "headline": self.headline,
            "paragraphs": list(self.paragraphs),
            "bullets": list(self.bullets),
            "text": self.text(),
        }


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def cost_text(cost: float | None) -> str:
    """A call's cost: "0.0021", and a local model's fraction of that "0.0000081"."""
    if not cost:
        return "0"
    if cost >= 0.0001:
        return f"{cost:.4f}"
    return f"{cost:.10f}".rstrip("0")


def human_size(size: int | None) -> str | None:
    """Bytes as people read them: 950 B, 3.2 kB, 12.0 MB."""
    if size is None:
        return None
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def human_duration(ms: int | None) -> str | None:
    if ms is None:
        return None
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min {int(seconds % 60)} s"
    return f"{minutes // 60} h {minutes % 60} min"


def quote(text: str | None) -> str:
    """' ("reason")' for a non-empty reason, else ''."""
    return f' ("{" ".join(text.split())}")' if text and text.strip() else ""


def one_line(text: str | None, limit: int = 400) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_at(at: str | datetime | None) -> datetime | None:
    """An audit time ("2026-11-27T10:02:03.123456Z") or a datetime, as naive UTC."""
    if at is None or isinstance(at, datetime):
        return at
    return datetime.fromisoformat(at.rstrip("Z"))


class Clock:
    """The first time named carries its date and "UTC"; later ones only what changed."""

    def __init__(self) -> None:
        self._day: date | None = None

    def at(self, value: str | datetime | None) -> str:
        when = parse_at(value)
        if when is None:
            return ""
        if self._day is None:
            self._day = when.date()
            return f"on {when:%Y-%m-%d} at {when:%H:%M} UTC"
        if when.date() != self._day:
            self._day = when.date()
            return f"on {when:%Y-%m-%d} at {when:%H:%M}"
        return f"at {when:%H:%M}"


def stderr_of(diagnostics: dict[str, Any] | None, errors: list[str]) -> str | None:
    """The end of a failed command's error output: from the run's diagnostics, else
    from a failed write's error ("... exited with code 2: <stderr>")."""
    for key in ("stderr_tail", "stderr"):
        if (diagnostics or {}).get(key):
            return str(diagnostics[key]).strip()[-STDERR_CHARS:]  # type: ignore[index]
    for error in errors:
        match = _STDERR.search(error or "")
        if match:
            return match.group(1).strip()[-STDERR_CHARS:]
    return None


def error_lead(exception: str | None) -> str:
    """How a failure sentence explains itself: "because <lead>: <error>"."""
    if exception in ERROR_LEADS:
        return ERROR_LEADS[exception]
    return f"of an unexpected error ({exception})" if exception else "of an error"
