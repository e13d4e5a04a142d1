"""Rule parsing, proposed "always allow" rules, and saving rules into TOML files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.config import ApprovalConfig, load_settings, read_workspace_rules
from app.paths import workspace_config_file
from app.tools.policy import ApprovalPolicy
from app.tools.registry import ToolRegistry
from app.tools.rules import RuleError, parse_rule, read_rules_file, save_rule


@pytest.mark.parametrize(
    ("text", "tool", "specifier"),
    [
        ("shell", "shell", None),
        (" shell(git status *) ", "shell", "git status *"),
        ("write_file(src/**)", "write_file", "src/**"),
        ("web_fetch(domain:Docs.Python.org)", "web_fetch", "domain:docs.python.org"),
        ("mcp__github__create_issue", "mcp__github__create_issue", None),
    ],
)
def test_valid_rules(text: str, tool: str, specifier: str | None) -> None:
    rule = parse_rule(text)
    assert (rule.tool, rule.specifier) == (tool, specifier)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shell(", "not of the form"),
        ("shel(ls)", "unknown tool 'shel'"),
        ("shell()", "empty pattern"),
        ("shell(echo 'x)", "cannot be split"),
        ("web_fetch(example.com)", "domain:"),
        ("edit_file(../x)", "relative to the workspace"),
        ("ask_human(x)", "take no pattern"),
    ],
)
def test_invalid_rules_say_why(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(")):
        parse_rule(text)


@pytest.fixture
def propose(registry: ToolRegistry, workspace: Path) -> Any:
    policy = ApprovalPolicy(ApprovalConfig(), workspace)

    def proposal(tool: str, **args: Any) -> str | None:
        chosen = registry.get(tool)
        return policy.propose_rule(chosen, chosen.parse_args(args))

    return proposal


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("git status -s", "shell(git status *)"),
        ("git commit -m 'fix bug'", "shell(git commit *)"),
        ("npm run test -- --watch", "shell(npm run test *)"),
        ("cargo build --release", "shell(cargo build *)"),
        ("docker compose up -d", "shell(docker compose *)"),
        ("kubectl get pods", "shell(kubectl get *)"),
        ("pip install -e .", "shell(pip install *)"),
        ("uv run pytest -q", "shell(uv run pytest *)"),
        ("pytest -x tests", "shell(pytest *)"),
        ("timeout 60 make test", "shell(make test *)"),
        ("git", "shell(git)"),
        ("git add . && git add -A", "shell(git add *)"),
        ("git push && git status", "shell(git push *)"),
    ],
)
def test_proposed_shell_rules(propose: Any, command: str, rule: str) -> None:
    assert propose("shell", command=command) == rule


@pytest.mark.parametrize(
    "command",
    [
        "bash -c 'make'",
        "sh script.sh",
        "python x.py",
        "python3.12 -m http.server",
        "node server.js",
        "npx prettier .",
        "env FOO=1 make",
        "sudo apt install x",
        "xargs rm",
        "ssh host ls",
        "eval echo hi",
        "rm -rf build",
        "rm file.txt",
        "find . -delete",
        "uv run python x.py",
        "./deploy.sh",
        "git -C sub status",
        "make > log",
        "echo $(date)",
        "git add . && git commit -m x",
    ],
)
def test_no_proposal_for_interpreters_destructive_or_non_plain(propose: Any, command: str) -> None:
    assert propose("shell", command=command) is None


def test_proposals_never_cover_rm(propose: Any) -> None:
    for command in ("r", "rm", "git rm x", "npm run rm"):
        rule = propose("shell", command=command)
        assert rule is None or not parse_rule(rule).matches_words(["rm", "-rf", "x"])


def test_proposals_for_other_tools(propose: Any) -> None:
    assert propose("edit_file", path="./src/app.py", old="a", new="b") == "edit_file(src/app.py)"
    assert propose("write_file", path="docs/[draft]*.md", content="") == (
        "write_file(docs/[[]draft][*].md)"
    )
    assert propose("write_file", path="../x", content="") is None
    assert propose("web_fetch", url="https://Docs.Python.org/3/") == (
        "web_fetch(domain:docs.python.org)"
    )
    assert propose("ask_human", question="?") is None


def test_proposed_rules_cover_the_call(
    propose: Any, registry: ToolRegistry, workspace: Path
) -> None:
    tool = registry.get("write_file")
    args = tool.parse_args({"path": "docs/[draft]*.md", "content": ""})
    policy = ApprovalPolicy(ApprovalConfig(), workspace)
    rule = policy.propose_rule(tool, args)
    assert rule is not None
    policy.add_session_rule(rule)
    assert policy.evaluate(tool, args).action == "allow"
    other = tool.parse_args({"path": "docs/draft-2.md", "content": ""})
    assert policy.evaluate(tool, other).action == "ask"


CONFIG_WITH_COMMENTS = """\
# My AgentKit settings
default_model = "openai/gpt-4.1-mini"  # the usual one

[approval]
# ask before anything risky
mode = "ask"
allow = [
    "shell(git status *)",  # harmless
]

[ui]
theme = "nord"
"""


def test_save_rule_keeps_comments_and_other_keys(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "home" / "config.toml"
    user_config.parent.mkdir()
    user_config.write_text(CONFIG_WITH_COMMENTS)
    path = save_rule("shell(npm test *)", "allow", "user", user_config, workspace)
    assert path == user_config
    text = user_config.read_text()
    for kept in ("# My AgentKit settings", "# the usual one", "# ask before anything risky",
                 "# harmless", 'theme = "nord"'):  # fmt: skip
        assert kept in text
    data = tomllib.loads(text)
    assert data["approval"]["allow"] == ["shell(git status *)", "shell(npm test *)"]
    save_rule("shell(npm test *)", "allow", "user", user_config, workspace)  # no duplicate
    save_rule("shell(rm *)", "deny", "user", user_config, workspace)
    settings = load_settings(user_config, env={})
    assert settings.approval.allow == ["shell(git status *)", "shell(npm test *)"]
    assert settings.approval.deny == ["shell(rm *)"]
    assert settings.ui.theme == "nord"


def test_save_rule_creates_the_workspace_file(tmp_path: Path, workspace: Path) -> None:
    path = save_rule("edit_file(src/**)", "allow", "workspace", tmp_path / "u.toml", workspace)
    assert path == workspace_config_file(workspace) and path.exists()
    assert read_rules_file(path) == {"allow": ["edit_file(src/**)"], "ask": [], "deny": []}
    # The person's own "always allow in this workspace": the new file is trusted as it is.
    settings = load_settings(tmp_path / "u.toml", env={})
    found = read_workspace_rules(path, settings)
    assert found is not None and found.trusted and found.allow == ("edit_file(src/**)",)


def test_save_rule_adds_the_table_to_a_file_without_it(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text('# just a comment\n[ui]\ntheme = "nord"\n')
    save_rule("shell(ls *)", "deny", "user", user_config, workspace)
    text = user_config.read_text()
    assert text.startswith('# just a comment\n[ui]\ntheme = "nord"\n')
    assert tomllib.loads(text)["approval"] == {"deny": ["shell(ls *)"]}


def test_save_rule_refuses_bad_rules_and_broken_files(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"
    with pytest.raises(RuleError):
        save_rule("shell()", "allow", "user", user_config, workspace)
    user_config.write_text("this is = = not toml")
    with pytest.raises(RuleError, match="cannot be read as TOML"):
        save_rule("shell(ls *)", "allow", "user", user_config, workspace)
    assert user_config.read_text() == "this is = = not toml"
