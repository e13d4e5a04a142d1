"""A window only the provider knows: the engine asks once per run and budgets by it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.engine.conftest import Harness
from tests.engine.test_context_budget import TOO_LONG
from tests.fakes.provider import Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events


async def test_a_reported_window_is_used_and_asked_for_once(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()  # nothing configured; "test-model" is in no table
    harness.fake.catalogue = {"test-model": 6_000}
    harness.fake.max_request_bytes = 6_000 * 4  # the server refuses what passes its window
    harness.fake.too_long = TOO_LONG
    (harness.workspace / "big.txt").write_text("x" * 12_000)
    turns = 4
    for index in range(turns):
        call = (f"call_{index}", "read_file", [json.dumps({"path": "big.txt"})])
        harness.script(
            Reply(body=list(openai_tool_call_events([call], usage=None))),
            openai_reply([f"Read it ({index})."]),
        )
    told: list[str] = []
    for index in range(turns):
        turn = await harness.turn(f"Read big.txt again ({index}).")
        assert turn.status == "completed", [getattr(e, "data", e) for e in turn.of("error")]
        fitted = [e.data.message for e in turn.of("notice") if e.data.code == "context_fitted"]
        assert all("6,000-token window" in text for text in fitted)
        told.extend(fitted)
    assert told  # the window was known: old output was elided before sending
    assert harness.fake.refused == 0  # every request was fitted under the reported window
    assert len(harness.fake.info_requests) == 1  # one lookup for the run, not one per turn
