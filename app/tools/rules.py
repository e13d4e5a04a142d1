"""Approval rules: parsing ``TOOL`` / ``TOOL(specifier)``, matching calls, saving to TOML files.

Syntax (Claude Code's, with our tool names):

- ``shell`` — every call of the tool; ``mcp__server`` (or ``mcp__server__*``) covers every
  tool of that MCP server, ``mcp__server__tool`` one of them;
- ``shell(git status)`` — exactly that command (words compared after shell-style splitting);
- ``shell(git commit *)`` — that command followed by anything (word boundary), or nothing;
  a ``*`` elsewhere (``shell(ls*)``) matches any characters, so it also matches ``lsof``;
- ``write_file(src/**)``, ``edit_file(docs/*.md)`` — gitignore-style globs relative to the
  workspace (also for read_file, list_dir and search_text);
- ``web_fetch(domain:docs.python.org)``, ``web_fetch(domain:*.python.org)``.
"""

from __future__ import annotations

import functools
import re
import shlex
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import tomlkit
import tomlkit.exceptions
from tomlkit.items import AoT, Array, Table

from app.atomic import write_text_atomically
from app.config import file_digest, trust_key
from app.paths import workspace_config_file
from app.tools.names import BUILTIN_TOOL_NAMES
from app.tools.workspace import normalize_relative, path_glob_matches, resolved_relative

RuleKind = Literal["allow", "ask", "deny"]
RuleScope = Literal["workspace", "user"]

#: Tools whose rules take a workspace-relative path glob.
PATH_RULE_TOOLS = frozenset({"read_file", "list_dir", "search_text", "write_file", "edit_file"})
_RULE = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)(?:\((.*)\))?", re.DOTALL)
_MCP_SERVER_GLOB = re.compile(r"(mcp__[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*)__\*")
_DOMAIN = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?(\.[A-Za-z0-9\-]+)*")


class RuleError(ValueError):
    """A rule that cannot be used; ``str(error)`` names the rule and says what is wrong."""


@dataclass(frozen=True)
class Rule:
    """One parsed rule: the text as written, the tool it names, and its optional specifier."""

    text: str
    tool: str
    specifier: str | None = None

    def covers_tool(self, name: str) -> bool:
        """Whether this rule is about tool ``name`` (``mcp__server`` covers its tools)."""
        return self.tool == name or (
            self.tool.startswith("mcp__") and name.startswith(self.tool + "__")
        )

    def matches_words(self, words: list[str]) -> bool:
        """For shell rules: whether a simple command's words match (bare ``shell`` = all)."""
        if self.specifier is None:
            return True
        return bool(_shell_regex(self.specifier).match(" ".join(words)))

    def matches_text(self, command: str) -> bool:
        """For shell rules: whether the raw command line itself matches."""
        if self.specifier is None:
            return True
        return bool(_shell_regex(self.specifier).match(" ".join(command.split())))

    def matches_call(self, name: str, args: Any, workspace: Path, *, written: bool) -> bool:
        """For non-shell tools: whether a call of ``name`` with ``args`` matches this rule.

        Path rules always match the resolved path (symlinks followed), so a link cannot carry
        an allowed write elsewhere; with ``written`` (deny and ask rules) the path as written
        matches too, so neither spelling escapes them.
        """
        if not self.covers_tool(name):
            return False
        if self.specifier is None:
            return True
        if self.tool == "web_fetch":
            host = (urlsplit(str(getattr(args, "url", ""))).hostname or "").lower()
            return _domain_matches(self.specifier.removeprefix("domain:"), host)
        if self.tool in PATH_RULE_TOOLS:
            raw = str(getattr(args, "path", "") or ".")
            forms = [resolved_relative(workspace, raw)]
            if written:
                forms.append(normalize_relative(workspace, raw))
            return any(rel is not None and path_glob_matches(self.specifier, rel) for rel in forms)
        return False


def parse_rule(text: str, known_tools: Collection[str] = BUILTIN_TOOL_NAMES) -> Rule:
    """Parse and validate one rule, or raise a RuleError that says how to write it."""
    stripped = text.strip()
    server_glob = _MCP_SERVER_GLOB.fullmatch(stripped)
    if server_glob:
        # `mcp__github__*` is another spelling of `mcp__github`: every tool of the server.
        return Rule(stripped, server_glob.group(1), None)
    match = _RULE.fullmatch(stripped)
    if not match:
        raise RuleError(
            f"rule {text!r} is not of the form TOOL or TOOL(pattern), e.g. 'shell(git status *)'"
        )
    tool, spec = match.group(1), match.group(2)
    if tool not in known_tools and not tool.startswith("mcp__"):
        raise RuleError(
            f"rule {text!r} names an unknown tool {tool!r} (known: {', '.join(known_tools)})"
        )
    if spec is None:
        return Rule(stripped, tool, None)
    spec = spec.strip()
    if not spec:
        raise RuleError(f"rule {text!r} has an empty pattern; write just {tool!r} for every call")
    if tool == "shell":
        try:
            if not shlex.split(spec):
                raise ValueError("no words")
        except ValueError as exc:
            raise RuleError(f"rule {text!r}: the command pattern cannot be split ({exc})") from None
    elif tool == "web_fetch":
        domain = spec.removeprefix("domain:")
        if not spec.startswith("domain:") or not _DOMAIN.fullmatch(domain):
            raise RuleError(
                f"rule {text!r}: web_fetch rules look like 'web_fetch(domain:docs.python.org)'"
            )
        spec = "domain:" + domain.lower()
    elif tool in PATH_RULE_TOOLS:
        if spec.startswith("~") or ".." in spec.split("/"):
            raise RuleError(
                f"rule {text!r}: paths are globs relative to the workspace (no '..' or '~')"
            )
    else:
        raise RuleError(f"rule {text!r}: {tool} rules take no pattern; write just {tool!r}")
    return Rule(stripped, tool, spec)


def matching_calls(
    text: str, calls: Collection[tuple[str, dict[str, Any]]], workspace: Path
) -> list[tuple[str, dict[str, Any]]]:
    """The calls (tool name, arguments) among ``calls`` that rule ``text`` would match.

    Used to preview a rule before it is saved; raises :class:`RuleError` for a bad rule.
    Shell commands are compared as the rule engine compares a whole command line.
    """
    rule = parse_rule(text)
    found: list[tuple[str, dict[str, Any]]] = []
    for name, args in calls:
        if not rule.covers_tool(name):
            continue
        if name == "shell":
            command = args.get("command")
            if not isinstance(command, str) or not command:
                continue  # its arguments never validated: the policy never saw a command
            try:
                words = shlex.split(command)
            except ValueError:
                words = command.split()
            hit = rule.matches_text(command) or rule.matches_words(words)
        else:
            hit = rule.matches_call(name, _Args(args), workspace, written=False)
        if hit:
            found.append((name, args))
    return found


class _Args:
    """Attribute access over a call's argument dict (what ``matches_call`` reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values.get(name)


@functools.lru_cache(maxsize=512)
def _shell_regex(spec: str) -> re.Pattern[str]:
    joined = " ".join(shlex.split(spec))
    tail = ""
    if joined.endswith(" *"):
        joined, tail = joined[:-2], "(?: .*)?"
    body = re.escape(joined).replace(r"\*", ".*")
    return re.compile(f"^{body}{tail}$", re.DOTALL)


def _domain_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        suffix = pattern[2:]
        return host == suffix or host.endswith("." + suffix)
    return host == pattern


def glob_escape(path: str) -> str:
    """Escape glob characters so a path can be used as an exact rule pattern."""
    return re.sub(r"([*?\[])", r"[\1]", path)


# --------------------------------------------------------------------------- files


def config_file_for(scope: RuleScope, user_config_file: Path, workspace: Path) -> Path:
    """The TOML file a rule saved with ``scope`` goes to."""
    return workspace_config_file(workspace) if scope == "workspace" else user_config_file


def save_rule(
    rule: str,
    kind: RuleKind,
    scope: RuleScope,
    user_config_file: Path,
    workspace: Path,
) -> Path:
    """Append ``rule`` to ``[approval] <kind>`` of the scope's config file, keeping comments."""
    parse_rule(rule)
    path = config_file_for(scope, user_config_file, workspace)
    try:
        raw = path.read_bytes() if path.exists() else b""
        doc = tomlkit.parse(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise RuleError(f"cannot save the rule: {path} cannot be read as TOML ({exc})") from None
    # The person's own answer must not untrust the workspace file it changes.
    keep_trust = scope == "workspace" and _trusted_or_no_allow(path, raw, doc, user_config_file)
    approval = doc.get("approval")
    if approval is None:
        approval = tomlkit.table()
        doc["approval"] = approval
    elif not isinstance(approval, Table | dict) or isinstance(approval, AoT):
        raise RuleError(f"cannot save the rule: 'approval' in {path} is not a table")
    rules = approval.get(kind)
    if rules is None:
        rules = tomlkit.array()
        approval[kind] = rules
    elif not isinstance(rules, Array | list):
        raise RuleError(f"cannot save the rule: approval.{kind} in {path} is not a list")
    if rule.strip() not in [str(item) for item in rules]:
        rules.append(rule.strip())
    text = tomlkit.dumps(doc)
    write_text_atomically(path, text, make_parents=True)
    if keep_trust and _allow_rules(doc):
        trust_rules_file(user_config_file, path, file_digest(text.encode("utf-8")))
    return path


def _trusted_or_no_allow(
    path: Path, raw: bytes, doc: tomlkit.TOMLDocument, user_config_file: Path
) -> bool:
    """Whether a workspace rules file (as read: ``raw``) is trusted or has no allow rules."""
    if not _allow_rules(doc):
        return True
    try:
        data = tomllib.loads(user_config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    trusted = data.get("approval", {}).get("trusted_workspaces", {})
    return isinstance(trusted, dict) and trusted.get(trust_key(path)) == file_digest(raw)


def _allow_rules(doc: tomlkit.TOMLDocument) -> bool:
    """Whether the file holds what needs the person's trust: allow rules or MCP servers."""
    approval = doc.get("approval")
    mcp = doc.get("mcp")
    servers = isinstance(mcp, Table | dict) and bool(mcp.get("servers"))
    return servers or (isinstance(approval, Table | dict) and bool(approval.get("allow")))


def trust_rules_file(user_config_file: Path, rules_file: Path, digest: str) -> None:
    """Remember that the person trusts the workspace rules file with this ``digest``: set
    ``[approval.trusted_workspaces]`` in their config file, keeping its comments."""
    try:
        text = user_config_file.read_text(encoding="utf-8") if user_config_file.exists() else ""
        doc = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise RuleError(
            f"cannot remember the trust: {user_config_file} cannot be read as TOML ({exc})"
        ) from None
    approval = doc.get("approval")
    if approval is None:
        approval = tomlkit.table()
        doc["approval"] = approval
    elif not isinstance(approval, Table | dict) or isinstance(approval, AoT):
        raise RuleError(
            f"cannot remember the trust: 'approval' in {user_config_file} is not a table"
        )
    trusted = approval.get("trusted_workspaces")
    if trusted is None:
        trusted = tomlkit.table()
        approval["trusted_workspaces"] = trusted
    elif not isinstance(trusted, Table | dict):
        raise RuleError(
            f"cannot remember the trust: approval.trusted_workspaces in {user_config_file} "
            "is not a table"
        )
    trusted[trust_key(rules_file)] = digest
    write_text_atomically(user_config_file, tomlkit.dumps(doc), make_parents=True)


def remove_rule(
    rule: str,
    kind: RuleKind,
    scope: RuleScope,
    user_config_file: Path,
    workspace: Path,
) -> bool:
    """Remove ``rule`` from ``[approval] <kind>`` of the scope's config file, keeping comments.

    Returns ``False`` when the file or the rule is not there (nothing is written then), and
    raises :class:`RuleError` when the file cannot be read as TOML (it is left untouched).
    """
    path = config_file_for(scope, user_config_file, workspace)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot remove the rule: {path} cannot be read ({exc})") from None
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise RuleError(f"cannot remove the rule: {path} cannot be read as TOML ({exc})") from None
    keep_trust = scope == "workspace" and _trusted_or_no_allow(path, raw, doc, user_config_file)
    approval = doc.get("approval")
    if approval is None:
        return False
    if not isinstance(approval, Table | dict) or isinstance(approval, AoT):
        raise RuleError(f"cannot remove the rule: 'approval' in {path} is not a table")
    rules = approval.get(kind)
    if rules is None:
        return False
    if not isinstance(rules, Array | list):
        raise RuleError(f"cannot remove the rule: approval.{kind} in {path} is not a list")
    wanted = rule.strip()
    found = [index for index, item in enumerate(rules) if str(item).strip() == wanted]
    if not found:
        return False
    for index in reversed(found):  # a hand-edited file may hold the rule twice
        del rules[index]
    text = tomlkit.dumps(doc)
    write_text_atomically(path, text, make_parents=True)
    if keep_trust and _allow_rules(doc):
        trust_rules_file(user_config_file, path, file_digest(text.encode("utf-8")))
    return True


def read_rules_file(path: Path) -> dict[RuleKind, list[str]]:
    """The ``[approval]`` allow/ask/deny lists of a TOML file (empty lists if it has none)."""
    found: dict[RuleKind, list[str]] = {"allow": [], "ask": [], "deny": []}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return found
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"cannot read approval rules from {path}: {exc}") from None
    approval = data.get("approval", {})
    if not isinstance(approval, dict):
        raise RuleError(f"cannot read approval rules from {path}: 'approval' is not a table")
    for kind in found:
        value = approval.get(kind, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise RuleError(
                f"cannot read approval rules from {path}: approval.{kind} is not a list"
            )
        found[kind] = list(value)
    return found
