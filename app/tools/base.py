"""The tool contract: argument models, context, results, errors and one safe way to run a call.

A tool is a name, a description, a pydantic argument model (its JSON schema is what the
model sees), an access kind the approval policy classifies by, and an async ``run``. The
engine calls :func:`execute`, which never raises for a tool's own failure: bad arguments,
timeouts, tool errors and unexpected exceptions all become ``is_error=True`` results the
model can read. Only ``asyncio.CancelledError`` propagates, after the tool has cleaned up.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.config import SandboxMode

AccessKind = Literal["read", "write", "exec", "network", "interactive"]

ArgsT = TypeVar("ArgsT", bound=BaseModel)

#: Default per-call limits when no config is at hand (match ``[engine]`` defaults).
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_OUTPUT_CHARS = 30_000


class ToolError(Exception):
    """A failure the model can act on; ``str(error)`` is the whole message it will read."""


class ToolArgs(BaseModel):
    """Base of every argument model: unknown arguments are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class ToolContext:
    """What a running tool may use: the workspace root, its limits, and a way to ask the person."""

    workspace: Path
    timeout: float = DEFAULT_TIMEOUT
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS
    #: Put a question to the person, with the answers offered (may be empty); the reply.
    ask: Callable[[str, Sequence[str]], Awaitable[str]] | None = None
    #: ``[tools] sandbox``: whether shell commands run in an OS sandbox.
    sandbox: SandboxMode = "off"
    #: Whether the call may use the network (in the sandbox; a person or rule allowed it).
    network: bool = True
    #: Allowed as known-safe: run with repository-controlled execution (git hooks,
    #: fsmonitor, pagers, external diff and textconv) turned off.
    hardened: bool = False


class ToolResult(BaseModel):
    """What a tool call produced: text for the model, an error flag, and facts for the UI."""

    output: str
    is_error: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


def arguments_object(
    name: str, raw: Mapping[str, Any] | str | BaseModel, like: str
) -> dict[str, Any]:
    """A call's arguments as a dict (from a model, a mapping or JSON text), or a ToolError the
    model can act on; ``like`` is an example shown in the message (or "")."""
    if isinstance(raw, BaseModel):
        raw = raw.model_dump()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise ToolError(
                f"The arguments for {name} are not valid JSON ({exc.msg} at "
                f"position {exc.pos}). Send a JSON object{like}."
            ) from None
    if not isinstance(raw, Mapping):
        raise ToolError(
            f"The arguments for {name} must be a JSON object{like}, not {type(raw).__name__}."
        )
    return dict(raw)


@functools.cache
def _parameters(args: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of an argument model, made once per model: pydantic takes ~2 ms to
    build it, and every model call of every turn sends it (a copy is handed out)."""
    schema = args.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)  # the Args docstring: the tool description says it
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


class Tool(ABC, Generic[ArgsT]):
    """A capability the model may call; subclasses set the class attributes and ``run``."""

    name: ClassVar[str]
    description: ClassVar[str]
    Args: type[ArgsT]
    access: ClassVar[AccessKind]

    def spec(self) -> dict[str, Any]:
        """The tool as the model sees it: ``{name, description, parameters}`` (JSON schema)."""
        parameters = copy.deepcopy(_parameters(self.Args))
        return {"name": self.name, "description": self.description, "parameters": parameters}

    def parse_args(self, raw: Mapping[str, Any] | str | BaseModel) -> ArgsT:
        """Validate raw arguments (a dict or a JSON string) into ``Args``, or raise a ToolError."""
        if isinstance(raw, self.Args):
            return raw
        values = arguments_object(self.name, raw, f" like {self._example()}")
        try:
            return self.Args.model_validate(values)
        except ValidationError as exc:
            raise ToolError(self._describe_errors(exc)) from None

    def access_for(self, args: ArgsT) -> AccessKind:
        """The access kind of this particular call (the class default unless a tool refines it)."""
        return self.access

    def approval_text(self, args: ArgsT, ctx: ToolContext) -> str:
        """What a person approves: the command, a diff or a URL; by default the JSON arguments."""
        return json.dumps(args.model_dump(), ensure_ascii=False, indent=2)

    def timeout_for(self, args: ArgsT, ctx: ToolContext) -> float | None:
        """Seconds :func:`execute` allows this call (``None`` = no limit of its own)."""
        return ctx.timeout

    @abstractmethod
    async def run(self, args: ArgsT, ctx: ToolContext) -> ToolResult:
        """Do the work; raise ToolError for failures the model should read."""

    def _example(self) -> str:
        required = self.Args.model_json_schema().get("required", [])
        return json.dumps({name: "…" for name in required})

    def _describe_errors(self, exc: ValidationError) -> str:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
            if error["type"] == "missing":
                problems.append(f"`{where}` is required")
            elif error["type"] == "extra_forbidden":
                problems.append(f"`{where}` is not an argument of {self.name}")
            else:
                problems.append(f"`{where}`: {error['msg']}")
        allowed = ", ".join(self.Args.model_fields) or "none"
        return (
            f"Invalid arguments for {self.name}: {'; '.join(problems)}. "
            f"Its arguments are: {allowed}."
        )


def truncate_output(text: str, limit: int) -> tuple[str, int]:
    """Keep the head and tail of ``text`` within ``limit`` chars; return it and the cut size."""
    if len(text) <= limit:
        return text, 0
    cut = len(text) - limit
    head = limit * 2 // 3
    tail = limit - head
    note = f"\n[… {cut:,} characters cut …]\n"
    return text[:head] + note + (text[-tail:] if tail else ""), cut


async def execute(
    tool: Tool[Any], raw_args: Mapping[str, Any] | str | BaseModel, ctx: ToolContext
) -> ToolResult:
    """Parse, run under the tool's timeout and cap the output; every failure becomes a result."""
    started = time.monotonic()
    try:
        args = tool.parse_args(raw_args)
    except ToolError as exc:
        return _finish(ToolResult(output=str(exc), is_error=True), started, "invalid_arguments")
    timeout = tool.timeout_for(args, ctx)
    try:
        async with asyncio.timeout(timeout):
            result = await tool.run(args, ctx)
    except ToolError as exc:
        result = _finish(ToolResult(output=str(exc), is_error=True), started, "tool_error")
    except TimeoutError:
        message = (
            f"{tool.name} timed out after {timeout:g} s and was stopped. "
            "Try a smaller or faster request."
        )
        result = _finish(ToolResult(output=message, is_error=True), started, "timeout")
    except Exception as exc:  # the model gets an error, never a crash
        message = f"{tool.name} failed unexpectedly: {type(exc).__name__}: {exc}"
        result = _finish(ToolResult(output=message, is_error=True), started, "exception")
    else:
        result = _finish(result, started, None)
    text, cut = truncate_output(result.output, ctx.max_output_chars)
    if cut:
        result.output = text
        result.metadata["truncated_chars"] = result.metadata.get("truncated_chars", 0) + cut
    return result


def _finish(result: ToolResult, started: float, error_kind: str | None) -> ToolResult:
    result.metadata.setdefault("duration_ms", round((time.monotonic() - started) * 1000))
    if error_kind:
        result.metadata["error"] = error_kind
    return result
