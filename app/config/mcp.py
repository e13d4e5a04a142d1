"""``[mcp]``: the MCP tool servers of the config."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.config.base import _ENV_NAME, _env_names, _Section

#: An MCP server's name: letters, digits, single '-' or '_' between them. No ``__``, so
#: ``mcp__<server>__<tool>`` always splits back into its parts.
_MCP_SERVER_NAME = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")


#: An allow-list entry of an MCP server's tools: a name or a glob (``fetch_*``).
_MCP_TOOL_GLOB = re.compile(r"^[A-Za-z0-9_.\-*?\[\]/]+$")


class McpServerConfig(_Section):
    """One ``[mcp.servers.NAME]``: an MCP tool server, started as a program (stdio) or
    reached by URL (streamable HTTP). Secrets stay in the environment: ``env`` and
    ``headers_env`` name variables, and their values are read when the server starts."""

    command: str | None = Field(
        default=None,
        description="stdio: the program to run (give either command or url).",
        examples=["github-mcp"],
    )
    args: list[str] = Field(
        default_factory=list, description="stdio: its arguments.", examples=[["--read-only"]]
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: variables to pass through: NAME_IN_SERVER = 'NAME_HERE' (names only).",
        examples=[{"GITHUB_TOKEN": "MY_GITHUB_TOKEN"}],
    )
    cwd: str | None = Field(
        default=None,
        description="stdio: working folder, relative to the workspace.",
        examples=["."],
    )
    url: str | None = Field(
        default=None,
        description="Streamable HTTP: the server's URL (instead of command).",
        examples=["https://docs.example/mcp"],
    )
    headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="HTTP headers whose values are read from variables: Header = 'VARIABLE'.",
        examples=[{"Authorization": "DOCS_MCP_AUTH"}],
    )
    enabled: bool = Field(default=True, description="false: the server is not started.")
    tools: list[str] | None = Field(
        default=None,
        description="Allow-list of the server's tools (names or globs); absent = all.",
        examples=[["search_*", "get_issue"]],
    )
    startup_timeout: float = Field(
        default=20.0, gt=0, description="Seconds to start and list tools."
    )
    call_timeout: float = Field(default=120.0, gt=0, description="Seconds one tool call may take.")
    trust_annotations: bool = Field(
        default=False,
        description="Let the server's readOnlyHint make a tool run without asking (as reads do).",
    )

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("expected a program to run, got an empty string")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_NAME.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
        return _env_names(value, "variable")

    @field_validator("headers_env")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.match(r"^[A-Za-z0-9!#$%&'*+.^_`|~\-]+$", key):
                raise ValueError(f"{key!r} is not a valid HTTP header name")
        return _env_names(value, "header")

    @field_validator("tools")
    @classmethod
    def _tool_globs(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or []:
            if not _MCP_TOOL_GLOB.match(pattern):
                raise ValueError(f"{pattern!r} is not a tool name or glob (like 'fetch_*')")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError(
                "give either command (a program, over stdio) or url (streamable HTTP), "
                "not both and not neither"
            )
        if self.url is not None and (self.args or self.env or self.cwd):
            raise ValueError(
                "args, env and cwd are for command servers; a url server takes headers_env"
            )
        if self.command is not None and self.headers_env:
            raise ValueError("headers_env is for url servers; a command server takes env")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """How the server is reached."""
        return "stdio" if self.command is not None else "http"

    def command_line(self) -> str:
        """The program and its arguments as one line (for people: trust prompts, lists)."""
        import shlex

        if self.command is None:
            return str(self.url)
        return shlex.join([self.command, *self.args])


class McpConfig(_Section):
    """``[mcp]``: Model Context Protocol tool servers (``agentkit-tui[mcp]``)."""

    servers: dict[str, McpServerConfig] = Field(
        default_factory=dict, description="One [mcp.servers.NAME] table per server."
    )

    @field_validator("servers")
    @classmethod
    def _server_names(cls, value: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
        for name in value:
            if not _MCP_SERVER_NAME.match(name):
                raise ValueError(
                    f"server name {name!r} may use letters and digits with single '-' or '_' "
                    "between them"
                )
        return value
