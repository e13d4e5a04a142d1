"""Rules as the preview and the policy match them: which calls a rule would match, server
tools, bare rules, and every way a rule or a rules file can be refused, word for word
(written against the mutation report, tests/mutation/run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.rules import Rule, RuleError, matching_calls, parse_rule, read_rules_file

CALLS = [
    ("shell", {"command": "git  push origin main"}),
    ("shell", {"command": "git status"}),
    ("shell", {"command": "echo 'unclosed"}),
    ("write_file", {"path": "docs/a.md", "content": "x"}),
    ("write_file", {"path": "src/a.py", "content": "x"}),
    ("web_fetch", {"url": "https://Docs.Python.org/3/"}),
    ("mcp__files__read", {"path": "x"}),
]


def test_which_calls_a_rule_would_match(workspace: Path) -> None:
    def names(text: str) -> list[str]:
        return [
            f"{name}:{sorted(args.values())[0]}"
            for name, args in matching_calls(text, CALLS, workspace)
        ]

    assert names("shell(git push *)") == ["shell:git  push origin main"]
    assert names("shell(git *)") == ["shell:git  push origin main", "shell:git status"]
    assert names("shell(echo *)") == ["shell:echo 'unclosed"]  # not splittable: words as typed
    assert names("shell") == [
        "shell:git  push origin main",
        "shell:git status",
        "shell:echo 'unclosed",
    ]
    assert names("write_file(docs/**)") == ["write_file:docs/a.md"]
    assert names("web_fetch(domain:docs.python.org)") == ["web_fetch:https://Docs.Python.org/3/"]
    assert names("mcp__files") == ["mcp__files__read:x"]
    assert matching_calls("read_file", CALLS, workspace) == []
    with pytest.raises(RuleError):
        matching_calls("shell(", CALLS, workspace)


def test_a_server_rule_covers_its_tools_and_no_other() -> None:
    server = parse_rule("mcp__files")
    assert server.covers_tool("mcp__files") and server.covers_tool("mcp__files__read")
    assert not server.covers_tool("mcp__filesystem__read")
    assert not server.covers_tool("mcp__other__read")
    shell = Rule("shell", "shell", None)
    assert shell.covers_tool("shell") and not shell.covers_tool("shell__x")


def test_a_bare_shell_rule_matches_every_command() -> None:
    bare = parse_rule("shell")
    assert bare == Rule("shell", "shell", None)
    assert bare.matches_words(["rm", "-rf", "x"]) and bare.matches_text("anything at all")
    narrow = parse_rule("shell(git status)")
    assert narrow.matches_text("git   status") and not narrow.matches_text("git statusx")
    assert not narrow.matches_text("git") and narrow.matches_words(["git", "status"])


def test_path_and_domain_rules_match_calls(workspace: Path) -> None:
    class Args:
        def __init__(self, **values: object) -> None:
            self.__dict__.update(values)

    docs = parse_rule("write_file(docs/**)")
    assert docs.matches_call("write_file", Args(path="docs/x.md"), workspace, written=False)
    assert not docs.matches_call("write_file", Args(path="src/x.md"), workspace, written=False)
    assert not docs.matches_call("read_file", Args(path="docs/x.md"), workspace, written=False)
    everything = parse_rule("list_dir(**)")
    assert everything.matches_call("list_dir", Args(path=None), workspace, written=False)
    web = parse_rule("web_fetch(domain:example.com)")
    assert web.matches_call(
        "web_fetch", Args(url="https://EXAMPLE.com/x"), workspace, written=False
    )
    assert not web.matches_call("web_fetch", Args(url="not a url"), workspace, written=False)
    assert parse_rule("web_fetch").matches_call("web_fetch", Args(), workspace, written=False)
    assert not parse_rule("ask_human").matches_call("shell", Args(), workspace, written=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "shell(",
            "rule 'shell(' is not of the form TOOL or TOOL(pattern), e.g. 'shell(git status *)'",
        ),
        ("frob", "rule 'frob' names an unknown tool 'frob' (known: shell, read_file)"),
        ("shell()", "rule 'shell()' has an empty pattern; write just 'shell' for every call"),
        ("shell(   )", "rule 'shell(   )' has an empty pattern; write just 'shell' for every call"),
        (
            "shell(echo 'x)",
            'rule "shell(echo \'x)": the command pattern cannot be split (No closing quotation)',
        ),
        (
            "read_file(../x)",
            "rule 'read_file(../x)': paths are globs relative to the workspace (no '..' or '~')",
        ),
        (
            "read_file(~/x)",
            "rule 'read_file(~/x)': paths are globs relative to the workspace (no '..' or '~')",
        ),
    ],
)
def test_refused_rules_say_how_to_write_them(text: str, message: str) -> None:
    with pytest.raises(RuleError) as refused:
        parse_rule(text, ("shell", "read_file"))
    assert str(refused.value) == message


def test_rules_keep_their_text_as_written_and_server_tools_are_known() -> None:
    assert parse_rule("  shell  ") == Rule("shell", "shell", None)
    assert parse_rule("read_file(docs/**)").text == "read_file(docs/**)"
    assert parse_rule("mcp__x__y", ()).tool == "mcp__x__y"
    assert parse_rule("read_file(a~b)").specifier == "a~b"


def test_a_rules_file_is_read_or_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert read_rules_file(path) == {"allow": [], "ask": [], "deny": []}  # no file, no rules
    path.write_text('[approval]\nallow = ["shell(ls *)"]\ndeny = []\n')
    assert read_rules_file(path) == {"allow": ["shell(ls *)"], "ask": [], "deny": []}
    path.write_text("[ui]\ntheme = 'x'\n")
    assert read_rules_file(path) == {"allow": [], "ask": [], "deny": []}
    path.write_text("approval = 3\n")
    with pytest.raises(RuleError) as refused:
        read_rules_file(path)
    assert (
        str(refused.value) == f"cannot read approval rules from {path}: 'approval' is not a table"
    )
    path.write_text("[approval]\nallow = 'shell'\n")
    with pytest.raises(RuleError) as refused:
        read_rules_file(path)
    assert (
        str(refused.value)
        == f"cannot read approval rules from {path}: approval.allow is not a list"
    )
    path.write_text("[approval]\ndeny = [1]\n")
    with pytest.raises(RuleError) as refused:
        read_rules_file(path)
    assert (
        str(refused.value) == f"cannot read approval rules from {path}: approval.deny is not a list"
    )
    path.write_text("[approval\n")
    with pytest.raises(RuleError) as refused:
        read_rules_file(path)
    assert str(refused.value).startswith(f"cannot read approval rules from {path}: ")


def test_saving_or_trusting_refuses_config_files_of_the_wrong_shape(tmp_path: Path) -> None:
    from app.tools.rules import save_rule, trust_rules_file

    workspace = tmp_path / "ws"
    workspace.mkdir()
    user = tmp_path / "config.toml"
    for text, message in [
        ("approval = 1\n", f"cannot save the rule: 'approval' in {user} is not a table"),
        ("[[approval]]\n", f"cannot save the rule: 'approval' in {user} is not a table"),
        (
            "[approval]\nallow = 1\n",
            f"cannot save the rule: approval.allow in {user} is not a list",
        ),
    ]:
        user.write_text(text)
        with pytest.raises(RuleError) as refused:
            save_rule("shell(ls *)", "allow", "user", user, workspace)
        assert str(refused.value) == message
    rules_file = workspace / ".agentkit" / "config.toml"
    for text, message in [
        ("approval = 1\n", f"cannot remember the trust: 'approval' in {user} is not a table"),
        ("[[approval]]\n", f"cannot remember the trust: 'approval' in {user} is not a table"),
        (
            "[approval]\ntrusted_workspaces = 1\n",
            f"cannot remember the trust: approval.trusted_workspaces in {user} is not a table",
        ),
    ]:
        user.write_text(text)
        with pytest.raises(RuleError) as refused:
            trust_rules_file(user, rules_file, "sha256:x")
        assert str(refused.value) == message
    user.write_text("[approval\n")
    with pytest.raises(RuleError) as refused:
        trust_rules_file(user, rules_file, "sha256:x")
    assert str(refused.value).startswith(
        f"cannot remember the trust: {user} cannot be read as TOML ("
    )
    user.write_text("# mine\n[approval.trusted_workspaces]\n")
    trust_rules_file(user, rules_file, "sha256:x")
    assert user.read_text().startswith("# mine\n") and "sha256:x" in user.read_text()


def test_a_dot_rule_matches_a_call_without_a_path(workspace: Path) -> None:
    class NoPath:
        path = None

    assert parse_rule("list_dir(.)").matches_call("list_dir", NoPath(), workspace, written=False)


def test_saving_a_workspace_rule_keeps_trust_only_when_it_was_there(tmp_path: Path) -> None:
    from app.tools.rules import save_rule

    workspace = tmp_path / "ws"
    (workspace / ".agentkit").mkdir(parents=True)
    (workspace / ".agentkit" / "config.toml").write_text('[approval]\nallow = ["shell(ls *)"]\n')
    user = tmp_path / "config.toml"
    user.write_text("[ui]\ntheme = 'nord'\n")  # no [approval] at all: nothing trusted
    save_rule("shell(make *)", "allow", "workspace", user, workspace)
    assert "trusted_workspaces" not in user.read_text()
    user.write_text("[approval\n")  # unreadable: not trusted either, and the save still works
    save_rule("shell(make test *)", "allow", "workspace", user, workspace)
    assert user.read_text() == "[approval\n"


def test_trust_is_written_into_a_config_file_whose_folder_does_not_exist_yet(
    tmp_path: Path,
) -> None:
    from app.tools.rules import trust_rules_file

    user = tmp_path / "a" / "b" / "config.toml"
    trust_rules_file(user, tmp_path / "ws" / ".agentkit" / "config.toml", "sha256:x")
    assert "sha256:x" in user.read_text()


def test_the_preview_compares_commands_as_written_and_as_words(workspace: Path) -> None:
    calls = [("shell", {"command": "git commit -m 'a b'"})]
    assert matching_calls("shell(git commit -m a b)", calls, workspace) == calls  # words
    assert matching_calls("shell(git commit -m 'a b')", calls, workspace) == calls  # as written


def test_the_preview_of_a_path_rule_follows_links_as_the_allow_rule_does(workspace: Path) -> None:
    (workspace / "docs").mkdir()
    (workspace / "src").mkdir()
    (workspace / "src" / "main.py").write_text("x\n")
    (workspace / "docs" / "out").symlink_to(workspace / "src" / "main.py")
    calls = [("write_file", {"path": "docs/out", "content": "x"})]
    assert matching_calls("write_file(docs/**)", calls, workspace) == []
    assert matching_calls("write_file(src/**)", calls, workspace) == calls


def test_the_preview_skips_a_shell_call_that_never_had_a_command(workspace: Path) -> None:
    # A call whose arguments did not parse is stored with what could be read ({} here); the
    # policy refused it before any rule was asked, so no rule can have let it run.
    ran = ("shell", {"command": "ls"})
    calls = [
        ("shell", {}),
        ("shell", {"command": ""}),
        ("shell", {"command": None}),
        ("shell", {"command": ["ls"]}),
        ran,
    ]
    assert matching_calls("shell", calls, workspace) == [ran]
    assert matching_calls("shell(*)", calls, workspace) == [ran]
    assert matching_calls("shell(None)", [("shell", {"command": None})], workspace) == []
