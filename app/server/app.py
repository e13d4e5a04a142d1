"""The ASGI application: FastAPI routes wrapped in the loopback or key check, the body limit
and a log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse

from app import __version__
from app.config import ServeApproval, ServeConfig
from app.server.guards import AccessLog, ApiKeyGuard, ASGIApp, BodyLimit, LoopbackOnly
from app.server.hub import Hub
from app.server.rest import build_router
from app.server.ws import KEEPALIVE_SECONDS, serve_session
from app.store import SessionClosedError, SessionNotFoundError, StoreError


@dataclass(frozen=True)
class ServerOptions:
    """How the API behaves: the key clients must send, approvals over REST, the body limit."""

    api_key: str | None = None
    approval: ServeApproval = "deny"
    max_body_bytes: int = 1_048_576
    #: A WebSocket client silent this long gets a ``pong`` (the reference's 300 s; tests
    #: shorten it).
    keepalive_seconds: float = KEEPALIVE_SECONDS

    @classmethod
    def from_config(cls, config: ServeConfig, api_key: str | None) -> ServerOptions:
        """Options from ``[serve]`` and the key read from its environment variable."""
        return cls(api_key=api_key, approval=config.approval, max_body_bytes=config.max_body_bytes)

    def __repr__(self) -> str:  # never show the key
        key = "set" if self.api_key else "none"
        return f"ServerOptions(api_key={key}, approval={self.approval!r})"


def create_app(hub: Hub, options: ServerOptions, *, port: int) -> ASGIApp:
    """The whole API over ``hub`` (its ``ChatService`` and store) as one ASGI app, for a
    server listening on ``port``: without a key only requests addressed to loopback on that
    port (and WebSockets from no page or a loopback page) get through; with one, every
    request needs the key."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await hub.shutdown()

    api = FastAPI(
        title="AgentKit chat API",
        version=__version__,
        description="The reference chat API (REST + WebSocket) over AgentKit's engine and store.",
        lifespan=lifespan,
    )
    api.include_router(build_router(hub, options.approval))

    @api.websocket("/chat/ws/{session_id}")
    async def chat_ws(websocket: WebSocket, session_id: str, stream: str | None = None) -> None:
        """Stream a session's events; send messages, answers and cancels. ``?stream=live``
        streams answer text as it is written (by default, as the reference: per step)."""
        await serve_session(
            websocket,
            hub,
            session_id,
            live_tokens=stream == "live",
            keepalive_seconds=options.keepalive_seconds,
        )

    @api.exception_handler(SessionNotFoundError)
    async def not_found(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @api.exception_handler(SessionClosedError)
    async def closed(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @api.exception_handler(StoreError)
    async def store_failed(_request: Request, exc: Exception) -> JSONResponse:
        line = " ".join(str(exc).split())[:200]
        return JSONResponse({"detail": f"Database error: {line}"}, status_code=500)

    guarded: ASGIApp = BodyLimit(api, options.max_body_bytes)
    if options.api_key is None:
        # The server is on loopback (runner.check_bind); keep web pages out (DNS rebinding).
        guarded = LoopbackOnly(guarded, port)
    else:
        guarded = ApiKeyGuard(guarded, options.api_key)
    return AccessLog(guarded)
