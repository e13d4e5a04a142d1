"""Engine parts on their own: event shapes, routing, skills, agents, the cancel token."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.engine.cancel import CancellationToken, TurnCancelled, cancellable, cancellable_iter
from app.engine.events import (
    CallStep,
    ConfirmationRequestData,
    ConfirmationRequestEvent,
    FinalAnswerEvent,
    ResultStep,
    SkillMatchData,
    SkillMatchEvent,
    StepEvent,
    TokenEvent,
    ToolCallData,
    ToolResultData,
    from_wire,
    notice,
    result,
    short_error,
    to_wire,
)
from app.engine.router import SimpleRouter, is_greeting
from app.engine.skills import (
    BUILTIN_SKILLS_DIR,
    ExecutionMode,
    SkillFileError,
    load_skills,
    parse_skill,
    resolve_agent,
)

# ----------------------------------------------------------------------------- events

GOLDEN: list[tuple[Any, dict[str, Any]]] = [
    (TokenEvent(content="Hel"), {"type": "token", "content": "Hel"}),
    (
        FinalAnswerEvent(content="Done."),
        {"type": "final_answer", "content": "Done.", "is_final": True},
    ),
    (
        SkillMatchEvent(data=SkillMatchData(skill="review", method="prefix", confidence=1.0)),
        {"type": "skill_match", "data": {"skill": "review", "method": "prefix", "confidence": 1.0}},
    ),
    (
        StepEvent(
            data=CallStep(
                step=1, data=ToolCallData(id="call_1", name="shell", arguments={"command": "ls"})
            )
        ),
        {
            "type": "step",
            "data": {
                "event_type": "tool_call",
                "step": 1,
                "data": {"id": "call_1", "name": "shell", "arguments": {"command": "ls"}},
            },
        },
    ),
    (
        StepEvent(
            data=ResultStep(
                step=1, data=ToolResultData(id="call_1", name="shell", output="...", is_error=False)
            )
        ),
        {
            "type": "step",
            "data": {
                "event_type": "tool_result",
                "step": 1,
                "data": {"id": "call_1", "name": "shell", "output": "...", "is_error": False},
            },
        },
    ),
    (
        ConfirmationRequestEvent(
            data=ConfirmationRequestData(confirmation_id="k", command="rm x", reason="why")
        ),
        {
            "type": "confirmation_request",
            "data": {"confirmation_id": "k", "command": "rm x", "reason": "why"},
        },
    ),
    (result("cancelled"), {"type": "result", "data": {"status": "cancelled"}}),
    (
        notice("mode_fallback", "REWOO is not built yet"),
        {"type": "notice", "data": {"code": "mode_fallback", "message": "REWOO is not built yet"}},
    ),
]


@pytest.mark.parametrize(("event", "wire"), GOLDEN)
def test_events_serialise_to_exactly_the_wire_shapes(event: Any, wire: dict[str, Any]) -> None:
    assert to_wire(event) == wire
    assert from_wire(wire) == event


def test_unknown_shapes_are_rejected() -> None:
    with pytest.raises(ValueError):
        from_wire({"type": "tokens", "content": "x"})
    with pytest.raises(ValueError):
        from_wire({"type": "token", "content": "x", "extra": 1})


def test_errors_are_one_short_line() -> None:
    event = short_error("Traceback:\n  boom\n" + "x" * 500)
    assert "\n" not in event.data.message and len(event.data.message) == 200


# ----------------------------------------------------------------------------- routing


@pytest.fixture
def router() -> SimpleRouter:
    return SimpleRouter(load_skills([BUILTIN_SKILLS_DIR]))


@pytest.mark.parametrize(
    "text", ["hi", "Hello!", "thanks", "Thank you very much!!", "merci", "谢谢", "Danke schön 🙏"]
)
def test_greetings_are_direct_chat(router: SimpleRouter, text: str) -> None:
    routed = router.route(text, resolve_agent(Settings()))
    assert routed.execution_mode == ExecutionMode.DIRECT_CHAT and is_greeting(text)


@pytest.mark.parametrize(
    "text", ["hi, can you fix the build", "thanks, now run the tests", "hiccup"]
)
def test_a_greeting_with_a_request_is_not_a_greeting(router: SimpleRouter, text: str) -> None:
    assert router.route(text, resolve_agent(Settings())).execution_mode == ExecutionMode.REACT


def test_skill_prefixes(router: SimpleRouter) -> None:
    agent = resolve_agent(Settings())
    exact = router.route("@review  src/app.py please", agent)
    assert exact.matched and exact.skill_name == "review" and exact.match_method == "prefix"
    assert exact.clean_content == "src/app.py please"
    assert exact.execution_mode == ExecutionMode.SKILL_REACT
    assert exact.tools == ["list_dir", "read_file", "find_files", "search_text"]
    assert exact.system_prompt.startswith(agent.system_prompt)
    planned = router.route("@plan ship 1.0", agent)
    assert planned.execution_mode == ExecutionMode.PLAN_EXEC
    ambiguous = router.route("@e", agent)  # explain … (one skill) is unique
    assert ambiguous.skill_name == "explain"
    unknown = router.route("@zzz hello", agent)
    assert not unknown.matched and unknown.local_reply and "@review" in unknown.local_reply


def test_plan_and_team_commands(router: SimpleRouter) -> None:
    agent = resolve_agent(Settings())
    assert router.route("/plan build it", agent).execution_mode == ExecutionMode.PLAN_EXEC
    team = router.route("/team review the API", agent)
    assert (
        team.execution_mode == ExecutionMode.TEAM_COLLAB and team.clean_content == "review the API"
    )


# ----------------------------------------------------------------------------- skills


def test_later_folders_override_and_broken_files_are_reported(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "review.md").write_text(
        "---\nname: review\ndescription: mine\n---\nMy review prompt.\n"
    )
    (user / "broken.md").write_text("no front matter here")
    (user / "bad-mode.md").write_text("---\nname: bad\nmode: sideways\n---\nBody.\n")
    loaded = load_skills([BUILTIN_SKILLS_DIR, user])
    assert loaded.skills["review"].description == "mine"
    assert loaded.skills["review"].tools is None
    assert "explain" in loaded.skills  # the others still load
    assert len(loaded.problems) == 2
    assert any("broken.md" in p and "front-matter" in p for p in loaded.problems)
    assert any("bad-mode.md" in p and "sideways" in p for p in loaded.problems)


def test_skill_parsing_errors_are_specific() -> None:
    with pytest.raises(SkillFileError, match="empty"):
        parse_skill("---\nname: x\n---\n\n")
    with pytest.raises(SkillFileError, match="line 2"):
        parse_skill("---\ncolour: red\n---\nBody\n")
    with pytest.raises(SkillFileError, match="lower-case"):
        parse_skill("---\nname: Not OK\n---\nBody\n")


def test_agents_from_config_and_the_builtin_default() -> None:
    settings = Settings.model_validate(
        {"agents": {"coder": {"system_prompt": "Code.", "model": "fast", "tools": ["shell"]}}}
    )
    coder = resolve_agent(settings, "coder")
    assert (coder.system_prompt, coder.model, coder.tools) == ("Code.", "fast", ["shell"])
    default = resolve_agent(settings)
    assert default.name == "default" and "AgentKit" in default.system_prompt
    with pytest.raises(KeyError, match="unknown agent 'ghost'"):
        resolve_agent(settings, "ghost")


# ----------------------------------------------------------------------------- cancel


async def test_cancellable_stops_a_waiting_task_at_once() -> None:
    token = CancellationToken()
    started = asyncio.Event()
    cleaned = asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.set()

    waiting = asyncio.ensure_future(cancellable(slow(), token))
    await started.wait()
    token.cancel("user")
    with pytest.raises(TurnCancelled):
        await waiting
    assert cleaned.is_set()


async def test_children_follow_their_parent_and_cancel_is_idempotent() -> None:
    parent = CancellationToken()
    child = parent.child()
    calls: list[str] = []
    child.on_cancel(lambda: calls.append("child"))
    parent.cancel("shutdown")
    parent.cancel("again")
    assert child.cancelled and child.reason == "shutdown" and calls == ["child"]
    alone = CancellationToken().child()
    alone.cancel()
    assert alone.cancelled


async def test_cancellable_iter_closes_the_iterator() -> None:
    token = CancellationToken()
    closed = asyncio.Event()

    async def numbers() -> Any:
        try:
            for number in range(10):
                yield number
                if number == 2:
                    token.cancel()
        finally:
            closed.set()

    seen = []
    with pytest.raises(TurnCancelled):
        async for number in cancellable_iter(numbers(), token):
            seen.append(number)
    assert seen == [0, 1, 2] and closed.is_set()


async def test_cancel_from_another_thread() -> None:
    token = CancellationToken()
    await asyncio.to_thread(token.cancel)
    await asyncio.wait_for(token.wait(), 5)
    assert token.cancelled


# ----------------------------------------------------------------------------- terminal


async def test_terminal_human_reads_answers_and_leaves_no_reader_behind() -> None:
    import io
    import os

    from app.engine.human import ConfirmationRequest, TerminalHuman

    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end, "r")
    stderr = io.StringIO()
    person = TerminalHuman(stdin=stdin, stderr=stderr)
    request = ConfirmationRequest(
        confirmation_id="k",
        tool="shell",
        command="touch \x1b[31mx",
        reason="It runs a command",
        access="exec",
        workspace="/w",
        proposed_rule="shell(touch *)",
    )
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(person.confirm(request), 0.05)  # nobody answered in time
    os.write(write_end, b"a\n")
    decision = await asyncio.wait_for(person.confirm(request), 5)
    assert decision.action == "approve_always" and decision.rule == "shell(touch *)"
    assert "\x1b" not in stderr.getvalue()  # the model's escape codes are not replayed
    os.close(write_end)
    stdin.close()
