"""The approval policy: decides allow / ask / deny for one tool call, first match wins.

Order (ENGINE.md 2.9): the hard safety floor → deny rules (for shell, a deny rule matching
any part of what the command runs denies, seen through launchers, ``eval`` and ``sh -c``;
a command whose command word cannot be known matches every shell deny rule) → read-only
mode denies anything but reading (except an MCP tool that an allow rule names) → protected
paths (``.git/``, ``.agentkit/``) ask, even in ``auto`` → ask rules (and tools whose deny
rule was invalid: fail closed) → a command that cannot be seen through asks even in
``auto`` → allow rules and session rules (for shell, every part must be covered and the
line must be plain; path rules match the resolved path) → the mode's default (``ask``:
reads and known-safe commands run; MCP tools ask). Never trust the model's own
claims about safety: only the tool, its arguments and these rules decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from app.config import ApprovalConfig, ApprovalMode
from app.tools.base import AccessKind, Tool
from app.tools.knownsafe import KnownSafe
from app.tools.names import BUILTIN_TOOL_NAMES
from app.tools.protected import protected_in_command
from app.tools.rules import (
    PATH_RULE_TOOLS,
    Rule,
    RuleError,
    RuleKind,
    glob_escape,
    parse_rule,
)
from app.tools.safety import floor_check, propose_shell_rule
from app.tools.shellparse import (
    Effective,
    ParsedCommand,
    effective_commands,
    option_skipping_variants,
    parse_command,
)
from app.tools.workspace import normalize_relative

Action = Literal["allow", "ask", "deny"]
Source = Literal["floor", "rule", "mode"]

READ_ONLY_REASON = "The session is read-only; writing and running commands are disabled."
READ_ONLY_MCP_REASON = (
    "The session is read-only; MCP tools run only when a rule allows them "
    "(like `mcp__server__tool`)."
)
#: Workspace directories whose files always ask before a file tool writes them.
PROTECTED_DIRS = (".git", ".agentkit")
_HARMLESS: tuple[AccessKind, ...] = ("read", "interactive")


def is_mcp_tool(name: str) -> bool:
    """Whether ``name`` is a tool of an MCP server (``mcp__<server>__<tool>``)."""
    return name.startswith("mcp__") and "__" in name[5:]


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy decided for one call, which rule (if any) decided it, and why."""

    action: Action
    rule: str | None
    reason: str
    source: Source
    #: Allowed (in part) because it is known-safe, not because a person or rule said so:
    #: the shell tool runs it with repository-controlled execution off and no network.
    known_safe: bool = False


class ApprovalPolicy:
    """Approval rules and mode for one agent in one workspace, plus rules added this session."""

    def __init__(
        self,
        config: ApprovalConfig,
        workspace: Path,
        *,
        mode: ApprovalMode | None = None,
        extra_allow: Iterable[str] = (),
        extra_ask: Iterable[str] = (),
        extra_deny: Iterable[str] = (),
        known_tools: Iterable[str] = (),
        protected_dirs: Iterable[Path] = (),
    ) -> None:
        self.mode: ApprovalMode = mode or config.mode
        self.workspace = workspace.resolve()
        self.known_tools = tuple(dict.fromkeys([*BUILTIN_TOOL_NAMES, *known_tools]))
        self.problems: list[str] = []
        #: Tool name → the invalid deny rule that makes it ask before every call.
        self.fail_closed: dict[str, str] = {}
        self.fail_closed_all: str | None = None
        self._protected = [self.workspace / name for name in PROTECTED_DIRS]
        self._protected += [Path(p).resolve() for p in protected_dirs]
        self._rules: dict[RuleKind, list[Rule]] = {
            "allow": self._load([*config.allow, *extra_allow], "allow"),
            "ask": self._load([*config.ask, *extra_ask], "ask"),
            "deny": self._load([*config.deny, *extra_deny], "deny"),
        }
        self._session: dict[RuleKind, list[Rule]] = {"allow": [], "ask": [], "deny": []}

    # ----------------------------------------------------------------- rules

    def _load(self, texts: list[str], kind: RuleKind) -> list[Rule]:
        rules: list[Rule] = []
        for text in texts:
            try:
                rules.append(parse_rule(text, self.known_tools))
            except RuleError as exc:
                self._report_invalid(text, kind, str(exc))
        return rules

    def _report_invalid(self, text: str, kind: RuleKind, why: str) -> None:
        if kind != "deny":
            self.problems.append(f"invalid {kind} rule ignored: {why}")
            return
        tool = text.strip().split("(", 1)[0].strip()
        if tool in self.known_tools or tool.startswith("mcp__"):
            self.fail_closed.setdefault(tool, text)
            self.problems.append(f"invalid deny rule: {why}; {tool} will ask before every call")
        else:
            self.fail_closed_all = self.fail_closed_all or text
            self.problems.append(
                f"invalid deny rule: {why}; every tool that writes, runs commands or uses "
                "the network will ask before every call"
            )

    def add_session_rule(self, rule: str, kind: RuleKind = "allow") -> Rule:
        """Add a rule for the rest of this session ("approve for session"); invalid rules raise."""
        parsed = parse_rule(rule, self.known_tools)
        if parsed not in self._session[kind]:
            self._session[kind].append(parsed)
        return parsed

    def session_rules(self, kind: RuleKind = "allow") -> list[str]:
        """The texts of the rules added this session, in the order they were added."""
        return [rule.text for rule in self._session[kind]]

    def rules(self, kind: RuleKind) -> list[Rule]:
        """Configured rules followed by session rules of one kind."""
        return [*self._rules[kind], *self._session[kind]]

    # ----------------------------------------------------------------- decisions

    def evaluate(self, tool: Tool[Any], args: BaseModel) -> PolicyDecision:
        """Decide whether a parsed call runs, asks first or is refused, and say why."""
        name = tool.name
        access = tool.access_for(args)
        command = str(getattr(args, "command", "")) if name == "shell" else None
        parsed = parse_command(command) if command is not None else None
        effective = effective_commands(command) if command is not None else Effective()

        floor_doubts: list[str] = []
        if command is not None:
            hit, floor_doubts = floor_check(command, self.workspace)
            if hit:
                reason = f"blocked by the safety floor ({hit}); no mode or rule can allow it"
                return PolicyDecision("deny", None, reason, "floor")

        denial_words = [v for words in effective.commands for v in option_skipping_variants(words)]
        for rule in self.rules("deny"):
            if command is not None and effective.unknown and rule.covers_tool(name):
                why = effective.unknown[0]
                reason = f"denied by rule `{rule.text}`: {why}, so every deny rule applies"
                return PolicyDecision("deny", rule.text, reason, "rule")
            if self._matches(rule, name, args, command, denial_words):
                return PolicyDecision("deny", rule.text, f"denied by rule `{rule.text}`", "rule")

        # In read-only mode an MCP tool may still run when a rule allows it by name.
        mcp_allowed = is_mcp_tool(name) and self._allowed_by_rule(name, args, None)[0]
        if self.mode == "read-only" and access not in _HARMLESS and not mcp_allowed:
            reason = READ_ONLY_MCP_REASON if is_mcp_tool(name) else READ_ONLY_REASON
            return PolicyDecision("deny", None, reason, "mode")

        protected = self._protected_path(name, args) if access == "write" else None
        if protected:
            reason = f"{protected} is a protected path; changes to it always ask"
            return PolicyDecision("ask", None, reason, "floor")
        if command is not None and parsed is not None:
            named = protected_in_command(
                command, parsed, effective, self.workspace, self._protected
            )
            if named:
                reason = f"the command reaches {named}, a protected place, so it always asks"
                return PolicyDecision("ask", None, reason, "floor")

        for rule in self.rules("ask"):
            if self._matches(rule, name, args, command, parsed.commands if parsed else []):
                return PolicyDecision("ask", rule.text, f"rule `{rule.text}` asks", "rule")
        broken = next(
            (text for tool_name, text in self.fail_closed.items()
             if name == tool_name or name.startswith(tool_name + "__")),
            self.fail_closed_all if access not in _HARMLESS else None,
        )  # fmt: skip
        if broken:
            reason = f"the deny rule `{broken}` is invalid, so this tool asks (fail closed)"
            return PolicyDecision("ask", broken, reason, "rule")

        doubts = [*effective.unknown, *effective.uncertain, *floor_doubts]
        if doubts and self.mode == "auto":
            reason = f"{doubts[0]}, so it asks even in auto mode"
            return PolicyDecision("ask", None, reason, "floor")

        allowed, known_safe = self._allowed_by_rule(name, args, parsed)
        if allowed:
            reason = f"allowed by rule `{allowed.text}`"
            return PolicyDecision("allow", allowed.text, reason, "rule", known_safe)
        return self._default(name, access, parsed)

    def _matches(
        self,
        rule: Rule,
        name: str,
        args: BaseModel,
        command: str | None,
        candidates: list[list[str]],
    ) -> bool:
        if not rule.covers_tool(name):
            return False
        if command is None:
            return rule.matches_call(name, args, self.workspace, written=True)
        if rule.matches_text(command):
            return True
        return any(rule.matches_words(words) for words in candidates)

    def _allowed_by_rule(
        self, name: str, args: BaseModel, parsed: ParsedCommand | None
    ) -> tuple[Rule | None, bool]:
        """The allow rule that covers the call, and whether known-safe parts were relied on.

        Path rules match the resolved path (a link cannot carry a write elsewhere).
        """
        rules = [rule for rule in self.rules("allow") if rule.covers_tool(name)]
        if parsed is None:
            found = (r for r in rules if r.matches_call(name, args, self.workspace, written=False))
            return next(found, None), False
        bare = next((rule for rule in rules if rule.specifier is None), None)
        if bare or not parsed.plain:
            # A bare `shell` rule allows every call; otherwise non-plain never matches.
            return bare, False
        verdicts = KnownSafe(self.workspace).check_parsed(parsed)
        decisive: Rule | None = None
        relied = False
        for words, why in zip(parsed.commands, verdicts, strict=True):
            match = next((rule for rule in rules if rule.matches_words(words)), None)
            if match is None:
                if self.mode == "ask" and why is None:
                    relied = True
                    continue
                return None, False
            decisive = decisive or match
        return decisive, relied

    def _default(
        self, name: str, access: AccessKind, parsed: ParsedCommand | None
    ) -> PolicyDecision:
        if self.mode == "auto":
            return PolicyDecision("allow", None, "auto mode runs every call", "mode")
        if access in _HARMLESS:
            return PolicyDecision("allow", None, f"{access} calls run without asking", "mode")
        if parsed is not None:
            if not parsed.plain:
                why = ", ".join(parsed.reasons) or "no command"
                reason = f"the command is not a plain command ({why}), so it needs approval"
                return PolicyDecision("ask", None, reason, "mode")
            verdicts = KnownSafe(self.workspace).check_parsed(parsed)
            if all(why is None for why in verdicts):
                reason = "known-safe read-only command"
                return PolicyDecision("allow", None, reason, "mode", known_safe=True)
            why = next(why for why in verdicts if why)
            if not why.endswith("is not on the known-safe list"):
                reason = f"It is not proven read-only ({why}), so it needs your approval."
                return PolicyDecision("ask", None, reason, "mode")
        if is_mcp_tool(name):
            server, _, tool = name.removeprefix("mcp__").partition("__")
            return PolicyDecision(
                "ask",
                None,
                f"It calls the tool {tool!r} of the MCP server {server!r}, so it needs your "
                "approval (approval mode: ask).",
                "mode",
            )
        what = {
            "write": "It changes files in the workspace",
            "exec": "It runs a command in the workspace",
            "network": "It fetches from the network",
        }.get(access, f"It is a {access} call")
        return PolicyDecision(
            "ask", None, f"{what}, so it needs your approval (approval mode: ask).", "mode"
        )

    def _protected_path(self, name: str, args: BaseModel) -> str | None:
        raw = getattr(args, "path", None)
        if name not in PATH_RULE_TOOLS or not isinstance(raw, str):
            return None
        candidate = Path(raw) if Path(raw).is_absolute() else self.workspace / raw
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):
            return None
        for directory in self._protected:
            if resolved == directory or resolved.is_relative_to(directory):
                rel = normalize_relative(self.workspace, str(resolved))
                return rel or str(resolved)
        if resolved.is_relative_to(self.workspace):
            # On a case-insensitive disk `.GIT/config` is `.git/config`.
            parts = resolved.relative_to(self.workspace).parts
            if parts and parts[0].casefold() in PROTECTED_DIRS:
                return resolved.relative_to(self.workspace).as_posix()
        return None

    # ----------------------------------------------------------------- proposals

    def propose_rule(self, tool: Tool[Any], args: BaseModel) -> str | None:
        """The "always allow" rule to offer for this call, or ``None`` (approve once only)."""
        return propose_rule(tool, args, self.workspace)


def propose_rule(tool: Tool[Any], args: BaseModel, workspace: Path) -> str | None:
    """A sensible, editable rule covering calls like this one, or ``None`` if none is safe."""
    name = tool.name
    if name == "shell":
        return propose_shell_rule(str(getattr(args, "command", "")), workspace)
    if name == "ask_human":
        return None
    if name == "web_fetch":
        host = urlsplit(str(getattr(args, "url", ""))).hostname
        return f"web_fetch(domain:{host.lower()})" if host else None
    if name in PATH_RULE_TOOLS:
        rel = normalize_relative(workspace, str(getattr(args, "path", "") or "."))
        if rel is None:
            return None
        return f"{name}({glob_escape(rel)})"
    return name
