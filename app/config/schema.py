"""The settings model: every ``[section]`` of the config file, validated by pydantic."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from app.config.base import (
    _ENV_NAME,
    _RULE,
    DEFAULT_BASE_URLS,
    ApprovalMode,
    ProviderKind,
    _Section,
)
from app.config.errors import expected_of
from app.config.mcp import McpConfig
from app.textsafe import one_line


class ProviderConfig(_Section):
    """One ``[providers.NAME]`` entry: how to reach a model server."""

    kind: ProviderKind = Field(
        description="The wire protocol: openai (any OpenAI-compatible server: OpenRouter, Groq, "
        "vLLM, …), anthropic or ollama."
    )
    base_url: str | None = Field(
        default=None,
        description="Server URL; each kind has a default (OpenAI, Anthropic, local Ollama).",
        examples=["https://api.openai.com/v1"],
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API key (never the key).",
        examples=["OPENAI_API_KEY"],
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers.", examples=[{"X-Team": "tools"}]
    )
    models: list[str] = Field(
        default_factory=list,
        description="Models to offer in the picker.",
        examples=[["gpt-4.1-mini", "gpt-4.1"]],
    )
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    first_byte_timeout: float = Field(
        default=120.0, gt=0, description="Seconds to wait for the reply to start."
    )
    idle_timeout: float = Field(
        default=60.0, gt=0, description="Longest silence mid-stream, in seconds."
    )
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries before the first byte.")
    context_window: int | None = Field(
        default=None,
        ge=1_000,
        description="Context window in tokens of this server's models not in the built-in table.",
        examples=[128_000],
    )
    context_windows: dict[str, int] = Field(
        default_factory=dict,
        description="Context window per model name (beats context_window).",
        examples=[{"gpt-4.1-mini": 1_047_576}],
    )
    prices_from: str | None = Field(
        default=None,
        description="Whose prices apply, for a proxy in front of a priced provider "
        '(a genai-prices provider id like "openai"); default: found from base_url.',
        examples=["openai"],
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

    description: str = Field(
        default="", description="What the agent is for.", examples=["Writes and fixes code"]
    )
    system_prompt: str = Field(
        default="",
        description="The agent's instructions.",
        examples=["You are a careful software engineer."],
    )
    model: str = Field(
        default="default", description="A `provider/model` name, an alias or `default`."
    )
    tools: list[str] | None = Field(
        default=None,
        description="Tool names; absent = every built-in tool.",
        examples=[["read_file", "search_text", "edit_file", "shell"]],
    )
    approval: ApprovalMode | None = Field(
        default=None, description="Overrides [approval] mode for this agent.", examples=["ask"]
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

    mode: ApprovalMode = Field(
        default="ask",
        description="ask: changes wait for your answer; auto: everything runs; read-only: "
        "only tools that change nothing run.",
    )
    allow: list[str] = Field(
        default_factory=list,
        description="Rules that run without asking: TOOL or TOOL(pattern).",
        examples=[["shell(git status *)", "read_file"]],
    )
    ask: list[str] = Field(
        default_factory=list,
        description="Rules that always ask.",
        examples=[["shell(git push *)"]],
    )
    deny: list[str] = Field(
        default_factory=list,
        description="Rules that never run; deny wins.",
        examples=[["shell(rm -rf *)"]],
    )
    timeout_seconds: float = Field(
        default=300.0, ge=0, description="No answer in time = deny; 0 waits forever."
    )
    trusted_workspaces: dict[str, str] = Field(
        default_factory=dict,
        description="Workspace rule files whose allow rules you trusted: path = 'sha256:…' "
        "(written for you when you trust a workspace's rules).",
        examples=[{"/home/me/src/repo/.agentkit/config.toml": "sha256:9f2c…"}],
    )

    _validate_rules = field_validator("allow", "ask", "deny")(_check_rules)


class UIConfig(_Section):
    """``[ui]``: how the app looks and behaves."""

    theme: str = Field(
        default="textual-dark",
        description="The app's theme (ctrl+p → theme saves it here); an unknown name falls "
        "back to textual-dark with a notice.",
    )
    show_sidebar: bool = Field(default=True, description="Show the sessions sidebar at start.")
    show_thinking: bool = Field(default=False, description="Open thinking blocks by default.")
    show_timestamps: bool = Field(default=False, description="Show the time of each message.")
    stream_delay_ms: int = Field(default=12, ge=0, description="Demo model pace per token.")
    notify: Literal["bell", "desktop", "off"] = Field(
        default="bell",
        description="While the terminal is not focused, when a turn ends or a question "
        "waits: the bell, the bell and a desktop notification (OSC 9 / OSC 777), or nothing.",
    )
    code_theme: str = Field(
        default="",
        description="Pygments style for code blocks: one name, or 'dark-name, light-name'; "
        "empty follows the theme (monokai / friendly).",
    )
    mouse: bool = Field(
        default=True,
        description="false: the app takes no mouse input, so the terminal's own selection works.",
    )
    #: What was wrong in ``[ui]`` and fell back to the default (shown as a notice).
    _fallbacks: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _fall_back(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """A bad value (or a key from a newer version) in ``[ui]`` must not stop the app:
        each is dropped for its default, and said once in the app."""
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            problems, kept = [], dict(data)
            for error in exc.errors():
                key = str(error["loc"][0]) if error["loc"] else ""
                if key in kept:
                    del kept[key]
                    told = one_line(expected_of(error), 160)
                    if error["type"] == "extra_forbidden":
                        problems.append(f"[ui] {key}: unknown key, ignored")
                    else:
                        problems.append(f"[ui] {key}: {told}; using the default")
            if not problems:
                raise
            section = handler(kept)
            section._fallbacks = problems
            return section

    @property
    def fallbacks(self) -> list[str]:
        """The ``[ui]`` problems that fell back to defaults."""
        return list(self._fallbacks)


class EngineConfig(_Section):
    """``[engine]``: limits of one agent turn."""

    max_steps: int = Field(default=25, ge=1, le=500, description="Model calls per turn.")
    max_concurrent_turns: int = Field(
        default=4, ge=1, le=32, description="Turns that may run at once in one session."
    )
    tool_timeout_seconds: float = Field(
        default=120.0, gt=0, description="Longest one tool call may take."
    )
    max_tool_output_chars: int = Field(
        default=30_000, ge=1_000, description="Longer tool output is cut, with a note."
    )
    max_replans: int = Field(
        default=2, ge=0, le=10, description="Plan mode: new plans after a failed phase."
    )
    max_reply_chars: int = Field(
        default=1_000_000,
        ge=1_000,
        description="Longest reply of one model call, in characters: its answer and thinking "
        "text together are cut there; its tool calls (arguments, names, 64 per call) and "
        "its opaque reasoning data (signatures, redacted blocks) each stop the call at the "
        "same number; one line or event may hold 6 bytes per character (at least 16 MiB).",
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
        description="Share of the model's context window a request may fill before the "
        "older conversation is compacted (summarised) and, if still too big, older tool "
        "output is shortened and the oldest turns are left out of the request.",
    )
    auto_compact: bool = Field(
        default=True,
        description="Compact (summarise) the older conversation automatically when a request "
        "passes compact_at of the window or the provider says it is too long; false = only "
        "on /compact or `agentkit sessions compact`.",
    )
    project_instructions: bool = Field(
        default=True, description="Read AGENTS.md (or CLAUDE.md) into the system prompt."
    )
    project_instructions_max_bytes: int = Field(
        default=32_768, ge=1_024, description="Longest AGENTS.md read; the rest is left out."
    )


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
    port: int = Field(default=8765, ge=0, le=65535, description="Port to listen on.")
    api_key_env: str | None = Field(
        default=None,
        description="Env variable holding the API key clients must send (anything but "
        "loopback needs one).",
        examples=["AGENTKIT_API_KEY"],
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

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$",
        description="Short id: letters, digits, '_' and '-'.",
        examples=["engineer"],
    )
    name: str = Field(description="The name shown in the team panel.", examples=["Engineer"])
    role: str = Field(
        default="", description="The expert's role prompt.", examples=["Write and fix code."]
    )
    color: str = Field(
        default="", description="Colour name or #hex for the team panel.", examples=["green"]
    )
    tools: list[str] | None = Field(
        default=None,
        description="Tool names; absent = the agent's.",
        examples=[["read_file", "edit_file", "shell"]],
    )
    model: str = Field(default="default", description="`provider/model`, an alias or `default`.")


class TeamConfig(_Section):
    """``[teams.NAME]``: a lead plus experts for team mode."""

    description: str = Field(
        default="", description="What the team is for.", examples=["Research, build, review"]
    )
    lead: str | None = Field(
        default=None, description="Expert id that leads; absent = the first.", examples=["engineer"]
    )
    experts: list[ExpertConfig] = Field(min_length=1, description="The team's experts.")

    @field_validator("experts")
    @classmethod
    def _unique(cls, value: list[ExpertConfig]) -> list[ExpertConfig]:
        ids = [expert.id for expert in value]
        if len(ids) != len(set(ids)):
            raise ValueError("expert ids must be unique")
        return value


class StorageConfig(_Section):
    """``[storage]``: where the session database lives (``--db`` beats it)."""

    path: str | None = Field(
        default=None,
        description="The session database; absent = agentkit.db in the data dir.",
        examples=["/somewhere/agentkit.db"],
    )


class Settings(_Section):
    """Every setting of the app, validated. Built by :func:`load_settings`."""

    default_model: str | None = Field(
        default=None,
        description=(
            "`provider/model`; absent = auto-detect (OpenAI key, Anthropic key, local Ollama, "
            "else the offline demo)."
        ),
        examples=["openai/gpt-4.1-mini"],
    )
    default_agent: str = Field(default="default", description="The agent new sessions use.")
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Short names for models.",
        examples=[{"fast": "groq/llama-3.3-70b-versatile"}],
    )
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
        description="Key bindings by id (f1 lists the ids), comma-separated keys.",
        examples=[{"turn.cancel": "escape,ctrl+g", "app.help": "f1,question_mark"}],
    )

    @field_validator("providers", "agents", "aliases", "teams")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", name):
                raise ValueError(f"name {name!r} may use only letters, digits, '_', '-' and '.'")
        return value
