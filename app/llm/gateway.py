"""The one door to every model: resolve a name, stream a turn, retry before the first chunk.

``Gateway.stream(request)`` yields the chunk union of :mod:`app.llm.types` for any
configured model; ``chat`` collects a whole reply; ``list_models`` asks a provider what
it serves. One ``httpx.AsyncClient`` per provider is shared by every call and closed by
:meth:`Gateway.aclose`. Failures before the first chunk are retried with exponential
backoff and jitter (honouring ``Retry-After``); after the first chunk an error ends the
stream and the caller keeps what it got. Use ``contextlib.aclosing`` around ``stream``:
closing the iterator closes the HTTP response at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from app import secretenv
from app.config import ProviderConfig, Settings
from app.llm import anthropic, ollama, openai_chat
from app.llm.demo import DEMO_MODEL, DemoModel
from app.llm.errors import (
    AuthError,
    ConfigurationError,
    LLMError,
    ReplyTooLongError,
    StreamError,
    redact,
)
from app.llm.http import get_json, tls_context
from app.llm.models import (
    Detection,
    NeedsDefault,
    ResolvedModel,
    chat_models,
    detect_default,
    providers,
    resolve,
)
from app.llm.pacing import paced_transport
from app.llm.surrogates import ChunkCleaner
from app.llm.transport import Decoder, Endpoint, stream_batches
from app.llm.types import (
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Chunk,
    FinishChunk,
    Piece,
    ReasoningBlock,
    ReasoningChunk,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallChunk,
    UsageChunk,
)
from app.llm.windows import LOOKUP_TIMEOUT, listed_windows, ollama_window, worth_asking

log = logging.getLogger(__name__)

_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)
Sleep = Callable[[float], Awaitable[None]]


class Gateway:
    """Streams chat turns from any configured model; one instance per app."""

    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str] | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        demo_delay: float | None = None,
        probe_timeout: float = 0.3,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        max_retry_wait: float = 60.0,
    ) -> None:
        self.settings = settings
        self.env: Mapping[str, str] = dict(secretenv.environ() if env is None else env)
        self.providers: dict[str, ProviderConfig] = providers(settings, self.env)
        delay = settings.ui.stream_delay_ms / 1000 if demo_delay is None else demo_delay
        self.demo = DemoModel(delay=delay)
        self._transport = transport
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()
        self._probe_timeout = probe_timeout
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_retry_wait = max_retry_wait
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._detection: Detection | None = None
        #: Windows providers reported, by ``provider/model`` (None: asked, not reported).
        self.windows: dict[str, int | None] = {}
        self._window_locks: dict[str, asyncio.Lock] = {}
        self.window_timeout = LOOKUP_TIMEOUT
        self._lists_read: set[str] = set()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every provider's HTTP client."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    # ----------------------------------------------------------------- names

    async def detection(self) -> Detection:
        """The default model and why (detected once, then cached)."""
        if self._detection is None:
            self._detection = await detect_default(
                self.settings,
                self.env,
                transport=self._transport,
                probe_timeout=self._probe_timeout,
            )
        return self._detection

    async def resolve(self, name: str | None = None) -> ResolvedModel:
        """Resolve ``provider/model``, an alias, ``default`` or ``demo``."""
        try:
            return resolve(name, self.settings, self.providers, None)
        except NeedsDefault:
            default = (await self.detection()).default
            return resolve(name, self.settings, self.providers, default)

    # ----------------------------------------------------------------- calls

    async def stream(self, request: ChatRequest) -> AsyncGenerator[Chunk, None]:
        """Yield the reply to ``request`` as chunks; failures before the first one are retried."""
        async with contextlib.aclosing(self.batches(request)) as batches:
            async for batch in batches:
                for piece in batch:
                    yield TextDelta(text=piece) if isinstance(piece, str) else piece

    async def batches(self, request: ChatRequest) -> AsyncGenerator[list[Piece], None]:
        """Yield the reply to ``request`` in batches: everything that arrived since the
        caller last asked, answer text as plain ``str`` and anything else as chunks (the
        engine's path: one hand-off per batch, not per token). Retried like :meth:`stream`."""
        resolved = await self.resolve(request.model)
        if resolved.kind == "demo":
            async with contextlib.aclosing(self.demo.stream(request)) as demo_chunks:
                async for chunk in demo_chunks:
                    yield [chunk]
            return
        endpoint, client, secrets = self._connection(resolved)
        room = self.settings.engine.max_reply_chars  # answer and thinking characters left
        path, payload, decoder_factory = _protocol(resolved, endpoint, request, room)
        deadline = asyncio.get_running_loop().time() + endpoint.call_timeout
        attempt = 0
        while True:
            yielded = False
            cleaner = ChunkCleaner()
            try:
                async with contextlib.aclosing(
                    stream_batches(
                        client, endpoint, path, payload, decoder_factory(), deadline=deadline
                    )
                ) as batches:
                    async for batch in batches:
                        yielded = True
                        out: list[Piece] = []
                        for piece in batch:
                            if isinstance(piece, str):
                                if piece.isascii() and not cleaner.text.held and len(piece) <= room:
                                    room -= len(piece)
                                    out.append(piece)  # the hot path: nothing to clean or cut
                                    continue
                                piece = TextDelta(text=piece)
                            for clean in cleaner.clean(piece):
                                if isinstance(clean, TextDelta | ThinkingDelta):
                                    room -= len(clean.text)
                                    if room < 0:
                                        cut = _cut(clean, room)
                                        if cut.text:
                                            out.append(cut)
                                        if out:
                                            yield out
                                        raise _too_long(resolved.provider, self.settings)
                                out.append(clean)
                        if out:
                            yield out
                return
            except LLMError as exc:
                flushed: list[Piece] = list(cleaner.flush())
                if flushed:
                    yield flushed  # half a character before the break, as U+FFFD
                exc.redact(secrets)
                delay = (
                    None
                    if yielded or not exc.retryable
                    else self._retry_delay(attempt, exc, endpoint)
                )
                loop = asyncio.get_running_loop()
                if delay is not None and loop.time() + delay >= deadline:
                    delay = None  # no time left for another attempt
                if delay is None:
                    if attempt:
                        exc.message += f" (gave up after {attempt + 1} attempts)"
                        exc.args = (exc.message,)
                    raise
                attempt += 1
                log.info("%s; retry %d in %.2f s", exc.message, attempt, delay)
                await self._sleep(delay)
            except Exception as exc:  # a bug or a shape we did not expect: still one line
                log.exception("unexpected failure while reading %s", resolved.name)
                message = redact(
                    f"{resolved.provider}: could not read the reply ({type(exc).__name__}: {exc})",
                    secrets,
                )
                raise StreamError(message, provider=resolved.provider) from None

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """The whole reply to ``request`` as one assistant message."""
        text: list[str] = []
        thinking: list[str] = []
        reasoning: list[ReasoningBlock] = []
        calls: list[ToolCall] = []
        usage: UsageChunk | None = None
        finish: FinishChunk | None = None
        async with contextlib.aclosing(self.stream(request)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, TextDelta):
                    text.append(chunk.text)
                elif isinstance(chunk, ThinkingDelta):
                    thinking.append(chunk.text)
                elif isinstance(chunk, ReasoningChunk):
                    reasoning.append(chunk.block)
                elif isinstance(chunk, ToolCallChunk):
                    calls.append(chunk.call)
                elif isinstance(chunk, UsageChunk):
                    usage = chunk
                else:
                    finish = chunk
        if thinking and not reasoning:
            reasoning.append(ReasoningBlock(kind="thinking", text="".join(thinking)))
        if finish is None:  # adapters raise instead; this guards against a future one that does not
            raise StreamError("the reply ended without a finish", provider=None)
        message = ChatMessage(
            role="assistant", content="".join(text), tool_calls=calls, reasoning=reasoning
        )
        return ChatResponse(
            message=message,
            finish_reason=finish.reason,
            native_reason=finish.native_reason,
            usage=usage,
            model=finish.model,
        )

    async def list_models(self, provider: str) -> list[str]:
        """The model ids a provider serves (``["demo"]`` for the demo)."""
        if provider == DEMO_MODEL:
            return [DEMO_MODEL]
        config = self.providers.get(provider)
        if config is None:
            raise ConfigurationError(
                f"unknown provider {provider!r} (providers: {', '.join(sorted(self.providers))})"
            )
        resolved = ResolvedModel(
            name=f"{provider}/*", provider=provider, kind=config.kind, model="", config=config
        )
        endpoint, client, secrets = self._connection(resolved)
        module: Any = {"openai": openai_chat, "anthropic": anthropic, "ollama": ollama}[config.kind]
        try:
            body = await get_json(client, endpoint, module.MODELS_PATH)
        except LLMError as exc:
            exc.redact(secrets)
            raise
        return chat_models(module.model_names(body))

    async def provider_window(self, model: str) -> int | None:
        """The context window ``provider/model``'s server reports, asked once per run (a
        ``/models`` list answers for all of its server's models); None when it says none,
        fails or takes longer than ``window_timeout`` seconds (never raises)."""
        if model in self.windows:
            return self.windows[model]
        try:
            resolved = await self.resolve(model)
        except LLMError:
            self.windows[model] = None
            return None
        config = resolved.config
        if config is None or not worth_asking(config.kind, config.effective_base_url()):
            self.windows[model] = None
            return None
        listed = config.kind == "openai"  # one list per server; Ollama: one show per model
        lock = self._window_locks.setdefault(resolved.provider if listed else model, asyncio.Lock())
        async with lock:
            if model in self.windows:
                return self.windows[model]
            found: dict[str, int] = {}
            if not (listed and resolved.provider in self._lists_read):
                found = await self._ask_window(resolved, listed)
            if listed:
                self._lists_read.add(resolved.provider)
                for name, tokens in found.items():
                    self.windows.setdefault(f"{resolved.provider}/{name}", tokens)
            self.windows.setdefault(model, found.get(resolved.model))
        return self.windows[model]

    async def _ask_window(self, resolved: ResolvedModel, listed: bool) -> dict[str, int]:
        """Windows by model id from the server: its ``/models`` list, or ``/api/show``."""
        try:
            _endpoint, client, _secrets = self._connection(resolved)
            async with asyncio.timeout(self.window_timeout):
                if listed:
                    response = await client.get(openai_chat.MODELS_PATH)
                else:
                    # ``name`` for Ollama servers older than the ``model`` field.
                    ask = {"model": resolved.model, "name": resolved.model}
                    response = await client.post(ollama.SHOW_PATH, json=ask)
                body = response.json() if response.status_code == 200 else None
        except (LLMError, httpx.HTTPError, TimeoutError, ValueError) as exc:
            log.info("%s: no context window reported (%s)", resolved.name, type(exc).__name__)
            return {}
        if listed:
            return listed_windows(body)
        tokens = ollama_window(body)
        return {resolved.model: tokens} if tokens else {}

    # ----------------------------------------------------------------- internals

    def _retry_delay(self, attempt: int, exc: LLMError, endpoint: Endpoint) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= endpoint.max_retries:
            return None
        if exc.retry_after is not None:
            wait: float = exc.retry_after
            return wait if wait <= self._max_retry_wait else None
        backoff = min(self._backoff_max, self._backoff_base * (2.0**attempt))
        return backoff * (0.5 + self._rng.random() / 2)

    def _connection(
        self, resolved: ResolvedModel
    ) -> tuple[Endpoint, httpx.AsyncClient, tuple[str, ...]]:
        config = resolved.config
        assert config is not None
        key = self.env.get(config.api_key_env, "") if config.api_key_env else ""
        secrets = tuple(v for k, v in config.headers.items() if _SECRET_HEADER.search(k)) + (
            (key,) if key else ()
        )
        if config.api_key_env and not key and config.kind != "ollama":
            raise AuthError(
                f"{resolved.provider}: no API key: the environment variable "
                f"{config.api_key_env} is not set",
                provider=resolved.provider,
            )
        endpoint = Endpoint(
            name=resolved.provider,
            kind=config.kind,
            base_url=config.effective_base_url(),
            connect_timeout=config.connect_timeout,
            first_byte_timeout=config.first_byte_timeout,
            idle_timeout=config.idle_timeout,
            max_retries=config.max_retries,
            call_timeout=self.settings.engine.model_call_timeout_seconds,
        )
        client = self._clients.get(resolved.provider)
        if client is None:
            headers = {
                "accept": "application/json, text/event-stream",
                "user-agent": "agentkit-tui",
            }
            if config.kind == "anthropic":
                headers["anthropic-version"] = anthropic.API_VERSION
                if key:
                    headers["x-api-key"] = key
            elif key:
                headers["authorization"] = f"Bearer {key}"
            headers.update(config.headers)
            timeout = config.connect_timeout
            client = httpx.AsyncClient(
                base_url=endpoint.base_url,
                headers=headers,
                timeout=httpx.Timeout(connect=timeout, read=None, write=timeout, pool=timeout),
                transport=self._transport or paced_transport(tls_context()),
                follow_redirects=False,
                verify=tls_context(),
            )
            self._clients[resolved.provider] = client
        return endpoint, client, secrets


def _cut(delta: TextDelta | ThinkingDelta, over: int) -> TextDelta | ThinkingDelta:
    """``delta`` without the ``-over`` characters past the limit."""
    return type(delta)(text=delta.text[: len(delta.text) + over])


def _too_long(provider: str, settings: Settings) -> ReplyTooLongError:
    limit = settings.engine.max_reply_chars
    return ReplyTooLongError(
        f"{provider}: the reply passed {limit:,} characters ([engine] max_reply_chars); "
        "it was cut there and the model call stopped",
        provider=provider,
        retryable=False,
    )


def _protocol(
    resolved: ResolvedModel, endpoint: Endpoint, request: ChatRequest, max_chars: int
) -> tuple[str, dict[str, Any], Callable[[], Decoder]]:
    """Path, JSON body and a decoder factory for the protocol of ``resolved`` (its tool
    calls' arguments bounded by ``max_chars``)."""
    name = resolved.name
    if resolved.kind == "anthropic":
        return (
            anthropic.PATH,
            anthropic.build_payload(request, resolved.model),
            (lambda: anthropic.AnthropicDecoder(resolved.provider, name, max_chars=max_chars)),
        )
    if resolved.kind == "ollama":
        return (
            ollama.PATH,
            ollama.build_payload(request, resolved.model),
            (lambda: ollama.OllamaDecoder(resolved.provider, name, max_chars=max_chars)),
        )
    payload = openai_chat.build_payload(
        request,
        resolved.model,
        nine_char_ids=openai_chat.wants_nine_char_ids(endpoint.base_url),
        replay_reasoning=openai_chat.replays_reasoning(endpoint.base_url),
    )
    return (
        openai_chat.PATH,
        payload,
        lambda: openai_chat.OpenAIDecoder(
            resolved.provider, name, max_chars=max_chars, raw_text=True
        ),
    )
