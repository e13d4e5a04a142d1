""" "Approve all" is the engine's: a question lists the later calls of its step that the policy
will ask about, by call id, and an answer covers exactly the ids it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.engine.human import Decision
from tests.engine.conftest import Harness, ScriptedHuman


async def _harness(make_harness: Callable[..., Any], **approval: Any) -> Harness:
    # A short wait: a question the test did not expect times out instead of hanging.
    made: Harness = await make_harness(approval={"timeout_seconds": 5, **approval})
    return made


async def test_later_calls_are_exactly_those_the_policy_will_ask_about(
    make_harness: Callable[..., Any],
) -> None:
    harness = await _harness(make_harness, allow=["shell(mkdir *)"])
    harness.script(
        harness.calls(
            ("shell", {"command": "touch first.txt"}),  # asks: the question
            ("read_file", {"path": "README.md"}),  # a read
            ("shell", {"command": "ls"}),  # known safe
            ("shell", {"command": "mkdir made"}),  # allowed by a rule
            ("no_such_tool", {}),  # invalid: refused before it could ask
            ("shell", {"command": "touch a.txt"}),  # asks
            ("write_file", {"path": "b.txt", "content": "b"}),  # asks
        ),
        harness.text("All done."),
    )
    person = ScriptedHuman(
        decisions=[Decision(action="approve", covers=("call_5she", "call_6wri"))]
    )
    turn = await harness.turn("do it all", human=person)

    assert len(person.requests) == 1  # the covered calls ran without asking
    request = person.requests[0]
    assert request.call_id == "call_0she"
    assert [(c.call_id, c.tool, c.command) for c in request.later_calls] == [
        ("call_5she", "shell", "touch a.txt"),
        ("call_6wri", "write_file", request.later_calls[1].command),
    ]
    assert "b.txt" in request.later_calls[1].command
    # Subscribers and the wire see the same list.
    asked = turn.of("confirmation_request")[0].data
    assert [later.id for later in asked.later_calls] == ["call_5she", "call_6wri"]
    for name in ("first.txt", "a.txt", "b.txt", "made"):
        assert (harness.workspace / name).exists(), name
    decided = {e.data.confirmation_id: e.data for e in turn.of("confirmation_result")}
    for call_id in ("call_5she", "call_6wri"):
        covered = decided[f"policy-{call_id}"]
        assert covered.approved and covered.decider == "user"
    assert turn.status == "completed"


async def test_a_denial_covering_later_calls_refuses_them_without_asking(
    harness: Harness,
) -> None:
    harness.script(
        harness.calls(
            ("shell", {"command": "touch one"}),
            ("shell", {"command": "touch two"}),
            ("shell", {"command": "touch three"}),
        ),
        harness.text("Fine."),
    )
    person = ScriptedHuman(
        decisions=[Decision(action="deny", message="not now", covers=("call_1she", "call_2she"))]
    )
    turn = await harness.turn("go", human=person)
    assert len(person.requests) == 1
    assert not any((harness.workspace / n).exists() for n in ("one", "two", "three"))
    results = turn.tool_results()
    assert all(r.is_error and "not now" in r.output for r in results)
    assert [e.data.decider for e in turn.of("confirmation_result")] == ["user"] * 3


@pytest.mark.parametrize("covered", ["call_1she", "call_2she"])
async def test_an_answer_ahead_applies_by_call_id_not_by_command_text(
    make_harness: Callable[..., Any], covered: str
) -> None:
    harness = await _harness(make_harness)
    marker = harness.workspace / "a"
    harness.script(
        harness.calls(
            ("shell", {"command": "touch z"}),
            ("shell", {"command": "touch a"}),
            ("shell", {"command": "touch a"}),
        ),
        harness.text("ok"),
    )
    person = ScriptedHuman(
        decisions=[
            Decision(action="approve", covers=(covered,)),
            Decision(action="deny", message="that one not"),
        ]
    )
    turn = await harness.turn("go", human=person)
    asked_again = "call_2she" if covered == "call_1she" else "call_1she"
    assert [r.call_id for r in person.requests] == ["call_0she", asked_again]
    results = {r.id: r for r in turn.tool_results()}
    assert not results[covered].is_error
    assert results[asked_again].is_error and "that one not" in results[asked_again].output
    assert marker.exists()


async def test_covered_ids_do_not_reach_another_step(make_harness: Callable[..., Any]) -> None:
    harness = await _harness(make_harness)
    harness.script(
        harness.calls(("shell", {"command": "touch z"})),
        harness.calls(("shell", {"command": "touch y"}), ("shell", {"command": "touch w"})),
        harness.text("ok"),
    )
    person = ScriptedHuman(
        decisions=[
            # Names an id of the next step's calls: it is not listed, so it decides nothing.
            Decision(action="approve", covers=("call_1she",)),
            Decision(action="approve"),
            Decision(action="approve"),
        ]
    )
    turn = await harness.turn("go", human=person)
    assert [r.call_id for r in person.requests] == ["call_0she", "call_0she", "call_1she"]
    assert person.requests[0].later_calls == ()
    assert (
        "later_calls"
        not in turn.of("confirmation_request")[0].model_dump(exclude_none=True)["data"]
    )
    assert turn.status == "completed"
