"""Model names, auto-detection and what `agentkit models` reports."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.config import ProviderConfig, Settings
from app.llm.describe import describe_models, format_report
from app.llm.errors import ConfigurationError
from app.llm.gateway import Gateway
from app.llm.models import detect_default, ollama_url
from app.llm.types import ChatMessage, ChatRequest
from tests.fakes import scripts
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.support import closed_port

NO_OLLAMA = {"OLLAMA_HOST": f"127.0.0.1:{closed_port()}"}


def _settings(**data: Any) -> Settings:
    return Settings.model_validate(data)


async def test_resolves_provider_model_aliases_and_default() -> None:
    settings = _settings(
        default_model="fast",
        aliases={
            "fast": "groq/llama-3.3-70b-versatile",
            "smart": "anthropic/claude-sonnet-4-5",
            "d": "default",
        },
        providers={
            "groq": {
                "kind": "openai",
                "base_url": "https://api.groq.com/openai/v1",
                "api_key_env": "GROQ_API_KEY",
            }
        },
    )
    async with Gateway(settings, env=NO_OLLAMA) as gateway:
        fast = await gateway.resolve("fast")
        assert (fast.name, fast.provider, fast.kind, fast.model) == (
            "groq/llama-3.3-70b-versatile",
            "groq",
            "openai",
            "llama-3.3-70b-versatile",
        )
        assert (await gateway.resolve("default")).name == fast.name
        assert (await gateway.resolve("d")).name == fast.name
        assert (await gateway.resolve(None)).name == fast.name
        smart = await gateway.resolve("smart")
        assert smart.kind == "anthropic" and smart.config is not None
        assert smart.config.effective_base_url() == "https://api.anthropic.com"
        router = await gateway.resolve("openai/meta-llama/llama-3-70b")
        assert router.model == "meta-llama/llama-3-70b"
        assert (await gateway.resolve("demo")).kind == "demo"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nobody/model-x", "unknown provider 'nobody'"),
        ("gpt-4o", "use provider/model"),
        ("loop", "alias loop"),
    ],
)
async def test_bad_names_are_configuration_errors(name: str, message: str) -> None:
    settings = _settings(aliases={"loop": "pool", "pool": "loop"})
    async with Gateway(settings, env=NO_OLLAMA) as gateway:
        with pytest.raises(ConfigurationError, match=message):
            await gateway.resolve(name)


@pytest.mark.parametrize(
    ("env", "default", "reason"),
    [
        (
            {"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"},
            "openai/gpt-4.1-mini",
            "OPENAI_API_KEY is set",
        ),
        ({"ANTHROPIC_API_KEY": "k"}, "anthropic/claude-sonnet-4-5", "ANTHROPIC_API_KEY is set"),
        ({}, "demo", "no Ollama at"),
    ],
)
async def test_auto_detection_order(env: dict[str, str], default: str, reason: str) -> None:
    detection = await detect_default(_settings(), {**NO_OLLAMA, **env})
    assert detection.default == default and reason in detection.reason


async def test_openai_base_url_from_the_environment(fake: FakeProvider) -> None:
    env = {**NO_OLLAMA, "OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": fake.url + "/v1"}
    fake.script(scripts.openai_reply(["from env"]))
    async with Gateway(_settings(), env=env) as gateway:
        reply = await gateway.chat(ChatRequest(messages=[ChatMessage(role="user", content="hi")]))
    assert reply.message.content == "from env" and reply.model == "openai/gpt-4.1-mini"
    assert fake.requests[0].path == "/v1/chat/completions"
    assert fake.requests[0].headers["authorization"] == "Bearer sk-env"


async def test_ollama_is_detected_at_ollama_host(fake: FakeProvider) -> None:
    fake.script(
        Reply.json(
            200, {"models": [{"name": "qwen3:8b"}, {"name": "llama3:latest"}]}, path="/api/tags"
        )
    )
    env = {"OLLAMA_HOST": fake.url.removeprefix("http://")}
    detection = await detect_default(_settings(), env)
    assert detection.default == "ollama/qwen3:8b"
    assert "Ollama answered" in detection.reason


async def test_a_silent_ollama_is_given_up_on_within_300_ms(fake: FakeProvider) -> None:
    fake.script(Reply(hold=True))
    started = time.monotonic()
    detection = await detect_default(_settings(), {"OLLAMA_HOST": fake.url})
    assert time.monotonic() - started < 1.0
    assert detection.default == "demo" and "within 300 ms" in detection.reason


def test_ollama_host_forms() -> None:
    assert ollama_url({}) == "http://127.0.0.1:11434"
    assert ollama_url({"OLLAMA_HOST": "0.0.0.0"}) == "http://127.0.0.1:11434"
    assert ollama_url({"OLLAMA_HOST": "gpu-box:8080"}) == "http://gpu-box:8080"
    assert ollama_url({"OLLAMA_HOST": "gpu-box"}) == "http://gpu-box:11434"
    assert (
        ollama_url({"OLLAMA_HOST": "https://ollama.example.com/"})
        == "https://ollama.example.com:443"
    )


async def test_configured_default_and_first_provider_model_win() -> None:
    assert (
        await detect_default(_settings(default_model="demo"), {"OPENAI_API_KEY": "k"})
    ).default == "demo"
    settings = _settings(
        providers={
            "local": {"kind": "openai", "base_url": "http://127.0.0.1:1", "models": ["m1", "m2"]}
        }
    )
    assert (await detect_default(settings, {"OPENAI_API_KEY": "k"})).default == "local/m1"


async def test_describe_models_reports_providers_and_why(fake: FakeProvider) -> None:
    fake.script(Reply.json(200, {"models": [{"name": "qwen3:8b"}]}, path="/api/tags"))
    settings = Settings(
        providers={
            "groq": ProviderConfig(
                kind="openai",
                base_url="https://api.groq.com/openai/v1",
                api_key_env="GROQ_API_KEY",
                models=["llama-3.3-70b-versatile"],
            )
        },
        aliases={"fast": "groq/llama-3.3-70b-versatile"},
    )
    report = await describe_models(
        settings, {"OLLAMA_HOST": fake.url, "ANTHROPIC_API_KEY": "sk-ant-secret"}
    )
    assert report.default == "groq/llama-3.3-70b-versatile"
    by_name = {status.name: status for status in report.providers}
    assert by_name["groq"].ready is False and "GROQ_API_KEY is not set" in by_name["groq"].detail
    assert by_name["anthropic"].ready and by_name["anthropic"].source == "environment"
    assert by_name["ollama"].ready and by_name["ollama"].models == ["qwen3:8b"]
    assert "openai" not in by_name  # no key, not configured: not listed
    assert by_name["demo"].ready
    text = format_report(report)
    assert (
        "default: groq/llama-3.3-70b-versatile" in text
        and "fast = groq/llama-3.3-70b-versatile" in text
    )
    assert "sk-ant-secret" not in text


async def test_describe_models_with_nothing_configured_says_demo() -> None:
    report = await describe_models(_settings(), NO_OLLAMA)
    assert report.default == "demo"
    text = format_report(report)
    assert "offline demo model" in text and "OPENAI_API_KEY" in text
    assert "[--] ollama" in text


async def test_gateway_chat_collects_a_whole_reply(fake: FakeProvider) -> None:
    settings = _settings(
        providers={"local": {"kind": "openai", "base_url": fake.url}}, default_model="local/tiny"
    )
    events = scripts.openai_tool_call_events(
        [("c1", "list_dir", ['{"path": "."}'])], text="Looking."
    )
    fake.script(Reply(body=events))
    async with Gateway(settings, env={}) as gateway:
        reply = await gateway.chat(ChatRequest(messages=[ChatMessage(role="user", content="ls")]))
        assert "authorization" not in fake.requests[0].headers  # no api_key_env: no key sent
    assert reply.message.content == "Looking." and reply.message.tool_calls[0].arguments == {
        "path": "."
    }
    assert (
        reply.finish_reason == "tool_calls"
        and reply.usage is not None
        and reply.model == "local/tiny"
    )


async def test_one_client_per_provider_is_reused_and_closed(fake: FakeProvider) -> None:
    settings = _settings(
        providers={"local": {"kind": "openai", "base_url": fake.url}}, default_model="local/tiny"
    )
    gateway = Gateway(settings, env={})
    for _ in range(3):
        fake.script(scripts.openai_reply(["x"]))
        await gateway.chat(ChatRequest(messages=[ChatMessage(role="user", content="hi")]))
    assert len(gateway._clients) == 1
    client = gateway._clients["local"]
    await gateway.aclose()
    assert client.is_closed
