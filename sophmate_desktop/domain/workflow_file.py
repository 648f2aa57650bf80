"""Workflow files: strict YAML parsing, validation, template compilation and export.

A workflow file is one YAML mapping. Unknown keys are errors at every level (with the
closest known key suggested), so a typo in a safety field never passes silently. Every
error names its field path (`steps[1].to`, `trigger.settle_ms`) and, for YAML input,
its line; all errors of a document are reported together.

Top level
  name         required; slug: lowercase letters, digits, `.`, `_`, `-`; 1-64 chars,
               starting with a letter or digit
  category     required; slug as for name
  owner        non-empty text (a person or a team)
  description  text
  trigger      mapping (below)
  input        mapping: read none|text|csv|json (default text);
               max_bytes 1..2**31 (default 10485760); encoding a text codec (utf-8)
  output       mapping: paths (list of text, at least one, required);
               staging_paths (list of text)
  steps        required; a non-empty list of steps (below)
  approval     mapping: mode always|until_reviewed (default always);
               reviewed_runs 1..10000 (default 10); customer_facing_override bool;
               approvers 1..10 (default 1): distinct people who approve each write
  graduation   mapping: staging_runs 1..1000 (default 5)
  retry        mapping: limit 0..20 (default 0); backoff_s 0..86400 (default 30)
  notify       mapping: on_failure (required, non-empty list of `tray`,
               `email:ADDRESS`, `webhook:http(s)://...` or an apprise URL
               such as ntfy://, slack://, json://; `${secret:NAME}` allowed)
  pause        mapping: consecutive_failures 1..100 (default 3);
               on_provider_change bool (true); on_plugin_update bool (true)
  rollback     non-empty text: how to undo what the workflow did
  plan_timeout_s  0<..3600: planning a run longer than this fails it (default: the
               engine's plan_timeout_s setting, 30)
  max_writes   1..10**9 or `none` (default 10000): writes one run may plan; a run
               over it fails before planning, with nothing stored
  dry_run_prompts  true/false (default false): a dry run sends its prompts to the
               provider; otherwise it plans with a marked placeholder answer

trigger
  folder       a folder to watch (`~` is kept as written, expanded when watching)
  patterns     non-empty list of file-name patterns (default ["*"])
  ignore       list of file-name patterns to skip
  events       non-empty subset of created, modified, moved (default [created, moved])
  settle_ms    0..3600000 (default 500): size and mtime must be still this long
  recursive, polling, manual   true/false (default false)
  interval_s   1..31536000: run at each multiple of interval_s seconds since the epoch
  cron         a cron expression: 5 fields, or 6 with seconds last ("0 7 * * mon-fri")
  timezone     the cron's IANA zone (default UTC); a wall time skipped by DST has no
               run, one repeated by DST runs once
  catch_up     latest (default) | none | all: slots missed while no engine ran get one
               run (the newest), none (recorded as skipped) or one each (newest 100)
  settle       timer (default: settle_ms) or closed (wait until the writer closes
               the file; not with polling)
  safety_scan_s  0..86400 (default 300): a stat-only rescan of the folder catches
               what events missed; 0 turns it off
  follow_links_outside  true/false (default false): a file that resolves (a link)
               outside the folder is refused unless true (audited when saved)
  At least one of folder, interval_s, cron or `manual: true` is required.

steps: each step is a mapping with `action` (required) and the common keys
  name (a label), connection (a connection name), for_each (rows|items: one write per
  CSV row / JSON item; needs input.read csv or json) and customer_facing (bool).
  Built-in actions and their keys ("template" = jinja2 text, compiled at import):
  write_file    to (template, required), content (template, required)
  copy_file,
  move_file     to (template, required); the source is the trigger file
  http_request  method GET|POST|PUT|PATCH|DELETE (default POST); url (template,
                required without a connection) or, with a connection, path (template,
                required, relative to the connection's base URL); headers (mapping of
                text to template); body (template) or json (any JSON value, its text
                leaves are templates); timeout_s 0<..300 (default 30)
  send_email    connection (required); to (template or list of templates, required);
                cc (same); subject (template, required); body (template, required)
  run_command   argv (non-empty list of templates, required: there is no shell);
                timeout_s 0<..86400 (default 60); cwd (template); env (mapping of
                variable name to template); stdin (template: text written to the
                command's standard input). A secret goes in env or stdin, never in
                argv (every user can read a process's arguments): refused there
  prompt        connection (an llm connection, required); prompt (template,
                required) and system (template): sent at plan time, never a secret;
                max_tokens 1..200000 (default 1024); json_schema (a JSON Schema: the
                answer must parse and validate); as (a name: later steps read
                steps.NAME.text and steps.NAME.json). Writes nothing itself; a
                step whose templates read `steps` makes AI-drafted writes
  Any other action name (a slug not close to a built-in name) is a custom plug-in
  action; its keys are with (mapping; text leaves are templates) and effect
  (email|http|command|file: which kill switch covers it; default command).

Optional safety sections that are missing (or null) are not errors here: the
production checklist names them. Templates refer to secrets as `{{ secret.NAME }}`.

YAML: one document, UTF-8 (or UTF-16 with a byte-order mark). Anchors, aliases and
`<<` merge keys work; duplicate keys, custom tags (`!foo`, `!!python/...`) and
self-referencing aliases are errors. Export (`definition_to_yaml`) writes every
section in the order above with defaults spelled out, and reads back equal.
"""

from __future__ import annotations

import codecs
import copy
from dataclasses import asdict
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sophmate_desktop.domain.workflow import (
    MAX_WRITES_DEFAULT,
    StepSpec,
    TriggerSpec,
    WorkflowDefinition,
)
from sophmate_desktop.domain.workflow_actions import ACTION_KEYS
from sophmate_desktop.domain.workflow_fields import (
    BAD,
    DOCUMENT,
    MAX_DEPTH,
    MAX_VALUES,
    MISSING,
    Ctx,
    FieldError,
    WorkflowFileError,
    index_path,
    join_path,
    short,
)
from sophmate_desktop.domain.workflow_schema import validate

__all__ = [
    "DOCUMENT",
    "FieldError",
    "WorkflowFileError",
    "definition_from_dict",
    "definition_to_dict",
    "definition_to_yaml",
    "parse_workflow_yaml",
]

_YAML_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(
    _YAML_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)


class _TooLarge(Exception):
    pass


def _tag(node: Node) -> str:
    tag = str(node.tag)
    return short("!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag)


def _document_error(message: str, line: int | None = None) -> WorkflowFileError:
    return WorkflowFileError([FieldError(DOCUMENT, message, line)])


def definition_from_dict(doc: Any) -> WorkflowDefinition:
    """Validate a plain document (parsed YAML, or the JSON the database stores)."""
    try:
        return validate(Ctx(), doc)
    except RecursionError:
        raise _document_error("the document is nested too deeply")


class _YamlReader:
    """Builds plain values from the YAML node tree, noting each field path's line."""

    def __init__(self, text: str) -> None:
        self.loader = yaml.SafeLoader(text)
        self.lines: dict[str, int] = {}
        self.errors: list[FieldError] = []
        self.budget = MAX_VALUES
        self.own_keys: dict[int, set[int]] = {}  # mapping node -> its own (unmerged) keys

    def read(self) -> Any:
        try:
            node = self.loader.get_single_node()
            return MISSING if node is None else self.value(node, "", 0, frozenset())
        finally:
            self.loader.dispose()

    def error(self, path: str, message: str, node: Node) -> Any:
        self.errors.append(FieldError(path or DOCUMENT, message, node.start_mark.line + 1))
        return BAD

    def value(self, node: Node, path: str, depth: int, parents: frozenset[int]) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if depth > MAX_DEPTH:
            return self.error(path, "nested too deeply", node)
        if id(node) in parents:
            return self.error(path, "an alias refers to a list or mapping that holds it", node)
        parents = parents | {id(node)}
        if isinstance(node, SequenceNode) and node.tag == _YAML_TAG + "seq":
            items = []
            for i, item in enumerate(node.value):
                self.lines.setdefault(index_path(path, i), item.start_mark.line + 1)
                items.append(self.value(item, index_path(path, i), depth + 1, parents))
            return items
        if isinstance(node, MappingNode) and node.tag == _YAML_TAG + "map":
            return self.mapping(node, path, depth, parents)
        return self.error(path, f"unsupported YAML tag {_tag(node)}", node)

    def scalar(self, node: ScalarNode, path: str) -> Any:
        if node.tag not in _SCALAR_TAGS:
            return self.error(path, f"unsupported YAML tag {_tag(node)}", node)
        try:
            return self.loader.construct_object(node)
        except Exception as exc:  # a malformed !!int, !!binary, !!timestamp ...
            return self.error(path, f"cannot read {short(node.value)}: {exc}", node)

    def mapping(self, node: MappingNode, path: str, depth: int, parents: frozenset[int]) -> Any:
        own = self.own_keys.setdefault(id(node), {id(k) for k, _ in node.value})
        try:
            self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.YAMLError as exc:
            return self.error(path, f"invalid merge key: {getattr(exc, 'problem', exc)}", node)
        out: dict[Any, Any] = {}
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(path, "a key must be text, not a list or mapping", key_node)
                continue
            key = self.scalar(key_node, path)
            if key is BAD:
                continue
            key_path = join_path(path, key)
            if id(key_node) in own:  # a key written here, not merged in
                if key in seen:
                    self.error(key_path, "duplicate key: it appears more than once", key_node)
                seen.add(key)
                self.lines[key_path] = key_node.start_mark.line + 1
            else:
                self.lines.setdefault(key_path, key_node.start_mark.line + 1)
            out[key] = self.value(value_node, key_path, depth + 1, parents)
        return out


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _document_error("not a text file: it is not valid UTF-16")
    if b"\x00" in data:
        raise _document_error("not a text file: it contains NUL bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        raise _document_error(f"not a text file: byte 0x{byte:02x} is not valid UTF-8", line)


def _syntax_error(exc: yaml.YAMLError, text: str) -> FieldError:
    if isinstance(exc, yaml.reader.ReaderError):
        start = text.rfind("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return FieldError(
            DOCUMENT,
            f"YAML syntax error: the character U+{code:04X} is not allowed in YAML",
            text.count("\n", 0, exc.position) + 1,
            exc.position - start + 1,
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and context != problem:
        problem = f"{context}, {problem}"
    if mark is None:
        return FieldError(DOCUMENT, f"YAML syntax error: {problem}")
    return FieldError(DOCUMENT, f"YAML syntax error: {problem}", mark.line + 1, mark.column + 1)


def parse_workflow_yaml(text: str | bytes) -> WorkflowDefinition:
    """Parse and validate a workflow file; WorkflowFileError lists every problem."""
    if isinstance(text, bytes | bytearray | memoryview):
        text = _decode(bytes(text))
    elif not isinstance(text, str):
        raise TypeError(f"expected str or bytes, got {type(text).__name__}")
    if "\x00" in text:
        raise _document_error("not a text file: it contains NUL characters")
    if not text.strip():
        raise _document_error("the file is empty")
    try:
        reader = _YamlReader(text)
        doc = reader.read()
    except yaml.YAMLError as exc:
        raise WorkflowFileError([_syntax_error(exc, text)])
    except _TooLarge:
        raise _document_error(f"too large: the document expands to over {MAX_VALUES} values")
    except RecursionError:
        raise _document_error("the document is nested too deeply")
    if doc is MISSING:
        raise _document_error("the file is empty (it holds only comments)")
    ctx = Ctx(reader.lines)
    ctx.errors.extend(reader.errors)
    try:
        return validate(ctx, doc)
    except RecursionError:
        raise _document_error("the document is nested too deeply")


# --- export ---------------------------------------------------------------------------


def _plain(spec: Any) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in asdict(spec).items() if v is not None
    }


def _step_to_dict(step: StepSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if step.label is not None:
        out["name"] = step.label
    out["action"] = step.action
    if step.connection is not None:
        out["connection"] = step.connection
    if step.for_each is not None:
        out["for_each"] = step.for_each
    if step.action in ACTION_KEYS:
        out.update(copy.deepcopy(step.params))
    else:
        if step.params:
            out["with"] = copy.deepcopy(step.params)
        if step.effect is not None:
            out["effect"] = step.effect
    if step.customer_facing:
        out["customer_facing"] = True
    return out


def definition_to_dict(defn: WorkflowDefinition) -> dict[str, Any]:
    """The plain, JSON-safe document; `definition_from_dict` gives `defn` back."""
    out: dict[str, Any] = {"name": defn.name, "category": defn.category}
    if defn.owner is not None:
        out["owner"] = defn.owner
    if defn.description:
        out["description"] = defn.description
    if defn.trigger is not None:
        out["trigger"] = _plain(defn.trigger)
        if defn.trigger.folder is None:  # leave out folder settings that say nothing
            default = _plain(TriggerSpec())
            out["trigger"] = {k: v for k, v in out["trigger"].items() if default.get(k) != v}
    for key in ("input", "output"):
        if getattr(defn, key) is not None:
            out[key] = _plain(getattr(defn, key))
    out["steps"] = [_step_to_dict(s) for s in defn.steps]
    for key in ("approval", "graduation", "retry", "notify", "pause", "rollback", "plan_timeout_s"):
        value = getattr(defn, key)
        if value is not None:
            out[key] = value if isinstance(value, str | float) else _plain(value)
    out.update(_max_writes_entry(defn))
    out.update(_optional_entries(defn))
    return out


def _optional_entries(defn: WorkflowDefinition) -> dict[str, Any]:
    """The keys a definition leaves out while they say nothing."""
    out: dict[str, Any] = {}
    if defn.runs_on is not None:
        out["runs_on"] = defn.runs_on
    if defn.dry_run_prompts:
        out["dry_run_prompts"] = True
    return out


def _max_writes_entry(defn: WorkflowDefinition) -> dict[str, Any]:
    if defn.max_writes == MAX_WRITES_DEFAULT:
        return {}
    return {"max_writes": "none" if defn.max_writes is None else defn.max_writes}


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent list items under their key


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    if any(c in data for c in "\r\x85\u2028\u2029"):
        style = '"'  # YAML folds these line breaks anywhere else (PyYAML issue)
    return dumper.represent_scalar(_YAML_TAG + "str", data, style=style)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.SequenceNode:
    flat = all(
        isinstance(x, bool | int | float) or (isinstance(x, str) and "\n" not in x) for x in data
    )
    short_enough = sum(len(str(x)) + 4 for x in data) <= 60
    return dumper.represent_sequence(
        _YAML_TAG + "seq", data, flow_style=bool(data) and flat and short_enough
    )


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def definition_to_yaml(defn: WorkflowDefinition) -> str:
    """Readable block YAML that `parse_workflow_yaml` reads back to an equal definition."""
    return yaml.dump(
        definition_to_dict(defn),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
