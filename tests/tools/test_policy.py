"""The approval policy matrix: floor, deny beats allow, compound and non-plain commands, modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.config import ApprovalConfig, ApprovalMode
from app.tools.base import Tool, ToolArgs, ToolContext, ToolResult
from app.tools.policy import READ_ONLY_REASON, ApprovalPolicy, PolicyDecision
from app.tools.registry import ToolRegistry
from app.tools.rules import RuleError


class Check:
    """Evaluates calls of built-in tools against a policy built from rule lists."""

    def __init__(self, registry: ToolRegistry, workspace: Path) -> None:
        self.registry = registry
        self.workspace = workspace

    def policy(
        self,
        mode: ApprovalMode = "ask",
        allow: list[str] | None = None,
        deny: list[str] | None = None,
        ask: list[str] | None = None,
        **kwargs: Any,
    ) -> ApprovalPolicy:
        config = ApprovalConfig(mode=mode, allow=allow or [], deny=deny or [], ask=ask or [])
        return ApprovalPolicy(config, self.workspace, **kwargs)

    def __call__(self, policy: ApprovalPolicy, tool: str, **args: Any) -> PolicyDecision:
        chosen = self.registry.get(tool)
        return policy.evaluate(chosen, chosen.parse_args(args))

    def shell(self, policy: ApprovalPolicy, command: str) -> str:
        return self(policy, "shell", command=command).action


@pytest.fixture
def check(registry: ToolRegistry, workspace: Path) -> Check:
    return Check(registry, workspace)


@pytest.mark.parametrize("mode", ["ask", "auto", "read-only"])
def test_floor_denies_in_every_mode_even_when_allowed(check: Check, mode: ApprovalMode) -> None:
    policy = check.policy(mode, allow=["shell"])
    decision = check(policy, "shell", command="sudo rm -rf /")
    assert decision.action == "deny" and decision.source == "floor"
    assert "safety floor" in decision.reason and decision.rule is None


def test_deny_beats_allow(check: Check) -> None:
    policy = check.policy("auto", allow=["shell(git *)"], deny=["shell(git push *)"])
    decision = check(policy, "shell", command="git push --force origin main")
    assert decision == PolicyDecision(
        "deny", "shell(git push *)", "denied by rule `shell(git push *)`", "rule"
    )
    assert check.shell(policy, "git pull") == "allow"


def test_deny_matches_any_part_of_a_compound_or_hidden_command(check: Check) -> None:
    policy = check.policy("auto", deny=["shell(rm *)"])
    for command in (
        "ls && rm -rf build",
        "echo $(rm x)",
        "true; (rm x)",
        "bash -c 'rm x'",
        "sudo rm x",
        "timeout 5 rm x",
        "rm",
    ):
        assert check.shell(policy, command) == "deny", command
    assert check.shell(policy, "rmdir x") == "allow"  # word boundary: `rm *` is not `rm*`


def test_compound_commands_need_every_part_allowed(check: Check) -> None:
    policy = check.policy(allow=["shell(git status *)", "shell(npm test *)"])
    assert check.shell(policy, "git status -s") == "allow"
    assert check.shell(policy, "git status && npm test") == "allow"
    assert check.shell(policy, "git status && git push") == "ask"
    assert check.shell(policy, "git status | head -5") == "allow"  # head is known-safe
    decision = check(policy, "shell", command="npm test -- --watch=false")
    assert decision.rule == "shell(npm test *)" and decision.source == "rule"


@pytest.mark.parametrize(
    "command",
    [
        "git status > out.txt",
        "git status $(touch x)",
        "git status `touch x`",
        "git status & touch x",
        "GIT_DIR=/x git status",
        "git status <<EOF\nx\nEOF",
        "(git status)",
        "ls > listing.txt",
        "echo $HOME",
    ],
)
def test_non_plain_commands_never_match_allow_rules(check: Check, command: str) -> None:
    policy = check.policy(allow=["shell(git status *)", "shell(ls *)", "shell(echo *)"])
    decision = check(policy, "shell", command=command)
    assert decision.action == "ask" and decision.source == "mode"
    assert "not a plain command" in decision.reason


def test_bare_shell_allow_means_every_call(check: Check) -> None:
    policy = check.policy(allow=["shell"])
    assert check.shell(policy, "make > build.log 2>&1") == "allow"


def test_exact_and_prefix_rules(check: Check) -> None:
    policy = check.policy(allow=["shell(git  commit)", "shell(ls*)"])
    assert check.shell(policy, "git commit") == "allow"
    assert check.shell(policy, "git commit -m wip") == "ask"
    assert check.shell(policy, "lsof -i") == "allow"  # `ls*` has no word boundary


def test_wrappers_are_stripped_before_matching(check: Check) -> None:
    policy = check.policy(allow=["shell(pytest *)"])
    assert check.shell(policy, "timeout 60 pytest -x") == "allow"
    assert check.shell(policy, "nice -n 5 nohup pytest") == "allow"


def test_read_only_mode_denies_everything_but_reading(check: Check) -> None:
    policy = check.policy("read-only", allow=["shell", "write_file"])
    decision = check(policy, "shell", command="ls")
    assert decision.action == "deny" and decision.reason == READ_ONLY_REASON
    assert check(policy, "write_file", path="a.txt", content="x").action == "deny"
    assert check(policy, "web_fetch", url="https://example.com").action == "deny"
    assert check(policy, "read_file", path="a.txt").action == "allow"
    assert check(policy, "ask_human", question="ok?").action == "allow"


def test_ask_mode_defaults(check: Check) -> None:
    policy = check.policy()
    assert check(policy, "read_file", path="x").action == "allow"
    assert check(policy, "search_text", pattern="x").action == "allow"
    assert check(policy, "write_file", path="x", content="").action == "ask"
    assert check(policy, "edit_file", path="x", old="a", new="b").action == "ask"
    assert check(policy, "web_fetch", url="https://example.com").action == "ask"
    assert check.shell(policy, "ls -la && git status") == "allow"
    assert check(policy, "shell", command="git log").reason == "known-safe read-only command"
    assert check.shell(policy, "git push") == "ask"
    assert check.shell(policy, "python x.py") == "ask"


def test_auto_mode_allows_but_protected_paths_still_ask(check: Check) -> None:
    policy = check.policy("auto")
    assert check.shell(policy, "make deploy > log") == "allow"
    assert check(policy, "write_file", path="src/a.py", content="").action == "allow"
    for path in (".git/config", ".agentkit/config.toml", "./.git/hooks/pre-commit"):
        decision = check(policy, "write_file", path=path, content="x")
        assert decision.action == "ask" and decision.source == "floor", path
        assert "protected" in decision.reason
    assert check(policy, "read_file", path=".git/config").action == "allow"


def test_protected_paths_include_configured_dirs(check: Check, tmp_path: Path) -> None:
    policy = check.policy("auto", allow=["edit_file"], protected_dirs=[check.workspace / "etc"])
    assert check(policy, "edit_file", path="etc/a", old="a", new="b").action == "ask"


def test_path_rules_are_workspace_globs(check: Check) -> None:
    policy = check.policy(allow=["write_file(src/**)", "edit_file(docs/*.md)"])
    assert check(policy, "write_file", path="src/a/b.py", content="").action == "allow"
    assert check(policy, "write_file", path="./src/x.py", content="").action == "allow"
    assert check(policy, "write_file", path="lib/x.py", content="").action == "ask"
    assert check(policy, "write_file", path="src/../lib/x.py", content="").action == "ask"
    assert check(policy, "edit_file", path="docs/a.md", old="a", new="b").action == "allow"
    assert check(policy, "edit_file", path="docs/sub/a.md", old="a", new="b").action == "ask"
    absolute = str(check.workspace / "src" / "abs.py")
    assert check(policy, "write_file", path=absolute, content="").action == "allow"


def test_deny_rules_for_reading_paths(check: Check) -> None:
    policy = check.policy("auto", deny=["read_file(.env)", "search_text(secrets/**)"])
    assert check(policy, "read_file", path="app/.env").action == "deny"
    assert check(policy, "read_file", path=".env").action == "deny"
    assert check(policy, "read_file", path=".env.example").action == "allow"
    assert check(policy, "search_text", pattern="x", path="secrets/a").action == "deny"


def test_domain_rules(check: Check) -> None:
    policy = check.policy(
        allow=["web_fetch(domain:docs.python.org)", "web_fetch(domain:*.example.com)"]
    )
    assert check(policy, "web_fetch", url="https://docs.python.org/3/").action == "allow"
    assert check(policy, "web_fetch", url="https://evil.org/docs.python.org").action == "ask"
    assert check(policy, "web_fetch", url="http://a.example.com/x").action == "allow"
    assert check(policy, "web_fetch", url="http://example.com/x").action == "allow"
    assert check(policy, "web_fetch", url="http://notexample.com/x").action == "ask"


def test_ask_rules_ask_even_in_auto_mode(check: Check) -> None:
    policy = check.policy("auto", ask=["shell(git push *)"], allow=["shell(git *)"])
    decision = check(policy, "shell", command="git status && git push")
    assert decision.action == "ask" and decision.rule == "shell(git push *)"


def test_invalid_allow_rules_are_dropped_and_reported(check: Check) -> None:
    policy = check.policy(allow=["shel(ls *)", "web_fetch(python.org)", "read_file(../x)"])
    assert len(policy.problems) == 3
    assert "shel" in policy.problems[0] and "unknown tool" in policy.problems[0]
    assert check(policy, "web_fetch", url="https://python.org").action == "ask"


def test_invalid_deny_rules_fail_closed(check: Check) -> None:
    policy = check.policy("auto", allow=["web_fetch"], deny=["web_fetch(python.org)"])
    decision = check(policy, "web_fetch", url="https://python.org")
    assert decision.action == "ask" and decision.rule == "web_fetch(python.org)"
    assert "fail closed" in decision.reason
    assert check.shell(policy, "make") == "allow"  # other tools are unaffected
    assert "web_fetch will ask before every call" in policy.problems[0]


def test_invalid_deny_rule_for_unknown_tool_makes_every_risky_tool_ask(check: Check) -> None:
    policy = check.policy("auto", deny=["shel(rm *)"])
    assert check.shell(policy, "ls") == "ask"
    assert check(policy, "write_file", path="a", content="").action == "ask"
    assert check(policy, "read_file", path="a").action == "allow"


def test_session_rules(check: Check) -> None:
    policy = check.policy()
    assert check.shell(policy, "npm run build") == "ask"
    policy.add_session_rule("shell(npm run build *)")
    decision = check(policy, "shell", command="npm run build -- --prod")
    assert decision.action == "allow" and decision.rule == "shell(npm run build *)"
    assert policy.session_rules() == ["shell(npm run build *)"]
    policy.add_session_rule("shell(npm run build *)", "deny")
    assert check.shell(policy, "npm run build") == "deny"
    with pytest.raises(RuleError):
        policy.add_session_rule("shell()")


def test_agent_mode_override_and_extra_rules(check: Check) -> None:
    config = ApprovalConfig(mode="auto")
    policy = ApprovalPolicy(config, check.workspace, mode="read-only")
    assert policy.mode == "read-only" and check.shell(policy, "ls") == "deny"
    skill = ApprovalPolicy(config, check.workspace, extra_deny=["shell(curl *)"])
    assert check.shell(skill, "curl example.com") == "deny"


def test_mcp_tool_rules_are_accepted(check: Check) -> None:
    policy = check.policy(allow=["mcp__github"], deny=["mcp__github__delete_repo"])
    assert policy.problems == []
    broken = check.policy("auto", deny=["mcp__github(x)"])
    assert broken.fail_closed == {"mcp__github": "mcp__github(x)"}

    class DeleteRepo(Tool[ToolArgs]):
        name = "mcp__github__delete_repo"
        description = "Delete a repository."
        Args = ToolArgs
        access = "write"

        async def run(self, args: ToolArgs, ctx: ToolContext) -> ToolResult:
            raise NotImplementedError

    tool = DeleteRepo()
    assert broken.evaluate(tool, ToolArgs()).action == "ask"
    assert policy.evaluate(tool, ToolArgs()).action == "deny"
    assert check.policy("auto", allow=["mcp__github"]).evaluate(tool, ToolArgs()).action == "allow"
