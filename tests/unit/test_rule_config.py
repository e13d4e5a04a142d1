"""Approval rules in config files (issue 12, items 5 and 10): an invalid rule of the user's
config or environment is a one-line config error (exit 2); a workspace's own rules file is
untrusted content, so an invalid rule there never stops the app, and its allow rules count only
once the person trusted the file — which ``agentkit config show`` says."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from app.cli import main
from app.config import (
    ConfigError,
    load_settings,
    read_workspace_rules,
    rules_notice,
    with_workspace_rules,
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            'allow = ["shell(git status)"]\ndeny = ["shel(rm *)"]\n',
            "line 3, key approval.deny: rule 'shel(rm *)' names an unknown tool 'shel'",
        ),
        (
            'ask = ["web_fetch(docs.python.org)"]\n',
            "line 2, key approval.ask: rule 'web_fetch(docs.python.org)': web_fetch rules "
            "look like 'web_fetch(domain:docs.python.org)'",
        ),
        (
            'deny = ["shell(rm \'x)"]\n',
            'line 2, key approval.deny: rule "shell(rm \'x)": the command pattern cannot be split',
        ),
        (
            'allow = ["write_file(../outside/**)"]\n',
            "line 2, key approval.allow: rule 'write_file(../outside/**)': paths are globs",
        ),
    ],
)
def test_an_invalid_rule_in_the_user_config_is_a_config_error(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path, rules: str, expected: str
) -> None:
    config = agentkit_home / "config.toml"
    config.write_text("[approval]\n" + rules)

    code, out, err = run(capsys, "config", "show")

    assert code == 2 and out == ""
    assert err.startswith(f"agentkit: error: config error in {config}, {expected}")
    assert err.count("\n") == 1


def test_an_invalid_rule_in_the_environment_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_APPROVAL__DENY", '["shell(rm *)", "rm"]')

    code, _, err = run(capsys, "config", "show")

    assert code == 2 and err.count("\n") == 1
    assert err.startswith(
        "agentkit: error: config error in environment, AGENTKIT_APPROVAL__DENY "
        "(key approval.deny): rule 'rm' names an unknown tool 'rm'"
    )


def test_valid_rules_and_mcp_tools_load(agentkit_home: Path) -> None:
    config = agentkit_home / "config.toml"
    config.write_text(
        '[approval]\nallow = ["mcp__github", "web_fetch(domain:*.python.org)"]\n'
        'deny = ["shell(rm *)", "write_file(secrets/**)"]\n'
    )
    from app.cli.context import check_rule as _check_rule

    settings = load_settings(config, {}, check_rule=_check_rule)
    assert settings.approval.allow == ["mcp__github", "web_fetch(domain:*.python.org)"]


def test_without_a_rule_check_only_the_form_is_checked(agentkit_home: Path) -> None:
    config = agentkit_home / "config.toml"
    config.write_text('[approval]\ndeny = ["shel(rm *)"]\n')
    assert load_settings(config, {}).approval.deny == ["shel(rm *)"]


# --------------------------------------------------------------------------- workspace file


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = (tmp_path / "repo").resolve()
    (root / ".agentkit").mkdir(parents=True)
    return root


def _rules_file(workspace: Path) -> Path:
    return workspace / ".agentkit" / "config.toml"


def test_a_workspace_file_with_invalid_rules_does_not_stop_the_app(
    capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    _rules_file(workspace).write_text(
        '[approval]\ndeny = ["shel(rm *)", "shell(rm *)"]\nask = ["!!"]\n'
    )

    code, out, err = run(capsys, "config", "show", "--workspace", str(workspace))

    assert code == 0, err
    assert "#   deny shel(rm *)\n" in out and "#   ask !!\n" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[approval]\nmode = "auto"\n', "may only hold [approval] allow, ask and deny rules"),
        ("[approval]\nallow = 'shell'\n", "key approval.allow: expected a list of rules"),
        ("allow = [", "invalid TOML"),
    ],
)
def test_a_workspace_file_that_is_not_a_rules_file_is_still_an_error(
    workspace: Path, text: str, expected: str
) -> None:
    _rules_file(workspace).write_text(text)
    with pytest.raises(ConfigError, match="config error in .*" + expected.replace("[", r"\[")):
        read_workspace_rules(_rules_file(workspace), load_settings(None, {}))


def test_untrusted_allow_rules_are_left_out_and_deny_and_ask_rules_kept(workspace: Path) -> None:
    _rules_file(workspace).write_text(
        '[approval]\nallow = ["shell"]\nask = ["web_fetch"]\ndeny = ["shell(rm *)"]\n'
    )
    user = load_settings(None, {"AGENTKIT_APPROVAL__ALLOW": '["read_file"]'})
    rules = read_workspace_rules(_rules_file(workspace), user)
    assert rules is not None and rules.needs_trust and not rules.changed

    merged = with_workspace_rules(user, rules).approval
    assert (merged.allow, merged.ask, merged.deny) == (
        ["read_file"],
        ["web_fetch"],
        ["shell(rm *)"],
    )

    digest = "sha256:" + hashlib.sha256(_rules_file(workspace).read_bytes()).hexdigest()
    trusted = load_settings(
        None, {"AGENTKIT_APPROVAL__TRUSTED_WORKSPACES": json.dumps({str(rules.file): digest})}
    )
    rules = read_workspace_rules(_rules_file(workspace), trusted)
    assert rules is not None and rules.trusted and not rules.needs_trust
    assert with_workspace_rules(trusted, rules).approval.allow == ["shell"]


def test_config_show_tells_the_trust_state(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path, workspace: Path
) -> None:
    _rules_file(workspace).write_text('[approval]\nallow = ["shell"]\n')
    where = ("--workspace", str(workspace))

    code, out, _ = run(capsys, "config", "show", *where)
    assert code == 0
    assert "#   not trusted: its allow rules are ignored until you trust the file" in out
    assert "#   allow shell (ignored: not trusted)" in out

    digest = "sha256:" + hashlib.sha256(_rules_file(workspace).read_bytes()).hexdigest()
    (agentkit_home / "config.toml").write_text(
        f'[approval.trusted_workspaces]\n"{_rules_file(workspace)}" = "{digest}"\n'
    )
    code, out, _ = run(capsys, "config", "show", "--json", *where)
    shown = json.loads(out)
    assert shown["workspace_rules"]["trusted"] is True
    assert shown["workspace_rules"]["allow"] == ["shell"]
    assert shown["approval"]["trusted_workspaces"] == {str(_rules_file(workspace)): digest}

    _rules_file(workspace).write_text('[approval]\nallow = ["shell"] \n')
    code, out, _ = run(capsys, "config", "show", *where)
    assert "#   changed since you trusted it" in out


def test_a_link_to_another_workspaces_trusted_file_is_not_trusted(
    tmp_path: Path, workspace: Path
) -> None:
    _rules_file(workspace).write_text('[approval]\nallow = ["shell"]\n')
    digest = "sha256:" + hashlib.sha256(_rules_file(workspace).read_bytes()).hexdigest()
    settings = load_settings(
        None,
        {
            "AGENTKIT_APPROVAL__TRUSTED_WORKSPACES": json.dumps(
                {str(_rules_file(workspace)): digest}
            )
        },
    )
    cloned = tmp_path / "cloned"
    (cloned / ".agentkit").mkdir(parents=True)
    (cloned / ".agentkit" / "config.toml").symlink_to(_rules_file(workspace))

    rules = read_workspace_rules(cloned.resolve() / ".agentkit" / "config.toml", settings)

    assert rules is not None and rules.digest == digest and not rules.trusted


def test_rules_are_named_without_control_or_bidi_characters(workspace: Path) -> None:
    _rules_file(workspace).write_text(
        '[approval]\nallow = ["shell(echo \\u001b[31mred)"]\ndeny = ["shell(rm \\u202e x)"]\n'
    )
    rules = read_workspace_rules(_rules_file(workspace), load_settings(None, {}))
    assert rules is not None and rules.allow == ("shell(echo \x1b[31mred)",)

    told = rules_notice(rules, [])
    assert told is not None
    assert told.endswith(
        "deny shell(rm ? x); 1 allow rule not trusted, so ignored (shell(echo ?[31mred))"
    )
    assert "(shell(echo ?[31mred)) is ignored" in rules.ignored_note()
