"""Trust in a workspace rules file is remembered by the file's hash in the user's config; the
person's own "always … in this workspace" answer (``save_rule``) and a removal from the
approvals dialog (``remove_rule``) change the file, and must not untrust it when it was trusted
or had no allow rules before — nor trust a file whose allow rules nobody trusted."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.config import load_settings, read_workspace_rules
from app.paths import workspace_config_file
from app.tools.rules import remove_rule, save_rule, trust_rules_file

USER_CONFIG = '# mine\n[approval]\nallow = ["read_file"]  # reading is fine\n'


@pytest.fixture
def user_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(USER_CONFIG)
    return path


def _trusted(user_config: Path, workspace: Path) -> bool:
    rules = read_workspace_rules(workspace_config_file(workspace), load_settings(user_config, {}))
    assert rules is not None
    return rules.trusted


def _trust_now(user_config: Path, workspace: Path) -> None:
    path = workspace_config_file(workspace)
    trust_rules_file(user_config, path, "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest())


def test_trust_is_written_into_the_user_config_keeping_its_comments(
    user_config: Path, workspace: Path
) -> None:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text('[approval]\nallow = ["shell(make *)"]\n')
    assert not _trusted(user_config, workspace)

    _trust_now(user_config, workspace)

    assert _trusted(user_config, workspace)
    assert user_config.read_text().startswith(USER_CONFIG)
    assert load_settings(user_config, {}).approval.allow == ["read_file"]


def test_saving_to_a_trusted_file_keeps_it_trusted(user_config: Path, workspace: Path) -> None:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text('# team rules\n[approval]\nallow = ["shell(make *)"]\n')
    _trust_now(user_config, workspace)

    save_rule("shell(npm test *)", "allow", "workspace", user_config, workspace)
    assert _trusted(user_config, workspace)
    save_rule("shell(rm *)", "deny", "workspace", user_config, workspace)
    assert _trusted(user_config, workspace)
    assert remove_rule("shell(make *)", "allow", "workspace", user_config, workspace)
    assert _trusted(user_config, workspace)
    assert path.read_text().startswith("# team rules\n")


def test_saving_to_an_untrusted_file_with_allow_rules_does_not_trust_it(
    user_config: Path, workspace: Path
) -> None:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text('[approval]\nallow = ["shell"]\n')  # came with the repository

    save_rule("shell(npm test *)", "allow", "workspace", user_config, workspace)
    assert not _trusted(user_config, workspace)
    assert remove_rule("shell(npm test *)", "allow", "workspace", user_config, workspace)
    assert not _trusted(user_config, workspace)
    assert user_config.read_text() == USER_CONFIG


def test_the_first_allow_rule_saved_to_a_file_without_one_is_trusted(
    user_config: Path, workspace: Path
) -> None:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text('[approval]\ndeny = ["shell(rm *)"]\n')  # deny rules need no trust

    save_rule("shell(make *)", "allow", "workspace", user_config, workspace)

    assert _trusted(user_config, workspace)
    rules = read_workspace_rules(path, load_settings(user_config, {}))
    assert rules is not None and rules.allow == ("shell(make *)",)


def test_a_file_changed_behind_the_persons_back_stays_untrusted_after_a_save(
    user_config: Path, workspace: Path
) -> None:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text('[approval]\nallow = ["shell(make *)"]\n')
    _trust_now(user_config, workspace)
    path.write_text('[approval]\nallow = ["shell(make *)", "shell"]\n')  # changed since

    save_rule("shell(ls *)", "allow", "workspace", user_config, workspace)

    assert not _trusted(user_config, workspace)
