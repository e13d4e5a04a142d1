"""Approval decisions the mutation report (tests/mutation/run.py) found untested: what the
policy says, word for word, for MCP tools, protected paths spelled in another case, and the
rules it proposes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import ApprovalConfig, ApprovalMode
from app.tools.base import Tool, ToolArgs, ToolContext, ToolResult
from app.tools.policy import (
    READ_ONLY_MCP_REASON,
    READ_ONLY_REASON,
    ApprovalPolicy,
    PolicyDecision,
    propose_rule,
)
from app.tools.registry import ToolRegistry


class ReadIssues(Tool[ToolArgs]):
    """An MCP server's tool, as the MCP client names it (mcp__server__tool)."""

    name = "mcp__tracker__read_issues"
    description = "Read the issues."
    Args = ToolArgs
    access = "exec"

    async def run(self, args: ToolArgs, ctx: ToolContext) -> ToolResult:
        raise NotImplementedError


def _policy(workspace: Path, mode: ApprovalMode = "ask", **rules: list[str]) -> ApprovalPolicy:
    return ApprovalPolicy(ApprovalConfig(mode=mode, **rules), workspace)


def _decide(
    registry: ToolRegistry, policy: ApprovalPolicy, tool: str, **args: Any
) -> PolicyDecision:
    chosen = registry.get(tool)
    return policy.evaluate(chosen, chosen.parse_args(args))


def test_an_mcp_tool_asks_in_ask_mode_naming_the_server_and_the_tool(workspace: Path) -> None:
    decision = _policy(workspace).evaluate(ReadIssues(), ToolArgs())
    assert decision == PolicyDecision(
        "ask",
        None,
        "It calls the tool 'read_issues' of the MCP server 'tracker', so it needs your "
        "approval (approval mode: ask).",
        "mode",
    )


def test_a_protected_folder_in_another_case_still_asks(
    registry: ToolRegistry, workspace: Path
) -> None:
    # On a case-insensitive disk `.GIT/config` is `.git/config`.
    decision = _decide(
        registry, _policy(workspace, "auto"), "write_file", path=".GIT/config", content="x"
    )
    assert decision == PolicyDecision(
        "ask", None, ".GIT/config is a protected path; changes to it always ask", "floor"
    )


def test_the_rule_proposed_for_a_path_tool_without_a_path_is_the_workspace(
    registry: ToolRegistry, workspace: Path
) -> None:
    tool = registry.get("list_dir")
    assert propose_rule(tool, tool.parse_args({"path": ""}), workspace) == "list_dir(.)"


def test_read_only_mode_runs_an_mcp_tool_only_when_a_rule_names_it(workspace: Path) -> None:
    refused = _policy(workspace, "read-only").evaluate(ReadIssues(), ToolArgs())
    assert refused == PolicyDecision("deny", None, READ_ONLY_MCP_REASON, "mode")
    allowed = _policy(workspace, "read-only", allow=["mcp__tracker"])
    assert allowed.evaluate(ReadIssues(), ToolArgs()) == PolicyDecision(
        "allow", "mcp__tracker", "allowed by rule `mcp__tracker`", "rule"
    )


def test_only_the_mcp_prefix_makes_a_tool_an_mcp_tool(workspace: Path) -> None:
    class Local(ReadIssues):
        name = "notes__append"

    assert _policy(workspace, "read-only").evaluate(Local(), ToolArgs()) == PolicyDecision(
        "deny", None, READ_ONLY_REASON, "mode"
    )
    assert _policy(workspace).evaluate(Local(), ToolArgs()).reason == (
        "It runs a command in the workspace, so it needs your approval (approval mode: ask)."
    )


def test_climbing_out_of_the_workspace_to_the_root_is_on_the_floor(
    registry: ToolRegistry, workspace: Path
) -> None:
    climb = "../" * len(workspace.parts)  # from the workspace, this many steps reach /
    decision = _decide(registry, _policy(workspace, "auto"), "shell", command=f"rm -rf {climb}")
    assert decision == PolicyDecision(
        "deny",
        None,
        "blocked by the safety floor (rm -rf / or ~); no mode or rule can allow it",
        "floor",
    )


def test_an_mcp_tool_name_with_a_double_underscore_keeps_it_in_the_tool_part(
    workspace: Path,
) -> None:
    class ReadAll(ReadIssues):
        name = "mcp__tracker__read__all"

    assert (
        _policy(workspace)
        .evaluate(ReadAll(), ToolArgs())
        .reason.startswith("It calls the tool 'read__all' of the MCP server 'tracker',")
    )
