"""Settings: a validated pydantic model loaded from one TOML file plus ``AGENTKIT_*`` env.

Precedence, highest first: environment variables, the config file, defaults. A missing
file means defaults; a broken one raises :class:`ConfigError` with a single line that
names the file, the line or key, and what was expected. Nothing is read at import time.

Environment overrides use ``AGENTKIT_<KEY>`` for top-level keys and ``__`` between
nested keys: ``AGENTKIT_DEFAULT_MODEL=openai/gpt-4.1-mini``,
``AGENTKIT_UI__THEME=nord``, ``AGENTKIT_PROVIDERS__LOCAL__BASE_URL=http://…``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app import secretenv
from app.paths import ENV_CONFIG, ENV_DB, ENV_HOME
from app.textsafe import redact_url_credentials

ENV_PREFIX = "AGENTKIT_"
#: ``AGENTKIT_*`` variables that are not settings (paths, test knobs).
NON_SETTING_ENV = {ENV_HOME, ENV_CONFIG, ENV_DB, "AGENTKIT_WORKSPACE", "AGENTKIT_LOG_LEVEL"}

ProviderKind = Literal["openai", "anthropic", "ollama"]
ApprovalMode = Literal["ask", "auto", "read-only"]

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "http://127.0.0.1:11434",
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\(.*\)|__\*)?$", re.DOTALL)
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)
#: Names of variables and headers that are taken to hold secrets.
SECRET_NAME = _SECRET_HEADER
#: Control and bidi characters, shown as ``?`` when rules from a workspace file are named.
_UNSHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class ConfigError(Exception):
    """The configuration cannot be used; ``str(error)`` is one line for people."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ProviderConfig(_Section):
    """One ``[providers.NAME]`` entry: how to reach a model server."""

    kind: ProviderKind
    base_url: str | None = Field(
        default=None,
        description="Server URL; each kind has a default (OpenAI, Anthropic, local Ollama).",
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API key (never the key).",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")
    models: list[str] = Field(default_factory=list, description="Models to offer in the picker.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    first_byte_timeout: float = Field(
        default=120.0, gt=0, description="Seconds to wait for the reply to start."
    )
    idle_timeout: float = Field(
        default=60.0, gt=0, description="Longest silence mid-stream, in seconds."
    )
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries before the first byte.")
    context_window: int | None = Field(
        default=None, ge=1_000, description="Context window in tokens of this server's models."
    )
    context_windows: dict[str, int] = Field(
        default_factory=dict, description="Context window per model name (beats context_window)."
    )

    @field_validator("api_key_env")
    @classmethod
    def _env_name_not_key(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(
                "expected the name of an environment variable (like OPENAI_API_KEY), "
                "not the key itself"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/") if value else value

    def effective_base_url(self) -> str:
        """The configured base URL, or the default for this provider's kind."""
        return self.base_url or DEFAULT_BASE_URLS[self.kind]


class AgentConfig(_Section):
    """One ``[agents.NAME]`` entry: a named assistant with a prompt, model and tools."""

    description: str = ""
    system_prompt: str = ""
    model: str = Field(
        default="default", description="A `provider/model` name, an alias or `default`."
    )
    tools: list[str] | None = Field(
        default=None, description="Tool names; absent = every built-in tool."
    )
    approval: ApprovalMode | None = Field(
        default=None, description="Overrides [approval] mode for this agent."
    )


#: Checks one rule fully (known tool, pattern syntax), raising ValueError that names it. The
#: rule parser lives with the tools, above this module: the CLI passes it to load_settings.
RuleCheck = Callable[[str], object]


def _check_rules(rules: list[str], info: ValidationInfo) -> list[str]:
    check: RuleCheck | None = (info.context or {}).get("check_rule")
    for rule in rules:
        if not _RULE.match(rule.strip()):
            raise ValueError(
                f"rule {rule!r} is not of the form TOOL or TOOL(pattern), "
                "e.g. 'shell(git status *)'"
            )
        if check is not None:
            check(rule)
    return [rule.strip() for rule in rules]


class ApprovalConfig(_Section):
    """``[approval]``: when tools that change things must ask first."""

    mode: ApprovalMode = "ask"
    allow: list[str] = Field(default_factory=list, description="Rules that run without asking.")
    ask: list[str] = Field(default_factory=list, description="Rules that always ask.")
    deny: list[str] = Field(default_factory=list, description="Rules that never run; deny wins.")
    timeout_seconds: float = Field(default=300.0, ge=0, description="0 waits forever.")
    trusted_workspaces: dict[str, str] = Field(
        default_factory=dict,
        description="Workspace rule files whose allow rules you trusted: path = 'sha256:…'.",
    )

    _validate_rules = field_validator("allow", "ask", "deny")(_check_rules)


class UIConfig(_Section):
    """``[ui]``: how the app looks and behaves."""

    theme: str = "textual-dark"
    show_sidebar: bool = True
    show_thinking: bool = Field(default=False, description="Open thinking blocks by default.")
    show_timestamps: bool = False
    stream_delay_ms: int = Field(default=12, ge=0, description="Demo model pace per token.")


class EngineConfig(_Section):
    """``[engine]``: limits of one agent turn."""

    max_steps: int = Field(default=25, ge=1, le=500)
    max_concurrent_turns: int = Field(default=4, ge=1, le=32)
    tool_timeout_seconds: float = Field(default=120.0, gt=0)
    max_tool_output_chars: int = Field(default=30_000, ge=1_000)
    max_replans: int = Field(default=2, ge=0, le=10)
    max_reply_chars: int = Field(
        default=1_000_000,
        ge=1_000,
        description="Longest reply of one model call (answer plus thinking; tool-call "
        "arguments on their own); cut there.",
    )
    max_prompt_chars: int = Field(
        default=400_000,
        ge=1_000,
        description="Longest message sent to a model; the rest is saved but not sent.",
    )
    model_call_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Longest one model call may take, from the request to the last byte.",
    )
    compact_at: float = Field(
        default=0.8,
        ge=0.3,
        le=0.95,
        description="Share of the model's context window a request may fill before older "
        "tool output is shortened and the oldest turns are left out of it.",
    )
    project_instructions: bool = Field(
        default=True, description="Read AGENTS.md (or CLAUDE.md) into the system prompt."
    )
    project_instructions_max_bytes: int = Field(default=32_768, ge=1_024)


#: An MCP server's name: letters, digits, single '-' or '_' between them. No ``__``, so
#: ``mcp__<server>__<tool>`` always splits back into its parts.
_MCP_SERVER_NAME = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
#: An allow-list entry of an MCP server's tools: a name or a glob (``fetch_*``).
_MCP_TOOL_GLOB = re.compile(r"^[A-Za-z0-9_.\-*?\[\]/]+$")


def _env_names(value: dict[str, str], what: str) -> dict[str, str]:
    """Check a mapping whose values are the NAMES of environment variables, never values."""
    for key, name in value.items():
        if not _ENV_NAME.match(name):
            raise ValueError(
                f"{what} {key!r} must name an environment variable (like GITHUB_TOKEN), "
                "not hold its value"
            )
    return value


class McpServerConfig(_Section):
    """One ``[mcp.servers.NAME]``: an MCP tool server, started as a program (stdio) or
    reached by URL (streamable HTTP). Secrets stay in the environment: ``env`` and
    ``headers_env`` name variables, and their values are read when the server starts."""

    command: str | None = Field(default=None, description="stdio: the program to run.")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: variables to pass through: NAME_IN_SERVER = 'NAME_HERE' (names only).",
    )
    cwd: str | None = Field(
        default=None, description="stdio: working folder, relative to the workspace."
    )
    url: str | None = Field(default=None, description="Streamable HTTP: the server's URL.")
    headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="HTTP headers whose values are read from variables: Header = 'VARIABLE'.",
    )
    enabled: bool = True
    tools: list[str] | None = Field(
        default=None, description="Allow-list of the server's tools (names or globs); absent = all."
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


SandboxMode = Literal["auto", "bwrap", "off"]


class ToolsConfig(_Section):
    """``[tools]``: how the agent's tools run."""

    sandbox: SandboxMode = Field(
        default="auto",
        description=(
            "Run shell commands in a bubblewrap sandbox (workspace writable, the rest "
            "read-only, no network unless approved): auto = when available, bwrap = always "
            "(fail without it), off = never."
        ),
    )


ServeApproval = Literal["deny", "auto", "read-only"]


class ServeConfig(_Section):
    """``[serve]``: the REST + WebSocket API of ``agentkit serve``."""

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8765, ge=0, le=65535)
    api_key_env: str | None = Field(
        default=None, description="Env variable holding the API key clients must send."
    )
    approval: ServeApproval = Field(
        default="deny",
        description="REST turns have nobody to ask: deny, auto or read-only.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, description="Largest request body.")
    confirmation_timeout_seconds: float = Field(
        default=300.0, gt=0, description="Unanswered WebSocket confirmations are denied after this."
    )

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be the name of an environment variable, e.g. AGENTKIT_API_KEY")
        return value


class ExpertConfig(_Section):
    """One expert of a ``[teams.NAME]`` roster."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
    name: str
    role: str = Field(default="", description="The expert's role prompt.")
    color: str = Field(default="", description="Colour name or #hex for the team panel.")
    tools: list[str] | None = Field(default=None, description="Tool names; absent = the agent's.")
    model: str = Field(default="default", description="`provider/model`, an alias or `default`.")


class TeamConfig(_Section):
    """``[teams.NAME]``: a lead plus experts for team mode."""

    description: str = ""
    lead: str | None = Field(default=None, description="Expert id that leads; absent = the first.")
    experts: list[ExpertConfig] = Field(min_length=1)

    @field_validator("experts")
    @classmethod
    def _unique(cls, value: list[ExpertConfig]) -> list[ExpertConfig]:
        ids = [expert.id for expert in value]
        if len(ids) != len(set(ids)):
            raise ValueError("expert ids must be unique")
        return value


class StorageConfig(_Section):
    """``[storage]``: where the session database lives (``--db`` beats it)."""

    path: str | None = None


class Settings(_Section):
    """Every setting of the app, validated. Built by :func:`load_settings`."""

    default_model: str | None = Field(
        default=None,
        description=(
            "`provider/model`; absent = auto-detect (OpenAI key, Anthropic key, local Ollama, "
            "else the offline demo)."
        ),
    )
    default_agent: str = "default"
    aliases: dict[str, str] = Field(default_factory=dict, description="Short names for models.")
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    approval: ApprovalConfig = Field(default_factory=ApprovalConfig)
    ui: UIConfig = Field(default_factory=UIConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    teams: dict[str, TeamConfig] = Field(
        default_factory=dict, description="Expert teams for team mode (built-in: 'default')."
    )
    mcp: McpConfig = Field(default_factory=McpConfig)
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="Key bindings by id, e.g. 'turn.cancel' = 'escape,ctrl+g' (see the help, f1).",
    )

    @field_validator("providers", "agents", "aliases", "teams")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", name):
                raise ValueError(f"name {name!r} may use only letters, digits, '_', '-' and '.'")
        return value


# --------------------------------------------------------------------------- loading


def load_settings(
    config_file: Path | None,
    env: Mapping[str, str] | None = None,
    *,
    check_rule: RuleCheck | None = None,
) -> Settings:
    """Read ``config_file`` (absent is fine) and apply ``AGENTKIT_*`` env overrides.

    ``check_rule`` validates each approval rule fully (the CLI passes the rule parser), so
    an invalid rule is a config error naming the file or variable, the key and the rule."""
    env = os.environ if env is None else env
    context = {"check_rule": check_rule} if check_rule is not None else None
    data: dict[str, Any] = {}
    text = ""
    if config_file is not None:
        try:
            text = config_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except IsADirectoryError:
            raise ConfigError(
                f"config error in {config_file}: this is a directory, not a file"
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"config error in {config_file}: not UTF-8 text ({exc.reason})"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"config error in {config_file}: cannot read it ({exc.strerror})"
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config error in {config_file}: invalid TOML: {exc}") from None
    try:
        file_settings = Settings.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source=str(config_file), text=text)) from None
    overrides = list(_env_overrides(env))
    if not overrides:
        return file_settings
    merged = file_settings.model_dump(exclude_unset=True)
    for _var, keys, value in overrides:
        _set_nested(merged, keys, value)
    try:
        return Settings.model_validate(merged, context=context)
    except ValidationError as exc:
        names = {tuple(keys): var for var, keys, _ in overrides}
        raise ConfigError(_describe(exc, source="environment", text="", env_names=names)) from None


#: What a workspace's ``.agentkit/config.toml`` may set: rule lists and MCP servers only. A
#: checked-out repository must not be able to switch approvals off (``mode``) or change
#: anything else; its servers start only once the person trusts the file.
WORKSPACE_KEYS = {"approval": {"allow", "ask", "deny"}, "mcp": {"servers"}}


def file_digest(data: bytes) -> str:
    """How trust remembers a workspace rules file: ``sha256:<hex>`` of its bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def trust_key(workspace_file: Path) -> str:
    """The key of a workspace rules file in ``[approval.trusted_workspaces]``: its absolute
    path in the (resolved) workspace. A link in the workspace to another, trusted file is
    not followed, so that file's trust does not carry over to this workspace."""
    return os.path.abspath(workspace_file)


@dataclass(frozen=True)
class WorkspaceRules:
    """The rules of a workspace's own ``.agentkit/config.toml`` and whether its allow rules
    count. Deny and ask rules always count; allow rules only once the person trusted this
    exact file (its SHA-256 in the user's config). The rules are as written: invalid ones
    are reported by the approval policy, never a reason to stop."""

    file: Path
    digest: str
    allow: tuple[str, ...]
    ask: tuple[str, ...]
    deny: tuple[str, ...]
    trusted: bool
    #: The person trusted an earlier version of the file.
    changed: bool = False
    #: ``[mcp.servers.NAME]`` of the file: started only once the person trusts it.
    mcp_servers: tuple[tuple[str, McpServerConfig], ...] = ()

    @property
    def needs_trust(self) -> bool:
        """Whether the file has allow rules or MCP servers that wait for the person's trust."""
        return bool(self.allow or self.mcp_servers) and not self.trusted

    def ignored_note(self) -> str:
        """One line: the allow rules and MCP servers are ignored as nobody trusted this file."""
        parts: list[str] = []
        count = len(self.allow)
        where = f" in {self.file}"
        if count:
            parts.append(
                f"{count} allow rule{'s' if count != 1 else ''}{where} ({_listed(self.allow)})"
            )
            where = ""
        servers = len(self.mcp_servers)
        if servers:
            names = _listed([name for name, _ in self.mcp_servers])
            parts.append(f"{servers} MCP server{'s' if servers != 1 else ''}{where} ({names})")
        why = "changed since you trusted it" if self.changed else "not trusted"
        plural = count + servers != 1
        return (
            f"{' and '.join(parts)} {'are' if plural else 'is'} ignored: the "
            f"file is {why}. Run agentkit in a terminal in this workspace to review and trust it."
        )


def read_workspace_rules(workspace_file: Path, settings: Settings) -> WorkspaceRules | None:
    """Read a workspace's rules file (``None`` if there is none) and its trust state.

    A file that is not TOML, or holds anything but ``[approval]`` rule lists, is a
    :class:`ConfigError`. Whether a rule itself is valid is the approval policy's to say."""
    try:
        raw = workspace_file.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config error in {workspace_file}: cannot read it ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config error in {workspace_file}: invalid TOML: {exc}") from None
    for section, value in data.items():
        allowed = WORKSPACE_KEYS.get(section)
        keys = set(value) if isinstance(value, dict) else {""}
        if allowed is None or not keys <= allowed:
            raise ConfigError(
                f"config error in {workspace_file}: a workspace config may only hold "
                "[approval] allow, ask and deny rules and [mcp.servers.NAME] tables"
            )
    servers = _workspace_servers(workspace_file, data.get("mcp", {}).get("servers", {}))
    found: dict[str, tuple[str, ...]] = {}
    for kind in ("allow", "ask", "deny"):
        rules = data.get("approval", {}).get(kind, [])
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise ConfigError(
                f"config error in {workspace_file}, key approval.{kind}: expected a list of rules"
            )
        found[kind] = tuple(dict.fromkeys(rule.strip() for rule in rules))
    digest = file_digest(raw)
    known = settings.approval.trusted_workspaces.get(trust_key(workspace_file))
    return WorkspaceRules(
        file=Path(trust_key(workspace_file)),
        digest=digest,
        allow=found["allow"],
        ask=found["ask"],
        deny=found["deny"],
        trusted=known == digest,
        changed=known is not None and known != digest,
        mcp_servers=servers,
    )


def _workspace_servers(
    workspace_file: Path, raw: object
) -> tuple[tuple[str, McpServerConfig], ...]:
    """The ``[mcp.servers]`` of a workspace file, validated like the user's own."""
    try:
        config = McpConfig.model_validate({"servers": raw})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key = ".".join(str(part) for part in ("mcp", *error["loc"]))
        raise ConfigError(
            f"config error in {workspace_file}, key {key}: {_expected(error, secret=True)}"
        ) from None
    return tuple(config.servers.items())


def with_workspace_rules(settings: Settings, rules: WorkspaceRules | None) -> Settings:
    """Add a workspace's deny and ask rules, and its allow rules only if the file is trusted."""
    if rules is None:
        return settings
    approval = settings.approval
    kinds = ("allow", "ask", "deny") if rules.trusted else ("ask", "deny")
    merged: dict[str, Any] = {}
    for kind in kinds:
        mine: list[str] = getattr(approval, kind)
        merged[kind] = [*mine, *(r for r in getattr(rules, kind) if r not in mine)]
    # No validation here: the policy reports invalid workspace rules (and fails closed).
    update: dict[str, Any] = {"approval": approval.model_copy(update=merged)}
    if rules.trusted and rules.mcp_servers:
        # The person's own servers win over a workspace server of the same name.
        servers = {**dict(rules.mcp_servers), **settings.mcp.servers}
        update["mcp"] = settings.mcp.model_copy(update={"servers": servers})
    return settings.model_copy(update=update)


def rules_notice(rules: WorkspaceRules | None, problems: Sequence[str]) -> str | None:
    """One line naming the workspace rules in force and the rule problems, or ``None``."""
    parts: list[str] = []
    if rules is not None:
        for kind in ("deny", "ask"):
            if getattr(rules, kind):
                parts.append(f"{kind} {_listed(getattr(rules, kind))}")
        if rules.trusted and rules.allow:
            parts.append(f"allow {_listed(rules.allow)} (trusted)")
        elif rules.allow:
            count = len(rules.allow)
            parts.append(
                f"{count} allow rule{'s' if count != 1 else ''} not trusted, so ignored "
                f"({_listed(rules.allow)})"
            )
    parts += problems
    if not parts:
        return None
    head = f"Workspace rules from {rules.file}" if rules is not None else "Approval rules"
    return f"{head}: {'; '.join(parts)}"


def _listed(rules: Sequence[str]) -> str:
    """Rules from an untrusted file, comma-separated, without control or bidi characters."""
    return ", ".join(_UNSHOWN.sub("?", rule) for rule in rules)


def _env_overrides(env: Mapping[str, str]) -> Iterator[tuple[str, list[str], Any]]:
    top_level = set(Settings.model_fields)
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var in NON_SETTING_ENV:
            continue
        keys = [part.lower() for part in var[len(ENV_PREFIX) :].split("__")]
        if not keys[0] or keys[0] not in top_level or any(not key for key in keys):
            raise ConfigError(
                f"config error in environment: {var} is not a setting "
                "(settings are AGENTKIT_<KEY> or AGENTKIT_<SECTION>__<KEY>, "
                "e.g. AGENTKIT_UI__THEME)"
            )
        yield var, keys, _env_value(env[var])


def _env_value(raw: str) -> Any:
    """Env values are strings; JSON lists and objects are parsed so list settings work."""
    stripped = raw.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def _set_nested(target: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = {}
            target[key] = child
        target = child
    target[keys[-1]] = value


def _describe(
    exc: ValidationError,
    *,
    source: str,
    text: str,
    env_names: Mapping[tuple[str, ...], str] | None = None,
) -> str:
    """One line naming where the first problem is and what was expected."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(str(part) for part in first["loc"])
    key = ".".join(loc) or "(top level)"
    where = f"key {key}"
    if env_names is not None:
        var = env_names.get(loc) or next(
            (name for keys, name in env_names.items() if loc[: len(keys)] == keys), None
        )
        if var:
            where = f"{var} (key {key})"
    else:
        line = _find_line(text, loc) if text else None
        if line:
            where = f"line {line}, key {key}"
    secret_keys = {"headers", "base_url", "api_key_env", "env", "headers_env", "url"}
    message = _expected(first, secret=bool(secret_keys & set(loc)))
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    return f"config error in {source}, {where}: {message}{more}"


def _expected(error: Mapping[str, Any], *, secret: bool = False) -> str:
    """What was expected; the value given is repeated unless it may hold a secret."""
    kind = error["type"]
    got = "(value hidden)" if secret else error.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `agentkit config show` for every key)"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {got if secret else repr(got)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message}, got {got if secret else repr(got)}"
    return message


def _find_line(text: str, loc: tuple[str, ...]) -> int | None:
    """Find the line that sets ``loc`` in TOML ``text`` (else its nearest table), 1-based."""
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    key_re = re.compile(r"^\s*([A-Za-z0-9_\-\".' ]+?)\s*=")
    current: tuple[str, ...] = ()
    best_line: int | None = None
    best_depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = header_re.match(line)
        if header:
            current = candidate = _split_key(header.group(1))
        else:
            match = key_re.match(line)
            if not match:
                continue
            candidate = current + _split_key(match.group(1))
        if candidate == loc:
            return number
        if candidate and loc[: len(candidate)] == candidate and len(candidate) > best_depth:
            best_line, best_depth = number, len(candidate)
    return best_line


def _split_key(raw: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', raw)
    return tuple(next(p for p in group if p) if any(group) else "" for group in parts)


def save_setting(config_file: Path, section: str, key: str, value: str | bool | int) -> None:
    """Set ``[section] key = value`` in the user's config file, keeping its comments."""
    import tomlkit  # only when saving

    try:
        text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError(f"config error in {config_file}: cannot update it ({exc})") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document[section] = table
    table[key] = value
    config_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = config_file.with_name(f".{config_file.name}.tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    temporary.replace(config_file)


# --------------------------------------------------------------------------- showing


def redacted(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective settings as plain data with secrets hidden, for ``config show``."""
    env = secretenv.environ() if env is None else env  # hidden keys are still set
    data = settings.model_dump(mode="json")
    for name, provider in data.get("providers", {}).items():
        provider["base_url"] = _redact_url(settings.providers[name].effective_base_url())
        provider["headers"] = {
            key: ("***" if _SECRET_HEADER.search(key) else value)
            for key, value in provider.get("headers", {}).items()
        }
        var = provider.get("api_key_env")
        if var:
            provider["api_key_env"] = f"{var} ({'set' if env.get(var) else 'not set'})"
    for server in data.get("mcp", {}).get("servers", {}).values():
        # Values are variable names already; say whether each is set, never what it holds.
        for key in ("env", "headers_env"):
            server[key] = {
                name: f"{var} ({'set' if env.get(var) else 'not set'})"
                for name, var in server.get(key, {}).items()
            }
        if server.get("url"):
            server["url"] = _redact_url(server["url"])
    return data


def _redact_url(url: str) -> str:
    url = redact_url_credentials(url)
    return re.sub(
        r"([?&][^=&]*(?:key|token|secret|sig|password)[^=&]*=)[^&#]*", r"\1***", url, flags=re.I
    )


def to_toml(data: Mapping[str, Any]) -> str:
    """Render plain settings data as TOML (tables last, ``None`` values as comments)."""
    lines: list[str] = []
    _emit_table(lines, (), data)
    return "\n".join(lines).strip() + "\n"


def _emit_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and not table:
        lines.append("")
        lines.append(f"# [{'.'.join(_toml_key(p) for p in path)}] (none)")
        return
    if path and scalars:
        lines.append("")
        lines.append(f"[{'.'.join(_toml_key(p) for p in path)}]")
    for key, value in scalars.items():
        if value is None:
            lines.append(f"# {_toml_key(key)} = (not set)")
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables.items():
        _emit_table(lines, (*path, key), value)


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_\-]+$", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
