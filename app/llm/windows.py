"""Context windows: how many tokens a model can take, from the config or a small table."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Window:
    """A model's context window in tokens, and where that figure came from."""

    tokens: int
    source: str  # "config" | "built-in"


def context_window(settings: Settings, model: str) -> Window | None:
    """The window of ``provider/model``: the config's figure, else the built-in table."""
    provider, _, name = model.partition("/")
    if not name:
        provider, name = "", model
    config = settings.providers.get(provider)
    if config is not None:
        if name in config.context_windows:
            return Window(config.context_windows[name], "config")
        if config.context_window:
            return Window(config.context_window, "config")
    for pattern, tokens in BUILTIN_WINDOWS:
        if re.search(pattern, name, re.IGNORECASE):
            return Window(tokens, "built-in")
    return None
