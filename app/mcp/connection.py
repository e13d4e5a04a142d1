"""One MCP server: started in a task of its own, its tools listed, calls sent, restarts.

The SDK's ``Client`` is an async context manager whose task groups must be entered and left
by the same task, so each start runs one task (``_serve``) that holds the connection open
until :meth:`ServerConnection.stop`. Calls come from the turns' tasks and use the open
client. When the server process dies (or an HTTP server goes away) the call in flight gets
an error result, the connection is marked crashed, and the next call starts it again, after
a back-off once it has crashed more than once in a row.

A stdio server's stderr never reaches the terminal: a thread reads it from a pipe, writes
every line to the log file, and keeps the first lines for the failure notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.config import McpServerConfig
from app.mcp.naming import tool_name
from app.mcp.stderr import StderrSink
from app.textsafe import redact_url_credentials, strip_controls

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult

log = logging.getLogger(__name__)

Status = Literal["disabled", "not_trusted", "starting", "running", "failed", "crashed", "stopped"]
#: Crashes in a row after which a notice says so.
CRASH_NOTICE_AFTER = 3
#: Longest back-off before a restart, in seconds.
MAX_BACKOFF = 30.0
#: Seconds a stopping server gets before its task is cancelled (the SDK then kills it).
STOP_GRACE = 8.0

News = Callable[[str, str], None]
#: Told when a server's tool list changed: (connection, names added, names removed).
ToolsChanged = Callable[["ServerConnection", list[str], list[str]], None]


class McpCallError(Exception):
    """A call could not be made or did not finish; ``str(error)`` is for the model."""


@dataclass(frozen=True)
class ToolInfo:
    """One tool of a server, as listed: names, description, schema and read-only hint."""

    server: str
    name: str
    full_name: str
    description: str
    input_schema: dict[str, Any]
    read_only_hint: bool | None = None


def describe_error(exc: BaseException) -> str:
    """A one-line reason for a failed start or call (URL credentials masked)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, FileNotFoundError):
        return f"program not found ({exc.filename or exc})"
    if isinstance(exc, PermissionError):
        return f"program cannot be run ({exc.strerror})"
    text = str(exc).strip() or type(exc).__name__
    code = getattr(exc, "code", None)
    if code == -32000 and "closed" in text.lower():
        text = "the server closed the connection (its process may have exited)"
    return redact_url_credentials(" ".join(strip_controls(text).split()))[:300]


class ServerConnection:
    """Starts, lists, calls and stops one MCP server; restarts it after a crash."""

    def __init__(
        self,
        name: str,
        config: McpServerConfig,
        *,
        workspace: Path,
        log_file: Path | None,
        env: Mapping[str, str],
        news: News | None = None,
        tools_changed: ToolsChanged | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.workspace = workspace
        self.log_file = log_file
        self._env = env
        self._news = news or (lambda code, message: None)
        self._tools_changed = tools_changed or (lambda connection, added, removed: None)
        self._relisting: set[asyncio.Task[None]] = set()
        self.status: Status = "stopped"
        #: Why it failed or crashed (one line), while it is not running.
        self.error: str | None = None
        #: The first lines of its stderr from the last start (stdio servers).
        self.stderr_head: list[str] = []
        self.tools: list[ToolInfo] = []
        #: Crashes since the last call that went through.
        self.crashes = 0
        self._last_crash = 0.0
        self._client: Client | None = None
        #: Counts the starts that came up, so calls that fail together count one crash.
        self._generation = 0
        self._sink: StderrSink | None = None
        #: The last HTTP error status an HTTP server answered with (for the failure reason).
        self._http_status: int | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._stop_event = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = False

    # ----------------------------------------------------------------- life cycle

    async def start(self) -> bool:
        """Start the server and list its tools; ``True`` when it runs (else see ``error``)."""
        async with self._lock:
            if self.status == "running" and self._client is not None:
                return True
            await self._stop_task()
            if self._stopping:
                return False
            self.status, self.error, self.stderr_head = "starting", None, []
            self._stop_event = asyncio.Event()
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._serve_task = asyncio.create_task(self._serve(ready), name=f"mcp:{self.name}")
            with contextlib.suppress(Exception):
                await asyncio.shield(ready)
            return self.is_running()

    @property
    def process_ended(self) -> bool:
        """Whether a stdio server's process is known to have ended (its stderr closed)."""
        return self._sink is not None and self._sink.ended.is_set()

    def is_running(self) -> bool:
        """Whether the server is up (a method: the status changes under other tasks)."""
        return self.status == "running" and self._client is not None

    async def _serve(self, ready: asyncio.Future[None]) -> None:
        from mcp import Client
        from mcp.types import Implementation

        sink = StderrSink(self.name, self.log_file) if self.config.transport == "stdio" else None
        self._sink = sink
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    # asyncio's timeout, not anyio's: the client's task groups stay open
                    # after this block, and an anyio scope must close after them.
                    async with asyncio.timeout(self.config.startup_timeout):
                        transport = await self._transport(stack, sink)
                        client = Client(
                            transport,
                            client_info=Implementation(name="agentkit", version="0"),
                            cache=None,
                            message_handler=self._on_message,
                        )
                        await stack.enter_async_context(client)
                        if sink is not None:
                            sink.close_writer()
                        tools = await self._list_tools(client)
                except Exception as exc:
                    reason = describe_error(exc)
                    if isinstance(exc, TimeoutError):
                        reason = f"did not start within {self.config.startup_timeout:g} s"
                    elif self._http_status is not None:
                        reason = f"{reason} (HTTP {self._http_status})"
                    if sink is not None:
                        await sink.drained()
                        self.stderr_head = list(sink.head)
                    self.status, self.error = "failed", reason
                    self._log(f"failed to start: {reason}")
                    return
                self._client, self.tools, self.status = client, tools, "running"
                self._generation += 1
                self._log(f"running, {len(tools)} tool{'s' if len(tools) != 1 else ''}")
                if not ready.done():
                    ready.set_result(None)
                watch = asyncio.create_task(self._watch_tools(client))
                try:
                    await self._stop_event.wait()
                finally:
                    watch.cancel()
                    await asyncio.gather(watch, return_exceptions=True)
        except Exception as exc:  # leaving the connection failed: it is gone either way
            self._log(f"closed with an error: {describe_error(exc)}")
        finally:
            self._client = None
            if self.status in ("running", "starting"):
                self.status = "stopped"
            if sink is not None:
                sink.close_writer()
            if not ready.done():
                ready.set_result(None)

    async def _transport(self, stack: contextlib.AsyncExitStack, sink: StderrSink | None) -> Any:
        config = self.config
        if config.command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            assert sink is not None
            missing = [var for var in config.env.values() if var not in self._env]
            if missing:
                self._log(f"not set, so not passed: {', '.join(missing)}")
            params = StdioServerParameters(
                command=config.command,
                args=list(config.args),
                env={name: self._env[var] for name, var in config.env.items() if var in self._env},
                cwd=str((self.workspace / (config.cwd or ".")).resolve()),
            )
            return stdio_client(params, errlog=sink.writer)
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        headers = {
            header: self._env[var] for header, var in config.headers_env.items() if var in self._env
        }
        missing = [var for var in config.headers_env.values() if var not in self._env]
        if missing:
            self._log(f"not set, so their headers are not sent: {', '.join(missing)}")
        self._http_status = None

        async def note_status(response: httpx2.Response) -> None:
            if response.status_code >= 400:
                self._http_status = response.status_code

        http = await stack.enter_async_context(
            httpx2.AsyncClient(
                headers=headers,
                timeout=httpx2.Timeout(30.0, read=300.0),
                event_hooks={"response": [note_status]},
            )
        )
        assert config.url is not None
        return streamable_http_client(config.url, http_client=http)

    async def _list_tools(self, client: Client) -> list[ToolInfo]:
        """Every tool, following the pages, kept to the ``tools`` allow-list."""
        found: list[ToolInfo] = []
        cursor: str | None = None
        seen_cursors: set[str] = set()
        while True:
            page = await client.list_tools(cursor=cursor)
            for tool in page.tools:
                if not self._allowed(tool.name):
                    continue
                hint = tool.annotations.read_only_hint if tool.annotations else None
                schema = dict(tool.input_schema or {})
                schema.pop("title", None)
                schema.setdefault("type", "object")
                found.append(
                    ToolInfo(
                        server=self.name,
                        name=tool.name,
                        full_name=tool_name(self.name, tool.name),
                        description=(tool.description or tool.title or tool.name).strip(),
                        input_schema=schema,
                        read_only_hint=hint,
                    )
                )
            cursor = page.next_cursor
            if not cursor or cursor in seen_cursors:
                return found
            seen_cursors.add(cursor)

    async def _on_message(self, message: Any) -> None:
        """A server's notification: after ``notifications/tools/list_changed`` the tools are
        listed again, in a task (the client reads on only once this returns)."""
        from mcp.types import ToolListChangedNotification

        client = self._client
        if isinstance(message, ToolListChangedNotification) and client is not None:
            task = asyncio.create_task(self._relist(client, self._generation))
            self._relisting.add(task)
            task.add_done_callback(self._relisting.discard)

    async def _watch_tools(self, client: Client) -> None:
        """List the tools again on each change a 2026-07-28 server reports (through a
        ``subscriptions/listen`` stream; older servers send a notification instead)."""
        from mcp.client.subscriptions import ListenNotSupportedError

        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    await self._relist(client, self._generation)
        except ListenNotSupportedError:
            return
        except Exception as exc:  # not offered, or the connection ended: nothing to watch
            self._log(f"does not report tool changes ({describe_error(exc)})")

    async def _relist(self, client: Client, generation: int) -> None:
        try:
            tools = await self._list_tools(client)
        except Exception as exc:  # the connection went away meanwhile: the restart lists them
            self._log(f"could not list its changed tools: {describe_error(exc)}")
            return
        if generation != self._generation or client is not self._client:
            return
        before, after = {t.name for t in self.tools}, {t.name for t in tools}
        self.tools = tools
        added, removed = sorted(after - before), sorted(before - after)
        self._log(f"its tools changed: {len(tools)} now, added {added}, removed {removed}")
        self._tools_changed(self, added, removed)

    def _allowed(self, tool: str) -> bool:
        patterns = self.config.tools
        return patterns is None or any(fnmatch.fnmatchcase(tool, p) for p in patterns)

    async def stop(self) -> None:
        """Close the connection for good (the SDK ends a stdio server's whole process group)."""
        self._stopping = True
        async with self._lock:
            await self._stop_task()
            if self.status not in ("failed", "disabled", "not_trusted"):
                self.status = "stopped"

    async def _stop_task(self) -> None:
        task, self._serve_task = self._serve_task, None
        if task is None:
            return
        self._stop_event.set()
        if self.status == "starting":
            task.cancel()  # still connecting: nothing to close politely
        done, _ = await asyncio.wait([task], timeout=STOP_GRACE)
        if not done:
            task.cancel()
            await asyncio.wait([task], timeout=STOP_GRACE)

    # ----------------------------------------------------------------- calls

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call ``tool``; a dead server is started again first (after a back-off)."""
        from mcp import MCPError

        client = await self._running_client()
        generation = self._generation
        try:
            result = await client.call_tool(tool, arguments)
        except MCPError as exc:
            if exc.code == -32000 and "closed" in exc.message.lower():
                raise self._crashed(describe_error(exc), generation) from None
            raise McpCallError(
                f"The MCP server {self.name!r} refused the call: {describe_error(exc)}"
            ) from None
        except (asyncio.CancelledError, TimeoutError):
            raise
        except Exception as exc:  # the transport broke (an HTTP server went away, …)
            raise self._crashed(describe_error(exc), generation) from None
        self.crashes = 0
        return result

    async def _running_client(self) -> Client:
        client = self._client
        if self.status == "running" and self.process_ended:
            # The process ended while idle (its stderr closed): start it again now, rather
            # than fail this call on a dead connection.
            self._crashed("it exited while idle", self._generation)
            client = None
        if self.status == "running" and client is not None:
            return client
        if self._stopping:
            raise McpCallError(f"The MCP server {self.name!r} is shutting down.")
        delay = self.backoff() - (time.monotonic() - self._last_crash)
        if delay > 0:
            await asyncio.sleep(delay)  # a back-off between restarts, not a wait for a state
        if not await self.start():
            raise McpCallError(
                f"The MCP server {self.name!r} could not be started again: {self.error}."
            )
        assert self._client is not None
        return self._client

    def backoff(self) -> float:
        """Seconds to wait before restarting after the crashes so far (0 after the first)."""
        if self.crashes <= 1:
            return 0.0
        return min(MAX_BACKOFF, 2.0 ** (self.crashes - 2))

    def _crashed(self, reason: str, generation: int) -> McpCallError:
        error = McpCallError(
            f"The MCP server {self.name!r} stopped while running this call ({reason}). "
            "It will be started again on the next call; the call's effects may be partial."
        )
        if generation != self._generation or self.status == "crashed":
            return error  # another call of the same run saw the crash first
        self.crashes += 1
        self._last_crash = time.monotonic()
        self.status, self.error, self._client = "crashed", reason, None
        self._stop_event.set()  # let the serving task clean up what is left
        self._log(f"crashed ({reason}); {self.crashes} in a row")
        if self.crashes == CRASH_NOTICE_AFTER:
            self._news(
                "mcp_crashing",
                f"The MCP server {self.name!r} crashed {self.crashes} times in a row "
                f"({reason}); it is started again on the next call of its tools, after a "
                "growing pause. Its stderr is in the log file.",
            )
        return error

    # ----------------------------------------------------------------- logging

    def _log(self, message: str) -> None:
        """A line in the log file (never on the terminal, never a secret)."""
        if self.log_file is None:
            return
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        with contextlib.suppress(OSError), open(self.log_file, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} mcp[{self.name}] {message}\n")

    def failure_line(self) -> str:
        """One line for a notice: why the server is not running, and its first stderr lines."""
        where = (
            ""
            if self.config.transport == "stdio"
            else f" at {redact_url_credentials(str(self.config.url))}"
        )
        text = f"The MCP server {self.name!r}{where} failed to start: {self.error}"
        if self.stderr_head:
            text += ". Its stderr began: " + " | ".join(line.strip() for line in self.stderr_head)
        return text[:1000]
