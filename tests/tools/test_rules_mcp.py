"""Rules about MCP servers: the `mcp__server__*` spelling, and trust in a workspace file whose
only trusted content is an MCP server (it runs a program, so it needs trust like an allow
rule, and the person's own answers must not take that trust away)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.config import load_settings, read_workspace_rules
from app.paths import workspace_config_file
from app.tools.rules import parse_rule, save_rule, trust_rules_file

SERVER_ONLY = '[mcp.servers.github]\ncommand = "github-mcp"\n'


def test_a_server_glob_is_the_server_rule() -> None:
    """`mcp__github__*` names every tool of the server, exactly as `mcp__github` does."""
    rule = parse_rule("  mcp__git-hub__*  ")
    assert (rule.text, rule.tool, rule.specifier) == ("mcp__git-hub__*", "mcp__git-hub", None)
    assert rule.covers_tool("mcp__git-hub__get_issue")
    assert not rule.covers_tool("mcp__git-hubby__get_issue")
    assert not rule.covers_tool("shell")


def _trusted(user_config: Path, workspace: Path) -> bool:
    rules = read_workspace_rules(workspace_config_file(workspace), load_settings(user_config, {}))
    assert rules is not None
    return rules.trusted


def test_saving_a_rule_keeps_a_trusted_server_only_file_trusted(
    tmp_path: Path, workspace: Path
) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text("")
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text(SERVER_ONLY)
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    trust_rules_file(user_config, path, digest)
    assert _trusted(user_config, workspace)

    save_rule("shell(rm *)", "deny", "workspace", user_config, workspace)

    assert path.read_text().startswith(SERVER_ONLY)
    assert _trusted(user_config, workspace)


def test_saving_a_rule_does_not_trust_a_server_that_came_with_the_repository(
    tmp_path: Path, workspace: Path
) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text("")
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text(SERVER_ONLY)

    save_rule("shell(npm test *)", "allow", "workspace", user_config, workspace)

    assert not _trusted(user_config, workspace)
    assert user_config.read_text() == ""
