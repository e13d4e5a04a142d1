"""What ``agentkit models`` shows: every provider, whether it is ready, the default and why.

Nothing here prints; :func:`describe_models` returns a :class:`ModelsReport` and
:func:`format_report` renders it as plain lines for a terminal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Literal

import httpx
from pydantic import BaseModel, BeforeValidator, Field

from app import secretenv
from app.config import Settings
from app.llm.demo import DEMO_MODEL
from app.llm.models import (
    DEFAULT_MODELS,
    PROBE_TIMEOUT,
    Detection,
    detect_default,
    probe_ollama,
    providers,
)
from app.llm.windows import Source, context_window
from app.textsafe import redact_url_credentials

#: Under a demo default, ``agentkit models`` says how to get a real model (the app's own
#: notice, ``DEMO_NOTICE``, points here, so this one points at the config file instead).
MODELS_DEMO_NOTICE = (
    "This is the offline demo model: scripted replies, no network. For a real model set "
    "OPENAI_API_KEY or ANTHROPIC_API_KEY, start Ollama, or add a [providers.NAME] entry and "
    "default_model to your config file: `agentkit config init` writes one with every key, "
    "commented, and `agentkit config edit` opens it."
)

#: Text that may quote a provider's URL: its credentials are masked whatever built it
#: (``base_url``, a probe's error, the reason for the default), for the text and --json.
Shown = Annotated[str, BeforeValidator(redact_url_credentials)]


class ProviderStatus(BaseModel):
    """One provider: where it is, whether it can be used, and the models it offers."""

    name: str
    kind: Literal["openai", "anthropic", "ollama", "demo"]
    base_url: Shown
    source: Literal["config", "environment", "built-in"]
    ready: bool
    detail: Shown
    models: list[str] = Field(default_factory=list)
    #: Context windows in tokens, for the models whose window is known.
    context_windows: dict[str, int] = Field(default_factory=dict)
    #: Where each of those figures came from: ``config``, ``provider`` or ``built-in``.
    context_window_sources: dict[str, Source] = Field(default_factory=dict)


class ModelsReport(BaseModel):
    """Everything ``agentkit models`` needs to say."""

    default: str
    default_reason: Shown
    providers: list[ProviderStatus]
    aliases: dict[str, str] = Field(default_factory=dict)


async def describe_models(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
) -> ModelsReport:
    """Find out which providers are usable, which model is the default and why."""
    env = secretenv.environ() if env is None else env
    detection: Detection = await detect_default(
        settings, env, transport=transport, probe_timeout=probe_timeout
    )
    statuses: list[ProviderStatus] = []
    for name, config in providers(settings, env).items():
        configured = name in settings.providers
        key_env = config.api_key_env
        has_key = bool(key_env and env.get(key_env))
        models = list(config.models)
        if config.kind == "ollama":
            probed = detection.ollama_models is not None or detection.ollama_error is not None
            if config.effective_base_url() == detection.ollama_url and probed:
                found, error = detection.ollama_models, detection.ollama_error
            else:
                found, error = await probe_ollama(
                    config.effective_base_url(), wait=probe_timeout, transport=transport
                )
            ready = bool(found)
            models = models or list(found or [])
            if found:
                detail = f"answering, {len(found)} models"
            elif found == []:
                detail = "answering, but no models pulled (ollama pull MODEL)"
            else:
                detail = f"not reachable ({error})"
        elif key_env and not has_key:
            ready, detail = False, f"{key_env} is not set"
        else:
            ready = True
            detail = f"key from {key_env}" if key_env else "no key needed"
        if not configured and not ready and config.kind != "ollama":
            continue  # an implicit provider nobody set up: not worth a line
        source: Literal["config", "environment", "built-in"] = (
            "config" if configured else ("environment" if has_key else "built-in")
        )
        if not models and ready and config.kind != "ollama" and not configured:
            models = [_default_model(config.kind)]
        statuses.append(
            ProviderStatus(
                name=name,
                kind=config.kind,
                base_url=config.effective_base_url(),
                source=source,
                ready=ready,
                detail=detail,
                models=models,
            )
        )
    statuses.append(
        ProviderStatus(
            name=DEMO_MODEL,
            kind="demo",
            base_url="(offline)",
            source="built-in",
            ready=True,
            detail="scripted offline replies",
            models=[DEMO_MODEL],
        )
    )
    await _add_windows(settings, env, statuses, transport)
    return ModelsReport(
        default=detection.default,
        default_reason=detection.reason,
        providers=statuses,
        aliases=dict(settings.aliases),
    )


async def _add_windows(
    settings: Settings,
    env: Mapping[str, str],
    statuses: list[ProviderStatus],
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    """Fill in each listed model's window: asked of the ready providers all at once (one
    model list per server, one ``/api/show`` per Ollama model; each under a timeout)."""
    from app.llm.gateway import Gateway  # the HTTP clients: only when a report is made

    names = [
        model if status.kind == "demo" else f"{status.name}/{model}"
        for status in statuses
        for model in status.models
        if status.ready
    ]
    async with Gateway(settings, env, transport=transport) as gateway:
        await asyncio.gather(*(gateway.provider_window(name) for name in names))
        reported = dict(gateway.windows)
    for status in statuses:
        for model in status.models:
            name = model if status.kind == "demo" else f"{status.name}/{model}"
            window = context_window(settings, name, reported)
            if window is not None:
                status.context_windows[model] = window.tokens
                status.context_window_sources[model] = window.source


def _default_model(kind: str) -> str:
    return DEFAULT_MODELS.get(kind, "")


def format_report(report: ModelsReport) -> str:
    """The report as plain text lines (no markup), for ``agentkit models``."""
    lines = [f"default: {report.default}", f"  why: {report.default_reason}", "", "providers:"]
    for status in report.providers:
        mark = "ok" if status.ready else "--"
        lines.append(f"  [{mark}] {status.name} ({status.kind}, {status.source}) {status.base_url}")
        lines.append(f"       {status.detail}")
        for model in status.models:
            name = model if status.kind == "demo" else f"{status.name}/{model}"
            suffix = "  (default)" if name == report.default else ""
            window = status.context_windows.get(model)
            source = status.context_window_sources.get(model, "")
            size = f"  {window // 1000:,}k context ({source})" if window else ""
            lines.append(f"       - {name}{size}{suffix}")
    if report.aliases:
        lines += ["", "aliases:"]
        lines += [f"  {alias} = {target}" for alias, target in sorted(report.aliases.items())]
    if report.default == DEMO_MODEL:
        lines += ["", MODELS_DEMO_NOTICE]
    return "\n".join(lines)
