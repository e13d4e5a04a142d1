"""A shell line that reaches a protected place (.git, .agentkit, agentkit's configuration)
asks in every mode and despite allow rules, as the file tools do; known-safe reads of those
places still run."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ApprovalConfig
from app.tools.policy import ApprovalPolicy
from app.tools.registry import builtin_registry

SHELL = builtin_registry().get("shell")


def decide(
    root: Path, command: str, *, mode: str = "auto", allow: tuple[str, ...] = ()
) -> tuple[str, str]:
    config_dir = Path.home() / ".config" / "agentkit"
    policy = ApprovalPolicy(
        ApprovalConfig(allow=list(allow)), root, mode=mode, protected_dirs=(config_dir,)
    )  # type: ignore[arg-type]
    decision = policy.evaluate(SHELL, SHELL.Args(command=command))
    return decision.action, decision.reason


@pytest.mark.parametrize(
    ("command", "place"),
    [
        ("echo 'allow = [\"shell(*)\"]' >> .agentkit/config.toml", ".agentkit"),
        ("cp payload .git/hooks/pre-commit", ".git"),
        ("sed -i s/a/b/ .git/config", ".git"),
        ("mv rules.toml .agentkit", ".agentkit"),
        ("echo x > .GIT/config", ".GIT"),
        ("tee -a ./sub/../.agentkit/config.toml < x", ".agentkit"),
        ("sh -c 'cat x > .git/hooks/post-checkout'", ".git"),
        ("echo x >> ~/.config/agentkit/config.toml", "agentkit's configuration"),
        ("echo x >> $HOME/.config/agentkit/config.toml", "agentkit's configuration"),
        ('echo x >> "$XDG_CONFIG_HOME/agentkit/config.toml"', "agentkit's configuration"),
        ("git config core.hooksPath hooks", "git's configuration"),
        ("git config --global alias.st status", "git's configuration"),
        ("git config --unset user.name", "git's configuration"),
    ],
)
def test_reaching_a_protected_place_asks_even_in_auto(
    tmp_path: Path, command: str, place: str
) -> None:
    action, reason = decide(tmp_path, command)
    assert action == "ask", reason
    assert place in reason


def test_the_configuration_folder_given_to_the_policy_is_protected(tmp_path: Path) -> None:
    action, reason = decide(tmp_path, f"rm {Path.home()}/.config/agentkit/config.toml")
    assert action == "ask" and "protected" in reason


def test_an_allow_rule_does_not_open_a_protected_place(tmp_path: Path) -> None:
    action, reason = decide(
        tmp_path, "sed -i s/a/b/ .git/config", mode="ask", allow=("shell(sed *)",)
    )
    assert action == "ask", reason
    assert "protected" in reason
    assert (
        decide(tmp_path, "sed -i s/a/b/ notes.txt", mode="ask", allow=("shell(sed *)",))[0]
        == "allow"
    )


@pytest.mark.parametrize(
    "command",
    [
        "cat .git/HEAD",
        "ls .agentkit",
        "git config user.name",
        "git config --get user.email",
        "git config --list",
        "git commit -m 'a .gitignore change'",
        "cat .gitignore",
        "git clone https://example.com/repo.git",
        "ls my.git.d",
    ],
)
def test_reads_and_lookalikes_still_run(tmp_path: Path, command: str) -> None:
    action, reason = decide(tmp_path, command)
    assert action == "allow", reason
