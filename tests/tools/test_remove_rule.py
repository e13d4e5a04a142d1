"""Removing a saved approval rule from a TOML file: comments and other keys stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.paths import workspace_config_file
from app.tools.rules import RuleError, read_rules_file, remove_rule, save_rule

USER_CONFIG = """\
# my settings
[ui]
theme = "nord"  # the one I like

[approval]
# things I trust
allow = [
    "shell(git status)",
    # tests are fine
    "shell(npm test *)",
]
deny = ["shell(rm *)"]  # never
"""


def test_removes_the_rule_and_keeps_comments_and_other_keys(
    tmp_path: Path, workspace: Path
) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text(USER_CONFIG)

    assert remove_rule("shell(git status)", "allow", "user", user_config, workspace)

    text = user_config.read_text()
    assert "shell(git status)" not in text
    for kept in (
        "# my settings",
        'theme = "nord"  # the one I like',
        "# things I trust",
        "# tests are fine",
        '"shell(npm test *)"',
        'deny = ["shell(rm *)"]  # never',
    ):
        assert kept in text
    assert read_rules_file(user_config) == {
        "allow": ["shell(npm test *)"],
        "ask": [],
        "deny": ["shell(rm *)"],
    }


def test_removes_only_from_the_kind_named(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text(USER_CONFIG)

    assert not remove_rule("shell(rm *)", "allow", "user", user_config, workspace)
    assert remove_rule(" shell(rm *) ", "deny", "user", user_config, workspace)

    assert read_rules_file(user_config)["deny"] == []
    assert read_rules_file(user_config)["allow"] == ["shell(git status)", "shell(npm test *)"]


def test_removes_from_the_workspace_file(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text(USER_CONFIG)
    path = save_rule("edit_file(src/**)", "allow", "workspace", user_config, workspace)
    assert path == workspace_config_file(workspace)

    assert remove_rule("edit_file(src/**)", "allow", "workspace", user_config, workspace)

    assert read_rules_file(path)["allow"] == []
    # The other scope's rules are not touched (saving the person's own allow rule made the
    # workspace file trusted: that is remembered at the end of the user's config).
    assert user_config.read_text().startswith(USER_CONFIG)
    assert "[approval.trusted_workspaces]" in user_config.read_text()


def test_a_rule_saved_twice_by_hand_goes_entirely(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text('[approval]\nallow = ["shell(ls *)", "shell(pwd)", "shell(ls *)"]\n')

    assert remove_rule("shell(ls *)", "allow", "user", user_config, workspace)

    assert read_rules_file(user_config)["allow"] == ["shell(pwd)"]


def test_a_missing_file_is_not_created(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"

    assert not remove_rule("shell(ls *)", "allow", "user", user_config, workspace)
    assert not remove_rule("shell(ls *)", "allow", "workspace", user_config, workspace)

    assert not user_config.exists()
    assert not workspace_config_file(workspace).exists()


@pytest.mark.parametrize(
    "text",
    [
        '[ui]\ntheme = "nord"\n',  # no [approval] table
        '[approval]\ndeny = ["shell(rm *)"]\n',  # no allow list
        USER_CONFIG,  # the list, without that rule
    ],
)
def test_a_missing_rule_leaves_the_file_as_it_was(
    tmp_path: Path, workspace: Path, text: str
) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text(text)
    before = user_config.stat().st_mtime_ns

    assert not remove_rule("shell(make *)", "allow", "user", user_config, workspace)

    assert user_config.read_text() == text
    assert user_config.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[approval]\nallow = ["shell(ls *)"\n', "cannot be read as TOML"),
        ('approval = "yes"\n', "'approval' in .* is not a table"),
        ('[approval]\nallow = "shell(ls *)"\n', "approval.allow in .* is not a list"),
    ],
)
def test_a_broken_file_raises_and_stays_untouched(
    tmp_path: Path, workspace: Path, text: str, message: str
) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_text(text)

    with pytest.raises(RuleError, match=message):
        remove_rule("shell(ls *)", "allow", "user", user_config, workspace)

    assert user_config.read_text() == text
    assert [path.name for path in tmp_path.glob(".config.toml.*")] == []  # no temp file left


def test_a_file_that_is_not_text_raises(tmp_path: Path, workspace: Path) -> None:
    user_config = tmp_path / "config.toml"
    user_config.write_bytes(b"\xff\xfe[approval]\n")

    with pytest.raises(RuleError, match="cannot be read"):
        remove_rule("shell(ls *)", "allow", "user", user_config, workspace)

    assert user_config.read_bytes() == b"\xff\xfe[approval]\n"
