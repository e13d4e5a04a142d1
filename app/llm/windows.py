"""Context windows: how many tokens a model can take, and where that figure came from.

Precedence, first that knows wins: the config's figure for the model
(``[providers.NAME.context_windows]``), the config's figure for the provider
(``[providers.NAME] context_window``), what the provider itself reports (Ollama's
``/api/show``; OpenAI-compatible servers that list ``context_length`` or ``max_model_len``
in ``/models``), then a small built-in table of well-known families.

Provider figures are asked for lazily, once per model (once per server for a ``/models``
list) in a run, by :meth:`app.llm.gateway.Gateway.provider_window`, under a short timeout; a
lookup that fails or is slow counts as "not reported" and is not asked again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from app.config import Settings

#: Well-known families and their windows in tokens, checked 2026-12. First match wins; a
#: model not listed has an unknown window unless the config names it.
BUILTIN_WINDOWS: tuple[tuple[str, int], ...] = (
    (r"claude-(opus|sonnet)-4|claude-sonnet-4-5|claude-haiku-4", 200_000),
    (r"claude-3", 200_000),
    (r"gpt-5", 400_000),
    (r"gpt-4\.1", 1_047_576),
    (r"gpt-4o|gpt-4-turbo|o1|o3|o4-mini", 128_000),
    (r"gpt-3\.5-turbo", 16_385),
    (r"llama-?3\.[123]|llama3\.[123]", 128_000),
    (r"qwen2\.5|qwen3", 32_768),
    (r"mistral-large|mistral-medium|mistral-small", 128_000),
    (r"deepseek", 64_000),
    (r"gemma-?3", 128_000),
    (r"^demo$", 32_000),
)

#: Ollama serves a model with the ``num_ctx`` the request asks for (and silently cuts the
#: front of a longer prompt), so the window we budget for and ask for is at most this much
#: unless the config names a figure. Kept equal to :data:`app.llm.ollama.DEFAULT_NUM_CTX`.
OLLAMA_NUM_CTX_CAP = 8192
#: Seconds a provider lookup may take before it counts as "not reported".
LOOKUP_TIMEOUT = 2.0
#: Hosts whose model lists are known to carry no window: not worth a request.
NO_WINDOW_HOSTS = frozenset({"api.openai.com", "api.anthropic.com"})

Source = Literal["config", "provider", "built-in"]


@dataclass(frozen=True)
class Window:
    """A model's context window in tokens, and where that figure came from."""

    tokens: int
    source: Source


def split_model(model: str) -> tuple[str, str]:
    """``provider/model`` as (provider, model); a bare name has no provider."""
    provider, _, name = model.partition("/")
    return (provider, name) if name else ("", model)


def configured_window(settings: Settings, model: str) -> Window | None:
    """The config's figure for ``provider/model`` (per model, else per provider), if any."""
    provider, name = split_model(model)
    config = settings.providers.get(provider)
    if config is not None:
        if name in config.context_windows:
            return Window(config.context_windows[name], "config")
        if config.context_window:
            return Window(config.context_window, "config")
    return None


def context_window(
    settings: Settings, model: str, reported: Mapping[str, int | None] | None = None
) -> Window | None:
    """The window of ``provider/model``: config, else what the provider reported (from
    ``reported``, keyed by ``provider/model``), else the built-in table; None when unknown."""
    found = configured_window(settings, model)
    if found is not None:
        return found
    provider, name = split_model(model)
    tokens = (reported or {}).get(model)
    window: Window | None = Window(tokens, "provider") if tokens else None
    if window is None:
        for pattern, size in BUILTIN_WINDOWS:
            if re.search(pattern, name, re.IGNORECASE):
                window = Window(size, "built-in")
                break
    if window is not None and _kind(settings, provider) == "ollama":
        window = Window(min(window.tokens, OLLAMA_NUM_CTX_CAP), window.source)
    return window


def _kind(settings: Settings, provider: str) -> str | None:
    config = settings.providers.get(provider)
    if config is not None:
        return config.kind
    return provider if provider in ("openai", "anthropic", "ollama") else None


def worth_asking(kind: str, base_url: str) -> bool:
    """Whether a provider of ``kind`` at ``base_url`` may report windows at all."""
    if kind not in ("openai", "ollama"):
        return False
    return (urlsplit(base_url).hostname or "") not in NO_WINDOW_HOSTS


def _positive(value: Any) -> int | None:
    """``value`` as a window in tokens when it is a plausible one (an int ≥ 256)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 256 else None


def ollama_window(body: Any) -> int | None:
    """The window an Ollama ``/api/show`` reply reports: ``model_info``'s
    ``<architecture>.context_length``."""
    info = body.get("model_info") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        return None
    arch = info.get("general.architecture")
    if isinstance(arch, str) and f"{arch}.context_length" in info:
        return _positive(info[f"{arch}.context_length"])
    for key, value in info.items():
        if isinstance(key, str) and key.endswith(".context_length"):
            return _positive(value)
    return None


#: Where OpenAI-compatible servers put a model's window in their ``/models`` entries:
#: OpenRouter ``context_length``, vLLM ``max_model_len``, Groq ``context_window``, LM Studio
#: ``max_context_length``; llama.cpp ``meta.n_ctx`` (else the trained ``meta.n_ctx_train``).
_LISTED_KEYS = ("context_length", "max_model_len", "context_window", "max_context_length")


def listed_windows(body: Any) -> dict[str, int]:
    """Windows by model id from an OpenAI-compatible ``GET /models`` reply (only the
    models whose entry says one)."""
    items = body.get("data") if isinstance(body, dict) else None
    found: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        tokens = next((_positive(item.get(key)) for key in _LISTED_KEYS if key in item), None)
        top = item.get("top_provider")
        if tokens is None and isinstance(top, dict):
            tokens = _positive(top.get("context_length"))
        meta = item.get("meta")
        if tokens is None and isinstance(meta, dict):
            tokens = _positive(meta.get("n_ctx")) or _positive(meta.get("n_ctx_train"))
        if tokens is not None:
            found[item["id"]] = tokens
    return found
