"""Plan and team runs under a small window complete: each phase and each expert fits its own
nested history (old tool output elided) before every call, so the provider never refuses.

The loopback fake enforces the window (a largest request body) and answers anything bigger
with OpenAI's "context too long" 400, as a real server does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.engine.conftest import Harness
from tests.engine.test_context_budget import TOO_LONG
from tests.engine.test_plan import plan_json
from tests.engine.test_team import FAKES, lead_plan, roster
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events

WINDOW = 6_000
#: Each file read returns about 3,000 tokens: two of them pass 80 % of the window.
FILE_CHARS = 12_000


def _limit(fake: FakeProvider) -> None:
    fake.max_request_bytes = WINDOW * 4
    fake.too_long = TOO_LONG


def _reads(count: int) -> list[Reply]:
    """``count`` steps that each read one big file (a different one each time)."""
    steps = []
    for index in range(count):
        call = (f"call_{index}", "read_file", [json.dumps({"path": f"big{index}.txt"})])
        steps.append(Reply(body=list(openai_tool_call_events([call], usage=None))))
    return steps


def _text(text: str) -> Reply:
    """An answer with no usage: the tiny counts a script would report would teach the
    estimate that requests are smaller than they are."""
    return openai_reply([text])


def _big_files(harness: Harness) -> None:
    for index in range(4):
        (harness.workspace / f"big{index}.txt").write_text(f"file {index}\n" + "y" * FILE_CHARS)


def _fitted(turn: Any) -> int:
    """How many of the nested runs' calls were fitted (their notices become progress notes)."""
    notes = [e.data for e in turn.of("plan_step") + turn.of("expert_step")]
    return sum(1 for n in notes if n.kind == "note" and "To fit the context window" in n.content)


async def test_a_plan_run_completes_under_a_small_window(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(fake_options={"context_window": WINDOW})
    _limit(harness.fake)
    _big_files(harness)
    harness.script(
        _text(plan_json("p1", "p2")),
        *_reads(4),
        _text("P1 found: " + "r" * 3_000),  # a long result, handed to p2
        *_reads(4),
        _text("P2 done."),
        _text("All done."),
    )
    turn = await harness.turn("/plan read every big file")
    assert turn.status == "completed", [e.data for e in turn.of("error")]
    assert [e.data.phase_id for e in turn.of("phase_completed")] == ["p1", "p2"]
    assert turn.of("final_answer")[0].content == "All done."
    assert _fitted(turn) > 0  # the phases' own histories were trimmed…
    assert harness.fake.refused == 0  # …so every request fitted the window
    stored = await harness.store.get_messages(harness.session_id)
    whole = [m for m in stored if m.role == "tool" and len(m.content) > FILE_CHARS]
    assert len(whole) == 8  # the session keeps every output in full


async def test_a_team_run_completes_under_a_small_window(
    make_harness: Callable[..., Any],
) -> None:
    team: Harness = await make_harness(
        extra_fakes=FAKES, teams=roster(), fake_options={"context_window": WINDOW}
    )
    _big_files(team)
    for name in ("fake", *FAKES):
        _limit(team.fakes.get(name, team.fake))
    for name in FAKES:  # the experts' windows are what their servers report
        team.fakes[name].catalogue = {"m": WINDOW}
    team.script(_text(lead_plan()), _text("Team answer."))
    team.fakes["fa"].script(*_reads(4), _text("Alice found: " + "a" * 3_000))
    team.fakes["fb"].script(*_reads(4), _text("Bob built: " + "b" * 3_000))
    team.fakes["fc"].script(_text("Cleo approves."))
    turn = await team.turn("/team read every big file")
    assert turn.status == "completed", [e.data for e in turn.of("error")]
    done = sorted((e.data.expert_id, e.data.status) for e in turn.of("expert_result"))
    assert done == [("a", "done"), ("b", "done"), ("c", "done")]
    assert turn.of("final_answer")[0].content == "Team answer."
    assert _fitted(turn) > 0
    assert [team.fakes.get(n, team.fake).refused for n in ("fake", *FAKES)] == [0, 0, 0, 0]
