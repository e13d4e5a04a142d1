"""Every way the approval policy decides, checked field by field: the action, the rule that
decided, the reason shown to the person and the source. Written against the mutation report
(tests/mutation/run.py): each test here kills mutants the policy tests let through."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.policy import READ_ONLY_REASON, ApprovalPolicy, PolicyDecision, propose_rule
from app.tools.registry import ToolRegistry
from app.tools.shellparse import effective_commands
from tests.tools.test_policy import Check


@pytest.fixture
def check(registry: ToolRegistry, workspace: Path) -> Check:
    return Check(registry, workspace)


ASK_EXEC = "It runs a command in the workspace, so it needs your approval (approval mode: ask)."


def test_an_ask_rule_asks_and_says_which_rule(check: Check) -> None:
    policy = check.policy("auto", ask=["shell(git push *)"])
    assert check(policy, "shell", command="git push origin main") == PolicyDecision(
        "ask", "shell(git push *)", "rule `shell(git push *)` asks", "rule"
    )
    assert check(policy, "shell", command="git status").action == "allow"  # auto, not asked


def test_a_command_it_cannot_see_through_asks_even_in_auto_mode(check: Check) -> None:
    command = "$CMD --version"
    why = effective_commands(command).unknown[0]
    assert check(check.policy("auto"), "shell", command=command) == PolicyDecision(
        "ask", None, f"{why}, so it asks even in auto mode", "floor"
    )
    # In ask mode it asks too, because it is not a plain command (not the auto floor).
    decision = check(check.policy("ask"), "shell", command=command)
    assert (decision.action, decision.source) == ("ask", "mode")
    # A plain command in auto mode is not held by that floor.
    assert check(check.policy("auto"), "shell", command="ls -la") == PolicyDecision(
        "allow", None, "auto mode runs every call", "mode"
    )


def test_an_unknown_command_word_meets_every_shell_deny_rule_but_no_other_tools(
    check: Check,
) -> None:
    command = "$CMD --version"
    why = effective_commands(command).unknown[0]
    policy = check.policy("auto", deny=["write_file(secrets/**)", "shell(rm *)"])
    assert check(policy, "shell", command=command) == PolicyDecision(
        "deny",
        "shell(rm *)",
        f"denied by rule `shell(rm *)`: {why}, so every deny rule applies",
        "rule",
    )
    # A plain command that no deny rule names is not denied.
    assert check(policy, "shell", command="ls").action == "allow"
    # With only a deny rule for another tool, the shell call is not denied by it.
    only_files = check.policy("auto", deny=["write_file(secrets/**)"])
    assert check(only_files, "shell", command=command).action == "ask"


def test_allowed_by_a_rule_says_so_and_whether_known_safe_parts_were_relied_on(
    check: Check,
) -> None:
    policy = check.policy("ask", allow=["shell(git status)"])
    assert check(policy, "shell", command="git status") == PolicyDecision(
        "allow", "shell(git status)", "allowed by rule `shell(git status)`", "rule", False
    )
    # `ls` is known-safe: the rule covers the rest, and the decision says it relied on that.
    assert check(policy, "shell", command="git status && ls") == PolicyDecision(
        "allow", "shell(git status)", "allowed by rule `shell(git status)`", "rule", True
    )
    # A part that is neither covered nor known-safe: the rule does not decide, the mode asks.
    assert check(policy, "shell", command="git status && touch x") == PolicyDecision(
        "ask", None, ASK_EXEC, "mode"
    )
    # In auto mode nothing is relied on: each part must be covered by a rule, or the mode decides.
    auto = check.policy("auto", allow=["shell(git status)"])
    assert check(auto, "shell", command="git status && ls") == PolicyDecision(
        "allow", None, "auto mode runs every call", "mode"
    )


def test_a_bare_rule_allows_every_call_and_relies_on_nothing(check: Check) -> None:
    policy = check.policy("ask", allow=["shell"])
    assert check(policy, "shell", command="echo hi > out.txt") == PolicyDecision(
        "allow", "shell", "allowed by rule `shell`", "rule", False
    )


def test_a_path_allow_rule_decides_for_file_tools(check: Check) -> None:
    policy = check.policy("ask", allow=["write_file(docs/**)"])
    assert check(policy, "write_file", path="docs/a.md", content="x") == PolicyDecision(
        "allow", "write_file(docs/**)", "allowed by rule `write_file(docs/**)`", "rule", False
    )
    assert check(policy, "write_file", path="src/a.py", content="x") == PolicyDecision(
        "ask",
        None,
        "It changes files in the workspace, so it needs your approval (approval mode: ask).",
        "mode",
    )


def test_the_defaults_of_each_mode_word_for_word(check: Check) -> None:
    ask = check.policy("ask")
    assert check(ask, "read_file", path="README.md") == PolicyDecision(
        "allow", None, "read calls run without asking", "mode"
    )
    assert check(ask, "shell", command="cat README.md") == PolicyDecision(
        "allow", None, "known-safe read-only command", "mode", known_safe=True
    )
    assert check(ask, "shell", command="touch x") == PolicyDecision("ask", None, ASK_EXEC, "mode")
    assert check(ask, "shell", command="ls | wc -l").known_safe
    redirect = check(ask, "shell", command="echo hi > out.txt")
    assert redirect == PolicyDecision(
        "ask",
        None,
        "the command is not a plain command (redirection), so it needs approval",
        "mode",
    )
    fetch = check(ask, "web_fetch", url="https://example.com/")
    assert fetch == PolicyDecision(
        "ask",
        None,
        "It fetches from the network, so it needs your approval (approval mode: ask).",
        "mode",
    )
    read_only = check.policy("read-only")
    assert check(read_only, "shell", command="touch x") == PolicyDecision(
        "deny", None, READ_ONLY_REASON, "mode"
    )
    assert check(read_only, "read_file", path="README.md").action == "allow"


def test_a_command_known_safe_only_in_part_says_what_is_not_proven(check: Check) -> None:
    decision = check(check.policy("ask"), "shell", command="find . -delete")
    assert decision.action == "ask" and decision.source == "mode"
    assert decision.reason.startswith("It is not proven read-only (")
    assert decision.reason.endswith("), so it needs your approval.")


def test_protected_paths_ask_by_name_relative_or_absolute(check: Check, workspace: Path) -> None:
    policy = check.policy("auto", allow=["write_file"])
    relative = check(policy, "write_file", path=".git/config", content="x")
    assert relative == PolicyDecision(
        "ask", None, ".git/config is a protected path; changes to it always ask", "floor"
    )
    absolute = check(policy, "write_file", path=str(workspace / ".agentkit" / "c.toml"), content="")
    assert absolute.reason == ".agentkit/c.toml is a protected path; changes to it always ask"
    assert check(policy, "write_file", path="git/config", content="x").action == "allow"
    assert check(policy, "read_file", path=".git/config").action == "allow"  # reading is fine


def test_an_extra_protected_folder_outside_is_named_by_its_full_path(
    registry: ToolRegistry, workspace: Path, tmp_path: Path
) -> None:
    from app.config import ApprovalConfig

    outside = tmp_path / "state"
    policy = ApprovalPolicy(
        ApprovalConfig(mode="auto", allow=["write_file"]), workspace, protected_dirs=[outside]
    )
    check = Check(registry, workspace)
    decision = check(policy, "write_file", path=str(outside / "x.json"), content="x")
    assert decision == PolicyDecision(
        "ask",
        None,
        f"{(outside / 'x.json').resolve()} is a protected path; changes to it always ask",
        "floor",
    )


def test_invalid_rules_are_reported_and_deny_rules_fail_closed(check: Check) -> None:
    # Invalid rules reach the policy from a workspace's file (the user's config refuses them).
    policy = check.policy(
        "auto",
        extra_allow=["shell(git status"],
        extra_ask=["read_file(x"],
        extra_deny=["write_file(docs"],
    )
    assert policy.problems[0].startswith("invalid allow rule ignored: rule 'shell(git status'")
    assert policy.problems[1].startswith("invalid ask rule ignored: rule 'read_file(x'")
    assert policy.problems[2].startswith("invalid deny rule: rule 'write_file(docs'")
    assert policy.problems[2].endswith("; write_file will ask before every call")
    assert policy.fail_closed == {"write_file": "write_file(docs"}
    assert policy.fail_closed_all is None
    assert check(policy, "write_file", path="a.md", content="x") == PolicyDecision(
        "ask",
        "write_file(docs",
        "the deny rule `write_file(docs` is invalid, so this tool asks (fail closed)",
        "rule",
    )
    assert check(policy, "shell", command="touch x").action == "allow"  # other tools unchanged


def test_an_invalid_deny_rule_for_an_unknown_tool_makes_every_risky_tool_ask(
    check: Check,
) -> None:
    policy = check.policy("auto", extra_deny=["frobnicate(x"])
    assert policy.fail_closed == {} and policy.fail_closed_all == "frobnicate(x"
    assert policy.problems[0].endswith(
        "; every tool that writes, runs commands or uses the network will ask before every call"
    )
    assert check(policy, "shell", command="touch x") == PolicyDecision(
        "ask",
        "frobnicate(x",
        "the deny rule `frobnicate(x` is invalid, so this tool asks (fail closed)",
        "rule",
    )
    assert check(policy, "read_file", path="README.md").action == "allow"


def test_an_invalid_deny_rule_for_a_tool_of_a_server_fails_closed_for_that_server(
    check: Check,
) -> None:
    policy = check.policy("auto", extra_deny=["mcp__files(x"])
    assert policy.fail_closed == {"mcp__files": "mcp__files(x"}


def test_a_rule_for_a_tool_given_as_known_is_valid(check: Check) -> None:
    policy = check.policy("auto", extra_deny=["deploy"], known_tools=["deploy"])
    assert policy.problems == [] and policy.fail_closed_all is None
    assert [rule.text for rule in policy.rules("deny")] == ["deploy"]
    unknown = check.policy("auto", extra_deny=["deploy"])
    assert unknown.fail_closed_all == "deploy"


def test_the_mode_given_wins_over_the_configured_one(check: Check) -> None:
    from app.config import ApprovalConfig

    policy = ApprovalPolicy(ApprovalConfig(mode="auto"), check.workspace, mode="read-only")
    assert policy.mode == "read-only"
    assert check(policy, "shell", command="touch x").action == "deny"


def test_session_rules_are_kept_once_each(check: Check) -> None:
    policy = check.policy("ask")
    policy.add_session_rule("shell(make *)")
    policy.add_session_rule("shell(make *)")
    policy.add_session_rule("shell(rm *)", "deny")
    assert policy.session_rules() == ["shell(make *)"]
    assert policy.session_rules("deny") == ["shell(rm *)"]
    assert check(policy, "shell", command="make test").rule == "shell(make *)"


def test_proposed_rules_for_each_kind_of_tool(registry: ToolRegistry, workspace: Path) -> None:
    def proposed(tool: str, **args: object) -> str | None:
        chosen = registry.get(tool)
        return propose_rule(chosen, chosen.parse_args(args), workspace)

    assert proposed("shell", command="npm test") == "shell(npm test *)"
    assert proposed("ask_human", question="Which?") is None
    assert (
        proposed("web_fetch", url="https://Docs.Example.COM/a")
        == "web_fetch(domain:docs.example.com)"
    )
    assert proposed("web_fetch", url="file:///etc/passwd") is None
    assert (
        proposed("write_file", path="docs/[draft].md", content="")
        == "write_file(docs/[[]draft].md)"
    )
    assert proposed("write_file", path="../outside.md", content="") is None
    assert proposed("list_dir") == "list_dir(.)"


def test_path_rules_see_through_links_both_ways(check: Check, workspace: Path) -> None:
    (workspace / "docs").mkdir()
    (workspace / "src").mkdir()
    (workspace / "src" / "main.py").write_text("x\n")
    (workspace / "docs" / "out").symlink_to(workspace / "src" / "main.py")
    # An allow rule matches only where the write really lands: not through the link.
    allow = check.policy("ask", allow=["write_file(docs/**)"])
    assert check(allow, "write_file", path="docs/out", content="x").action == "ask"
    # Deny and ask rules hold for the path as written as well.
    deny = check.policy("auto", deny=["write_file(docs/**)"])
    assert check(deny, "write_file", path="docs/out", content="x").action == "deny"
    ask = check.policy("auto", ask=["write_file(docs/**)"])
    assert check(ask, "write_file", path="docs/out", content="x") == PolicyDecision(
        "ask", "write_file(docs/**)", "rule `write_file(docs/**)` asks", "rule"
    )


def test_a_known_safe_part_before_the_covered_one_does_not_end_the_check(
    check: Check,
) -> None:
    policy = check.policy("ask", allow=["shell(touch *)"])
    assert check(policy, "shell", command="ls && touch x") == PolicyDecision(
        "allow", "shell(touch *)", "allowed by rule `shell(touch *)`", "rule", True
    )


def test_why_a_command_is_not_plain_lists_every_reason(check: Check) -> None:
    parsed_reasons = "expansion, redirection"
    decision = check(check.policy("ask"), "shell", command="echo $X > f")
    assert decision.reason == (
        f"the command is not a plain command ({parsed_reasons}), so it needs approval"
    )
    empty = check(check.policy("ask"), "shell", command="   ")
    assert empty.reason == "the command is not a plain command (no command), so it needs approval"


def test_an_invalid_deny_rule_is_pinned_on_the_tool_named_first(check: Check) -> None:
    policy = check.policy("auto", extra_deny=["write_file(a(b"])
    assert policy.fail_closed == {"write_file": "write_file(a(b"}


def test_session_rules_know_the_extra_tools(check: Check) -> None:
    policy = check.policy("ask", known_tools=["deploy"])
    assert policy.add_session_rule("deploy").tool == "deploy"
