"""Approvals through ChatService: approve, deny, remembered rules, timeouts, ask-human."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.engine.human import Decision
from tests.engine.conftest import Harness, ScriptedHuman


async def test_approved_command_runs_and_the_decision_is_logged(harness: Harness) -> None:
    harness.script(
        harness.calls(("shell", {"command": "touch approved.txt"})),
        harness.text("Made it."),
    )
    person = ScriptedHuman(decisions=[Decision(action="approve")])
    turn = await harness.turn("Run echo", human=person)
    assert turn.types[:5] == [
        "step",
        "confirmation_request",
        "confirmation_result",
        "step",
        "token",
    ]
    request = person.requests[0]
    assert request.tool == "shell" and request.command == "touch approved.txt"
    assert request.proposed_rule == "shell(touch *)"
    asked = turn.of("confirmation_request")[0].data
    answered = turn.of("confirmation_result")[0].data
    assert asked.confirmation_id == answered.confirmation_id == request.confirmation_id
    assert answered.approved and answered.decider == "user"
    result = turn.tool_results()[0]
    assert not result.is_error and (harness.workspace / "approved.txt").exists()
    logged = [e.type for e in await harness.store.get_events(harness.session_id)]
    assert "confirmation_request" in logged and "confirmation_result" in logged


async def test_denied_command_is_not_run_and_the_model_is_told(harness: Harness) -> None:
    marker = harness.workspace / "ran.txt"
    harness.script(
        harness.calls(("shell", {"command": f"touch {marker}"})),
        harness.text("Understood."),
    )
    person = ScriptedHuman(decisions=[Decision(action="deny", message="not today")])
    turn = await harness.turn("Make a file", human=person)
    assert not marker.exists()
    result = turn.tool_results()[0]
    assert result.is_error and "denied" in result.output and "not today" in result.output
    assert not turn.of("confirmation_result")[0].data.approved
    told = harness.request(1)["messages"][-1]
    assert told["role"] == "tool" and "It was not run" in told["content"]


async def test_always_approve_makes_a_session_rule(harness: Harness) -> None:
    harness.script(
        harness.calls(("shell", {"command": "mkdir one"})),
        harness.text("ok"),
        harness.calls(("shell", {"command": "mkdir two"})),
        harness.text("ok again"),
    )
    person = ScriptedHuman(decisions=[Decision(action="approve_always", rule="shell(mkdir *)")])
    await harness.turn("first", human=person)
    second = await harness.turn("second", human=person)
    assert len(person.requests) == 1  # not asked again
    decided = second.of("confirmation_result")[0].data
    assert decided.approved and decided.decider == "rule" and decided.rule == "shell(mkdir *)"
    assert (harness.workspace / "two").is_dir()


async def test_always_approve_for_the_workspace_is_saved(harness: Harness) -> None:
    harness.script(harness.calls(("shell", {"command": "mkdir saved"})), harness.text("ok"))
    person = ScriptedHuman(
        decisions=[Decision(action="approve_always", rule="shell(mkdir *)", scope="workspace")]
    )
    await harness.turn("go", human=person)
    saved = (harness.workspace / ".agentkit" / "config.toml").read_text()
    assert "shell(mkdir *)" in saved


async def test_no_answer_in_time_is_a_timeout_not_a_denial(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(approval={"timeout_seconds": 0.2})
    harness.script(harness.calls(("shell", {"command": "touch late"})), harness.text("ok"))
    turn = await harness.turn("go", human=ScriptedHuman(absent=True))
    decided = turn.of("confirmation_result")[0].data
    assert not decided.approved and decided.decider == "timeout"
    output = turn.tool_results()[0].output
    assert "No answer from the person" in output and "not the person's decision" in output
    assert turn.status == "completed"


async def test_deny_rules_beat_allow_rules_without_asking(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(
        approval={"allow": ["shell(rm *)"], "deny": ["shell(rm -rf *)"]}
    )
    victim = harness.workspace / "keep"
    victim.mkdir()
    harness.script(
        harness.calls(("shell", {"command": f"rm -rf {victim}"})), harness.text("Blocked.")
    )
    person = ScriptedHuman()
    turn = await harness.turn("clean up", human=person)
    assert person.requests == [] and victim.exists()
    decided = turn.of("confirmation_result")[0].data
    assert not decided.approved and decided.rule == "shell(rm -rf *)"
    assert "Blocked by the approval policy" in turn.tool_results()[0].output


async def test_read_only_mode_refuses_writes_without_asking(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(approval={"mode": "read-only"})
    harness.script(
        harness.calls(("write_file", {"path": "new.txt", "content": "x"})), harness.text("no")
    )
    person = ScriptedHuman()
    turn = await harness.turn("write", human=person)
    assert person.requests == [] and not (harness.workspace / "new.txt").exists()
    assert turn.tool_results()[0].is_error


async def test_auto_mode_runs_commands_without_asking(make_harness: Callable[..., Any]) -> None:
    harness: Harness = await make_harness(approval={"mode": "auto"})
    harness.script(harness.calls(("shell", {"command": "touch auto.txt"})), harness.text("done"))
    person = ScriptedHuman()
    turn = await harness.turn("go", human=person)
    assert person.requests == []
    assert (harness.workspace / "auto.txt").exists() and not turn.tool_results()[0].is_error
    assert turn.of("confirmation_result")[0].data.decider == "policy"


async def test_ask_human_round_trip(harness: Harness) -> None:
    harness.script(
        harness.calls(("ask_human", {"question": "Which colour?"})),
        harness.text("Blue it is."),
    )
    person = ScriptedHuman(answers=["blue"])
    turn = await harness.turn("Pick a colour with me", human=person)
    asked = turn.of("ask_human")[0]
    assert asked.question == "Which colour?" and person.questions[0].request_id == asked.request_id
    assert turn.tool_results()[0].output.strip().endswith("blue")
    assert turn.status == "completed"


async def test_abort_stops_the_turn_and_skips_later_calls(harness: Harness) -> None:
    harness.script(
        harness.calls(("shell", {"command": "touch a"}), ("shell", {"command": "touch b"})),
    )
    person = ScriptedHuman(decisions=[Decision(action="abort")])
    turn = await harness.turn("two commands", human=person)
    assert turn.status == "cancelled"
    results = turn.tool_results()
    assert [r.is_error for r in results] == [True, True]
    assert "Not run" in results[1].output
    assert len(harness.fake.requests) == 1


async def test_an_invalid_edited_rule_still_answers_the_call(harness: Harness) -> None:
    harness.script(harness.calls(("shell", {"command": "touch once.txt"})), harness.text("ok"))
    person = ScriptedHuman(decisions=[Decision(action="approve_always", rule="shell(unclosed")])
    turn = await harness.turn("go", human=person)
    assert turn.status == "completed"
    assert (harness.workspace / "once.txt").exists()
    assert turn.of("notice")[0].data.code == "rule_not_saved"
    assert turn.of("confirmation_result")[0].data.rule is None


async def test_commands_do_not_see_secret_variables(
    make_harness: Callable[..., Any], monkeypatch: Any
) -> None:
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    harness: Harness = await make_harness(approval={"mode": "auto"})
    harness.script(harness.calls(("shell", {"command": "env"})), harness.text("ok"))
    turn = await harness.turn("print the environment")
    output = turn.tool_results()[0].output
    assert "visible" in output and "sk-should-not-leak" not in output
    stored = await harness.store.search("should")
    assert stored == []


async def test_read_only_denials_say_so_plainly(make_harness: Callable[..., Any]) -> None:
    harness: Harness = await make_harness(approval={"mode": "read-only"})
    harness.script(harness.calls(("shell", {"command": "touch x"})), harness.text("ok"))
    turn = await harness.turn("try")
    assert turn.tool_results()[0].output.startswith("The session is read-only")
