"""An MCP server's tool as one of ours: its schema, description and read-only hint, a call
through the server, and the result as text for the model.

The access kind is ``exec`` (ask in ``ask`` mode, refused in ``read-only`` mode unless a rule
allows the tool); the server's ``readOnlyHint`` makes it ``read`` only when the person set
``trust_annotations = true`` for that server. Arguments are checked against the server's
JSON schema first, so a mistake goes back to the model without a round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from app.mcp.connection import McpCallError, ServerConnection, ToolInfo
from app.tools.base import AccessKind, Tool, ToolContext, ToolError, ToolResult, arguments_object

if TYPE_CHECKING:
    from mcp.types import CallToolResult

#: Strings longer than this are folded in the approval text.
FOLD_AT = 300
#: Lists longer than this show their first items only in the approval text.
FOLD_ITEMS = 20


class McpArgs(BaseModel):
    """Whatever the server's schema takes (checked against that schema, not by pydantic)."""

    model_config = ConfigDict(extra="allow")


class McpTool(Tool[McpArgs]):
    """A tool of one MCP server; :func:`make_tool` makes a subclass per tool."""

    Args = McpArgs
    connection: ClassVar[ServerConnection]
    info: ClassVar[ToolInfo]

    def spec(self) -> dict[str, Any]:
        """The server's own schema and description, under our full name."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.info.input_schema,
        }

    def parse_args(self, raw: Mapping[str, Any] | str | BaseModel) -> McpArgs:
        """A JSON object that the server's schema accepts, or a ToolError saying what is wrong."""
        if isinstance(raw, McpArgs):
            return raw
        values = arguments_object(self.name, raw, "")
        problems = _schema_problems(self.info.input_schema, values)
        if problems:
            properties = self.info.input_schema.get("properties")
            names = ", ".join(properties) if isinstance(properties, dict) and properties else "none"
            raise ToolError(
                f"Invalid arguments for {self.name}: {'; '.join(problems)}. "
                f"Its arguments are: {names}."
            )
        return McpArgs.model_validate(values)

    def approval_text(self, args: McpArgs, ctx: ToolContext) -> str:
        """Server, tool and the arguments as indented JSON, long values folded."""
        shown = json.dumps(_fold(args.model_dump()), ensure_ascii=False, indent=2)
        return f"MCP server: {self.info.server}\ntool: {self.info.name}\narguments:\n{shown}"

    def timeout_for(self, args: McpArgs, ctx: ToolContext) -> float | None:
        """The server's ``call_timeout``."""
        return self.connection.config.call_timeout

    async def run(self, args: McpArgs, ctx: ToolContext) -> ToolResult:
        """Call the tool on its server; the server's error flag becomes ours."""
        try:
            result = await self.connection.call(self.info.name, args.model_dump())
        except McpCallError as exc:
            raise ToolError(str(exc)) from None
        text, notes = result_text(result)
        metadata: dict[str, Any] = {"mcp_server": self.info.server, "mcp_tool": self.info.name}
        if notes:
            metadata["not_shown"] = notes
        return ToolResult(output=text, is_error=bool(result.is_error), metadata=metadata)


def make_tool(connection: ServerConnection, info: ToolInfo) -> McpTool:
    """A tool object for ``info`` of ``connection``'s server."""
    trusted = connection.config.trust_annotations and info.read_only_hint is True
    access: AccessKind = "read" if trusted else "exec"
    description = f"{info.description} (tool {info.name!r} of the MCP server {info.server!r})"
    attributes = {
        "name": info.full_name,
        "description": description,
        "access": access,
        "connection": connection,
        "info": info,
    }
    cls = type(f"McpTool_{info.full_name}", (McpTool,), attributes)
    tool: McpTool = cls()
    return tool


def result_text(result: CallToolResult) -> tuple[str, int]:
    """The text of a call's content blocks, and how many blocks were only noted (images…)."""
    parts: list[str] = []
    noted = 0
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(getattr(block, "text", "")))
        elif kind in ("image", "audio"):
            noted += 1
            size = len(str(getattr(block, "data", ""))) * 3 // 4
            mime = getattr(block, "mime_type", "?")
            parts.append(f"[{kind} {mime}, {_size(size)}: not shown]")
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            uri = getattr(resource, "uri", "?")
            text = getattr(resource, "text", None)
            if isinstance(text, str):
                parts.append(f"[resource {uri}]\n{text}")
            else:
                noted += 1
                mime = getattr(resource, "mime_type", None) or "binary"
                parts.append(f"[resource {uri} ({mime}): not shown]")
        elif kind == "resource_link":
            parts.append(f"[resource link {getattr(block, 'uri', '?')}]")
        else:
            noted += 1
            parts.append(f"[{kind or 'unknown'} content: not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    text = "\n".join(parts)
    return (text if text.strip() else "(no output)"), noted


def _size(count: int) -> str:
    return f"{count} bytes" if count < 1024 else f"{count / 1024:.1f} kB"


def _fold(value: Any) -> Any:
    """Long strings and lists shortened for people to read (what is sent is unchanged)."""
    if isinstance(value, str) and len(value) > FOLD_AT:
        return f"{value[:FOLD_AT]}… ({len(value) - FOLD_AT:,} more characters)"
    if isinstance(value, list):
        shown = [_fold(item) for item in value[:FOLD_ITEMS]]
        if len(value) > FOLD_ITEMS:
            shown.append(f"… ({len(value) - FOLD_ITEMS} more items)")
        return shown
    if isinstance(value, dict):
        return {key: _fold(item) for key, item in value.items()}
    return value


def _schema_problems(schema: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """What the JSON schema finds wrong with ``values`` (nothing if it cannot check)."""
    try:
        import jsonschema  # type: ignore[import-untyped]  # comes with the mcp SDK
    except ImportError:
        return []
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator = validator_class(schema)
        errors = sorted(validator.iter_errors(values), key=lambda e: list(e.path))
    except jsonschema.exceptions.SchemaError:
        return []  # the server's schema is broken: let the server judge the call
    problems = []
    for error in errors[:5]:
        where = ".".join(str(part) for part in error.path)
        if error.validator == "required" and not where:
            problems.append(error.message.replace(" is a required property", " is required"))
        elif where:
            problems.append(f"`{where}`: {error.message}")
        else:
            problems.append(error.message)
    return problems
