"""Running the API under uvicorn: binding rules, start-up line, and a clean Ctrl+C.

On the first Ctrl+C (or SIGTERM) the running turns are stopped first — their partial
replies saved and marked, their clients told ``result: cancelled`` — and only then does
uvicorn close the connections and the listening socket. A second Ctrl+C quits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import socket
from collections.abc import Generator

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from app.config import Settings
from app.server.app import ServerOptions, create_app
from app.server.guards import redact_server_logs
from app.server.hub import Hub

#: How long a graceful stop waits for turns to save what they had.
SHUTDOWN_GRACE_SECONDS = 5.0


class BindError(Exception):
    """The server may not, or cannot, listen where it was asked to."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond loopback without an API key."""
    if api_key is None and not is_loopback(host):
        raise BindError(
            f"refusing to listen on {host} without an API key: anyone who can reach it could "
            "run tools on this machine. Set [serve] api_key_env (or --api-key-env NAME) to an "
            "environment variable holding a key, or listen on 127.0.0.1"
        )


def bare_host(host: str) -> str:
    """``host`` as the resolver takes it: ``[::1]``, the URL form, becomes ``::1``."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one; an IPv6 address
    may be given bare or in brackets)."""
    try:
        infos = socket.getaddrinfo(
            bare_host(host), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _name, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def server_settings(settings: Settings) -> Settings:
    """Settings for the server's ``ChatService``: WebSocket confirmations and questions wait
    ``[serve] confirmation_timeout_seconds`` for an answer."""
    approval = settings.approval.model_copy(
        update={"timeout_seconds": settings.serve.confirmation_timeout_seconds}
    )
    return settings.model_copy(update={"approval": approval})


class _WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, safe to stop while its client is leaving.

    A client's close frame is answered at once and the transport closed, but the connection
    stays in the server's list until the next loop step. A stop in that step asked
    websockets to send a second close frame, which raises ``InvalidState`` out of
    ``Server.shutdown``: ``agentkit serve`` then ended with a traceback and exit code 1
    after Ctrl+C (the flaky ``test_ctrl_c_stops_turns_saves_partials_and_exits_cleanly``:
    its client closes its socket just as the server stops).
    """

    def shutdown(self) -> None:
        """Close the connection for a server stop; a closing handshake under way is left to
        finish as it is."""
        if self.handshake_complete and not self.close_sent and self.conn.state is not State.OPEN:
            self.stop_keepalive()
            self.transport.close()
            return
        super().shutdown()


class ApiServer(uvicorn.Server):
    """uvicorn serving the API over ``hub``, stopping turns before connections."""

    def __init__(
        self,
        hub: Hub,
        options: ServerOptions,
        sock: socket.socket,
        *,
        handle_signals: bool = True,
    ) -> None:
        host, port = sock.getsockname()[:2]
        check_bind(host, options.api_key)
        redact_server_logs()
        config = uvicorn.Config(
            create_app(hub, options, port=port),
            host=host,
            port=port,
            log_config=None,  # the CLI sets up logging; uvicorn's access log shows query strings
            access_log=False,
            ws=_WebSocketProtocol,
            ws_max_size=max(options.max_body_bytes, 64 * 1024),
            # Token messages are tiny: compressing each costs more than it saves.
            ws_per_message_deflate=False,
            lifespan="on",
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE_SECONDS) + 1,
        )
        super().__init__(config)
        self.hub = hub
        self.socket = sock
        self.host: str = host
        self.port: int = port
        self.handle_signals = handle_signals
        self.ready = asyncio.Event()
        self._exit = asyncio.Event()
        self._stopping: asyncio.Task[None] | None = None

    async def run_until_stopped(self) -> None:
        """Serve on the socket until :meth:`request_stop` (or a signal) stops it."""
        await self.serve(sockets=[self.socket])

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start listening and tell whoever waits for :attr:`ready`."""
        await super().startup(sockets=sockets)
        if self.started:
            self.ready.set()

    async def main_loop(self) -> None:
        """Wait for a stop request (uvicorn's own loop polls ten times a second)."""
        while not self.should_exit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), timeout=1.0)
            await self.on_tick(0)  # refreshes the Date header; checks should_exit

    def request_stop(self) -> None:
        """Stop gracefully: running turns first, then connections and the socket."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())

    async def _stop(self) -> None:
        try:
            await self.hub.shutdown(SHUTDOWN_GRACE_SECONDS)
        finally:
            self.should_exit = True
            self._exit.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Ctrl+C and SIGTERM stop gracefully; a second one quits at once."""
        if not self.handle_signals:
            yield
            return
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if self._stopping is not None:
                self.force_exit = True
                self.should_exit = True
                self._exit.set()
                return
            self.request_stop()

        installed: list[signal.Signals] = []
        for each in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(each, on_signal)
                installed.append(each)
        try:
            yield
        finally:
            for each in installed:
                loop.remove_signal_handler(each)
