"""A workspace's own ``.agentkit/config.toml``: its rules and MCP servers, and whether the
person trusts it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.config.errors import ConfigError, expected_of
from app.config.mcp import McpConfig, McpServerConfig
from app.config.schema import Settings
from app.textsafe import CONTROL_CHARACTERS

#: Control and direction characters (and newlines and tabs, which would break the one line),
#: shown as ``?`` when rules from a workspace file are named.
_UNSHOWN = re.compile(f"[\t\n{CONTROL_CHARACTERS}]")


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
            f"config error in {workspace_file}, key {key}: {expected_of(error, secret=True)}"
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
