"""Model names and providers: resolve ``provider/model``, aliases and ``default``; auto-detect.

A model name is ``provider/model`` (the model part may itself contain ``/``, as on
OpenRouter), an alias from ``[aliases]``, ``default`` or ``demo``. The providers are the
``[providers.NAME]`` entries of the config plus three implicit ones, used when the config
does not name them: ``openai`` (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``), ``anthropic``
(``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``) and ``ollama`` (``OLLAMA_HOST``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx
from pydantic import ValidationError

from app.config import ProviderConfig, Settings
from app.llm.demo import DEMO_MODEL
from app.llm.errors import ConfigurationError

Kind = Literal["openai", "anthropic", "ollama", "demo"]

#: The model picked for an auto-detected provider that has no model list of its own.
DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-4.1-mini", "anthropic": "claude-sonnet-4-5"}
OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
PROBE_TIMEOUT = 0.3


class NeedsDefault(ConfigurationError):
    """The name leads to ``default`` and the default model is not known yet."""


@dataclass(frozen=True)
class ResolvedModel:
    """A model name made concrete: which provider, which protocol, which model id."""

    name: str
    provider: str
    kind: Kind
    model: str
    config: ProviderConfig | None = None


@dataclass
class Detection:
    """The default model, and a sentence saying why it was chosen."""

    default: str
    reason: str
    ollama_url: str = OLLAMA_DEFAULT_URL
    ollama_models: list[str] | None = None
    ollama_error: str | None = None
    notes: list[str] = field(default_factory=list)


def ollama_url(env: Mapping[str, str]) -> str:
    """The Ollama base URL from ``OLLAMA_HOST`` (``host``, ``host:port`` or a URL), else local."""
    host = env.get("OLLAMA_HOST", "").strip().rstrip("/")
    if not host:
        return OLLAMA_DEFAULT_URL
    # As Ollama's own client reads it: no scheme means http on 11434; a scheme means 80/443.
    default_port = "11434"
    if "://" not in host:
        host = "http://" + host
    elif host.startswith("http://"):
        default_port = "80"
    elif host.startswith("https://"):
        default_port = "443"
    scheme, _, rest = host.partition("://")
    netloc, slash, path = rest.partition("/")
    if netloc.startswith("0.0.0.0"):
        netloc = "127.0.0.1" + netloc[len("0.0.0.0") :]
    if ":" not in netloc.rsplit("]", 1)[-1]:
        netloc += ":" + default_port
    return f"{scheme}://{netloc}{slash}{path}".rstrip("/")


def providers(settings: Settings, env: Mapping[str, str]) -> dict[str, ProviderConfig]:
    """The configured providers plus the implicit ``openai``, ``anthropic`` and ``ollama``."""
    found: dict[str, ProviderConfig] = {}
    implicit = {
        "openai": ("openai", env.get("OPENAI_BASE_URL"), "OPENAI_API_KEY"),
        "anthropic": ("anthropic", env.get("ANTHROPIC_BASE_URL"), "ANTHROPIC_API_KEY"),
        "ollama": ("ollama", ollama_url(env), None),
    }
    for name, (kind, base_url, key_env) in implicit.items():
        try:
            found[name] = ProviderConfig(kind=kind, base_url=base_url or None, api_key_env=key_env)
        except ValidationError:
            found[name] = ProviderConfig(
                kind=kind, api_key_env=key_env
            )  # a bad URL in env: ignore it
    found.update(settings.providers)
    return found


def resolve(
    name: str | None,
    settings: Settings,
    known: Mapping[str, ProviderConfig],
    default: str | None,
) -> ResolvedModel:
    """Resolve a model name; ``default`` must be given when the name leads to ``default``."""
    original = (name or "default").strip() or "default"
    current = original
    seen: list[str] = []
    while True:
        if current in seen:
            chain = " → ".join([*seen, current])
            raise ConfigurationError(f"model alias loop: {chain}")
        seen.append(current)
        if current == "default":
            if default is None:
                raise NeedsDefault("no default model could be determined")
            current = default
        elif current in settings.aliases:
            current = settings.aliases[current].strip()
        else:
            break
    if current == DEMO_MODEL or current.startswith(DEMO_MODEL + "/"):
        return ResolvedModel(name=DEMO_MODEL, provider=DEMO_MODEL, kind="demo", model=DEMO_MODEL)
    provider, sep, model = current.partition("/")
    if not sep or not model or not provider:
        raise ConfigurationError(
            f"unknown model {original!r}: use provider/model (like openai/gpt-4.1-mini), "
            f"an alias, 'default' or 'demo'"
        )
    config = known.get(provider)
    if config is None:
        names = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(
            f"unknown provider {provider!r} in model {original!r} (providers: {names}; "
            f"add [providers.{provider}] to config.toml)"
        )
    return ResolvedModel(
        name=f"{provider}/{model}", provider=provider, kind=config.kind, model=model, config=config
    )


async def probe_ollama(
    url: str,
    *,
    wait: float = PROBE_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[list[str] | None, str | None]:
    """Ask an Ollama server for its models within ``wait`` seconds: (models, error)."""
    try:
        # Loading the CA bundle for a TLS context costs ~0.1 s of start-up; a plain-http
        # probe (the usual local Ollama) never uses it.
        plain = url.startswith("http://")
        async with httpx.AsyncClient(
            base_url=url, transport=transport, timeout=wait, verify=not plain
        ) as client:
            async with asyncio.timeout(wait):
                response = await client.get("/api/tags")
        if response.status_code != 200:
            return None, f"HTTP {response.status_code}"
        body = response.json()
    except TimeoutError:
        return None, f"no answer within {int(wait * 1000)} ms"
    except (httpx.HTTPError, ValueError) as exc:
        return None, type(exc).__name__ if not str(exc) else str(exc)
    models = body.get("models", []) if isinstance(body, dict) else []
    names = [str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict)]
    return chat_models(names), None


#: Model ids that cannot chat: embeddings, speech in and out, images, moderation, rerankers,
#: the old completion-only bases. Model lists of OpenAI-compatible servers and of Ollama
#: include them; pickers and default detection leave them out (a configured
#: ``models = [...]`` list is used as it is).
NOT_CHAT_MODELS = re.compile(
    r"embed|(^|[-/:])(tts|whisper|dall-e|gpt-image|moderation|omni-moderation|sora)([-.:]|$)"
    r"|(^|[-/])(davinci|babbage)-00\d|transcribe|(^|[-/:])rerank",
    re.IGNORECASE,
)


def chat_models(names: list[str]) -> list[str]:
    """``names`` without the models that cannot chat (:data:`NOT_CHAT_MODELS`)."""
    return [name for name in names if not NOT_CHAT_MODELS.search(name)]


async def detect_default(
    settings: Settings,
    env: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
) -> Detection:
    """Choose the default model: config first, then API keys, then a local Ollama, then demo."""
    url = ollama_url(env)
    if settings.default_model:
        return Detection(
            settings.default_model,
            "default_model is set (config file or AGENTKIT_DEFAULT_MODEL)",
            url,
        )
    for name, config in settings.providers.items():
        if config.models:
            return Detection(
                f"{name}/{config.models[0]}", f"first model of [providers.{name}] in config", url
            )
    if env.get("OPENAI_API_KEY"):
        via = f" (OPENAI_BASE_URL={env['OPENAI_BASE_URL']})" if env.get("OPENAI_BASE_URL") else ""
        return Detection(f"openai/{DEFAULT_MODELS['openai']}", f"OPENAI_API_KEY is set{via}", url)
    if env.get("ANTHROPIC_API_KEY"):
        return Detection(
            f"anthropic/{DEFAULT_MODELS['anthropic']}", "ANTHROPIC_API_KEY is set", url
        )
    models, error = await probe_ollama(url, wait=probe_timeout, transport=transport)
    if models:
        return Detection(
            f"ollama/{models[0]}",
            f"Ollama answered at {url} ({len(models)} models; using the first)",
            url,
            models,
        )
    why = (
        f"Ollama at {url} has no models (run `ollama pull MODEL`)"
        if models == []
        else f"no Ollama at {url} ({error})"
    )
    return Detection(
        DEMO_MODEL,
        f"nothing configured: no default_model, no OPENAI_API_KEY or ANTHROPIC_API_KEY, {why}",
        url,
        models,
        error,
    )
