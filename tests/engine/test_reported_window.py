"""A window only the provider knows: the engine asks once per run and budgets by it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Settings
from app.llm.gateway import Gateway
from app.store import SessionStore
from app.wiring import build_service
from tests.engine.conftest import Harness, ScriptedHuman
from tests.engine.test_context_budget import TOO_LONG
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import ollama_reply, openai_reply, openai_tool_call_events


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


async def _ollama_turn(tmp_path: Path, workspace: Path, window: int | None) -> FakeProvider:
    """One turn to an Ollama model served by the fake (which reports a 40,960 window)."""
    fake = await FakeProvider().start()
    fake.catalogue = {"qwen3:8b": 40_960}
    fake.script(ollama_reply(["Hello."]))
    local: dict[str, Any] = {"kind": "ollama", "base_url": fake.url, "max_retries": 0}
    if window is not None:
        local["context_window"] = window
    settings = Settings.model_validate(
        {"default_model": "local/qwen3:8b", "providers": {"local": local}}
    )
    store = await SessionStore.open(tmp_path / f"ollama-{window}.db")
    gateway = Gateway(settings, env={}, demo_delay=0)
    try:
        service = build_service(
            settings, store, gateway, workspace=workspace, user_config_file=tmp_path / "c.toml"
        )
        session = await store.create_session("default")
        async for _event in service.send(session.id, "Say hello", human=ScriptedHuman()):
            pass
    finally:
        await gateway.aclose()
        await store.close()
        await fake.stop()
    return fake


async def test_ollama_is_asked_for_the_window_it_is_budgeted_for(
    tmp_path: Path, workspace: Path
) -> None:
    # Ollama cuts the front of a prompt longer than num_ctx without a word: ask for what the
    # budget assumes — the reported window capped at 8,192, or the configured one.
    reported = await _ollama_turn(tmp_path, workspace, None)
    assert [r.path for r in reported.info_requests] == ["/api/show"]
    assert reported.requests[-1].json()["options"]["num_ctx"] == 8_192
    configured = await _ollama_turn(tmp_path, workspace, 16_000)
    assert configured.info_requests == []  # the config says: nothing to ask
    assert configured.requests[-1].json()["options"]["num_ctx"] == 16_000
