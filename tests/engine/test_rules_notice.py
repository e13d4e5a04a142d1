"""The ``workspace_rules`` notice: the first turn of each session in a process names the
workspace rules in force — deny and ask rules, the allow rules if the file is trusted or how
many are not — and the rules the policy found invalid (issue 12, items 5 and 10)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import read_workspace_rules, with_workspace_rules
from app.engine.service import ChatService
from app.paths import workspace_config_file
from app.wiring import build_service
from tests.engine.conftest import Harness


def _service(harness: Harness, workspace: Path, tmp_path: Path) -> ChatService:
    """A service as the CLI builds it: the workspace file's rules read and merged."""
    rules = read_workspace_rules(workspace_config_file(workspace), harness.settings)
    return build_service(
        with_workspace_rules(harness.settings, rules),
        harness.store,
        harness.gateway,
        workspace=workspace,
        user_config_file=tmp_path / "config.toml",
        workspace_rules=rules,
    )


async def _notices(service: ChatService, session_id: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    async for event in service.send(session_id, "hello", human=_NoOne()):
        if event.type == "notice":
            found.append((event.data.code, event.data.message))
    return found


class _NoOne:
    async def confirm(self, request: Any) -> Any:
        raise AssertionError("nothing should ask")

    async def ask(self, question: Any) -> str:
        raise AssertionError("nothing should ask")


async def test_the_first_turn_of_each_session_names_the_rules_in_force(
    make_harness: Callable[..., Any], workspace: Path, tmp_path: Path
) -> None:
    harness: Harness = await make_harness()
    rules_file = workspace_config_file(workspace)
    rules_file.parent.mkdir()
    rules_file.write_text(
        '[approval]\nallow = ["shell", "edit_file(src/**)"]\nask = ["web_fetch"]\n'
        'deny = ["shell(rm *)", "shell(git \'push)"]\n'
    )
    service = _service(harness, workspace, tmp_path)
    harness.script(harness.text("one"), harness.text("two"), harness.text("three"))

    first = await _notices(service, harness.session_id)
    again = await _notices(service, harness.session_id)
    other = await _notices(service, (await harness.store.create_session("default")).id)

    told = [message for code, message in first if code == "workspace_rules"]
    assert told == [
        f"Workspace rules from {rules_file}: deny shell(rm *), shell(git 'push); ask web_fetch; "
        "2 allow rules not trusted, so ignored (shell, edit_file(src/**)); invalid deny rule: "
        'rule "shell(git \'push)": the command pattern cannot be split (No closing quotation); '
        "shell will ask before every call"
    ]
    assert [code for code, _ in again] == []  # once per session in this process
    assert [code for code, _ in other] == ["workspace_rules"]
    assert service.settings.approval.allow == []


async def test_no_rules_file_means_no_notice(
    make_harness: Callable[..., Any], workspace: Path, tmp_path: Path
) -> None:
    harness: Harness = await make_harness()
    harness.script(harness.text("one"))
    assert await _notices(_service(harness, workspace, tmp_path), harness.session_id) == []
