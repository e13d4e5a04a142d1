"""Context windows that providers report: asked once per run, over real HTTP to the loopback
fake, in their place in the precedence (config, provider, built-in table)."""

from __future__ import annotations

import asyncio
import time

from app.config import Settings
from app.llm.describe import describe_models, format_report
from app.llm.windows import context_window, listed_windows, ollama_window
from tests.fakes.provider import FakeProvider
from tests.fakes.support import API_KEY, GatewayFactory


async def test_an_openai_compatible_list_is_asked_once_for_all_its_models(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.catalogue = {"qwen3-coder": 262_144, "small": 4_096}
    gateway = make_gateway()
    assert await gateway.provider_window("fake/qwen3-coder") == 262_144
    assert await gateway.provider_window("fake/small") == 4_096
    assert await gateway.provider_window("fake/unlisted") is None
    assert [(r.method, r.path) for r in fake.info_requests] == [("GET", "/models")]
    assert fake.info_requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    window = context_window(gateway.settings, "fake/qwen3-coder", gateway.windows)
    assert window is not None and (window.tokens, window.source) == (262_144, "provider")


async def test_vllm_max_model_len_is_read(fake: FakeProvider, make_gateway: GatewayFactory) -> None:
    fake.catalogue, fake.catalogue_key = {"meta-llama/Llama-3.1-8B": 32_768}, "max_model_len"
    assert await make_gateway().provider_window("fake/meta-llama/Llama-3.1-8B") == 32_768


async def test_ollama_is_asked_per_model_with_api_show(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.catalogue = {"llama3.1:8b": 131_072}
    gateway = make_gateway("ollama", api_key_env=None)
    assert await gateway.provider_window("fake/llama3.1:8b") == 131_072
    assert await gateway.provider_window("fake/llama3.1:8b") == 131_072  # cached
    assert await gateway.provider_window("fake/missing") is None  # a 404: not reported
    assert [(r.method, r.path) for r in fake.info_requests] == [("POST", "/api/show")] * 2
    assert fake.info_requests[0].json()["model"] == "llama3.1:8b"
    # Ollama serves the num_ctx it is asked for: the budget is capped unless configured.
    window = context_window(gateway.settings, "fake/llama3.1:8b", gateway.windows)
    assert window is not None and (window.tokens, window.source) == (8_192, "provider")


async def test_a_slow_lookup_falls_back_quietly_and_is_not_repeated(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.info_hold = True
    gateway = make_gateway()
    gateway.window_timeout = 0.3
    started = time.monotonic()
    assert await gateway.provider_window("fake/gpt-4o") is None
    assert time.monotonic() - started < 5
    assert await gateway.provider_window("fake/gpt-4o") is None
    assert len(fake.info_requests) == 1
    window = context_window(gateway.settings, "fake/gpt-4o", gateway.windows)
    assert window is not None and window.source == "built-in"


async def test_concurrent_lookups_share_one_request(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.catalogue = {"a": 10_000, "b": 20_000}
    gateway = make_gateway()
    found = await asyncio.gather(*(gateway.provider_window(f"fake/{m}") for m in "abab"))
    assert found == [10_000, 20_000, 10_000, 20_000] and len(fake.info_requests) == 1


async def test_the_demo_and_hosts_known_to_say_nothing_are_not_asked(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway(base_url="https://api.openai.com/v1")
    assert await gateway.provider_window("fake/gpt-4o") is None
    assert await gateway.provider_window("demo") is None
    assert await make_gateway("anthropic").provider_window("fake/claude-x") is None
    assert fake.info_requests == []


def test_config_beats_the_provider_which_beats_the_table() -> None:
    settings = Settings.model_validate(
        {
            "providers": {
                "one": {"kind": "openai", "base_url": "http://[::1]:9", "context_window": 9_000},
                "two": {
                    "kind": "openai",
                    "base_url": "http://127.0.0.1:9",
                    "context_windows": {"gpt-4o": 7_000},
                },
                "three": {"kind": "openai", "base_url": "http://127.0.0.1:9"},
            }
        }
    )
    reported = {"one/gpt-4o": 50_000, "two/gpt-4o": 50_000, "three/gpt-4o": 50_000}
    found = {
        name: context_window(settings, f"{name}/gpt-4o", reported)
        for name in ("one", "two", "three")
    }
    assert {k: (w.tokens, w.source) for k, w in found.items() if w} == {
        "one": (9_000, "config"),
        "two": (7_000, "config"),
        "three": (50_000, "provider"),
    }
    builtin = context_window(settings, "three/gpt-4o", {"three/gpt-4o": None})
    assert builtin is not None and (builtin.tokens, builtin.source) == (128_000, "built-in")


def test_model_lists_of_real_servers_are_read() -> None:
    body = {
        "data": [
            {"id": "openrouter/a", "context_length": 200_000},
            {"id": "openrouter/b", "top_provider": {"context_length": 65_536}},
            {"id": "llamacpp", "meta": {"n_ctx_train": 131_072, "n_vocab": 1}},
            {"id": "groq", "context_window": 131_072},
            {"id": "none"},
            {"id": "nonsense", "context_length": "big"},
            "not an entry",
        ]
    }
    assert listed_windows(body) == {
        "openrouter/a": 200_000,
        "openrouter/b": 65_536,
        "llamacpp": 131_072,
        "groq": 131_072,
    }
    assert listed_windows(["not", "a", "list"]) == {}
    show = {"model_info": {"general.architecture": "qwen3", "qwen3.context_length": 40_960}}
    assert ollama_window(show) == 40_960
    assert ollama_window({"model_info": {"x.context_length": True}}) is None
    assert ollama_window({"details": {}}) is None


async def test_agentkit_models_shows_what_the_provider_reported(fake: FakeProvider) -> None:
    fake.catalogue = {"served": 65_536}
    settings = Settings.model_validate(
        {
            "providers": {
                "local": {"kind": "openai", "base_url": fake.url, "models": ["served", "gpt-4o"]}
            }
        }
    )
    report = await describe_models(settings, env={"OLLAMA_HOST": "127.0.0.1:9"}, probe_timeout=0.2)
    local = next(p for p in report.providers if p.name == "local")
    assert local.context_windows == {"served": 65_536, "gpt-4o": 128_000}
    assert local.context_window_sources == {"served": "provider", "gpt-4o": "built-in"}
    text = format_report(report)
    assert "local/served  65k context (provider)" in text
    assert "local/gpt-4o  128k context (built-in)" in text
    assert '"context_window_sources"' in report.model_dump_json()
