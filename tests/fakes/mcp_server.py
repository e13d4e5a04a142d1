"""A small MCP server written with the official SDK (v2, ``MCPServer``), for the MCP tests.

Run it as ``python -m tests.fakes.mcp_server`` (stdio) or with ``--http PORT_FILE`` (streamable
HTTP on 127.0.0.1, a free port written to PORT_FILE once it listens). Its tools:

- ``echo`` (annotated read-only), ``add`` (no annotations), ``big`` (long output),
  ``picture`` (text and an image), ``env_has`` (whether a variable reached it, and its length);
- ``slow`` sleeps and writes ``slow-started`` into ``FAKE_MCP_MARKS``, and ``slow-cancelled``
  there when the client's cancellation reaches it;
- ``fail`` raises a tool error; ``crash`` ends the whole process at once;
- with ``FAKE_MCP_GROW=1`` also ``grow``: it adds the tool ``extra``, removes ``picture`` and
  sends ``notifications/tools/list_changed``.

Every start writes ``pid-<pid>`` into ``FAKE_MCP_MARKS`` (when set) and one line to stderr.
``FAKE_MCP_FAIL_START=1`` makes it write three lines to stderr and exit before serving.
Over HTTP, ``FAKE_MCP_TOKEN`` (when set) is the bearer token every request must carry.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent, ToolAnnotations

MARKS = os.environ.get("FAKE_MCP_MARKS")

server = MCPServer("fake-tools")


def _mark(name: str) -> None:
    if MARKS:
        (Path(MARKS) / name).write_text(str(os.getpid()))


@server.tool(description="Repeat the text back.", annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    return f"echo: {text}"


@server.tool(description="Add two whole numbers.")
def add(a: int, b: int) -> str:
    return str(a + b)


@server.tool(description="A long text of `size` characters.")
def big(size: int) -> str:
    return "".join(chr(ord("a") + index % 26) for index in range(size))


@server.tool(description="A picture with a caption.")
def picture() -> list[Any]:
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8"
        "AAAAASUVORK5CYII="
    )
    return [
        TextContent(text="a one-pixel picture"),
        ImageContent(data=png, mime_type="image/png"),
    ]


@server.tool(description="Whether an environment variable is set here, and its length.")
def env_has(name: str) -> str:
    value = os.environ.get(name)
    return "not set" if value is None else f"set ({len(value)} characters)"


@server.tool(description="Wait `seconds` seconds, then say so.")
async def slow(seconds: float) -> str:
    _mark("slow-started")
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        _mark("slow-cancelled")
        raise
    return f"waited {seconds:g} s"


@server.tool(description="Always fails with the message given.")
def fail(message: str) -> str:
    raise ToolError(message)


@server.tool(description="Ends the server process at once.")
def crash() -> str:
    os._exit(3)


def extra() -> str:
    """The tool ``grow`` adds."""
    return "extra here"


async def grow(ctx: Context) -> str:
    """Change the tool list, and say so."""
    server.add_tool(extra, description="A tool that came later.")
    server.remove_tool("picture")
    await ctx.notify_tools_changed()  # 2026-07-28 connections: subscriptions/listen
    await ctx.session.send_tool_list_changed()  # older ones: the notification
    return "grown"


if os.environ.get("FAKE_MCP_GROW") == "1":
    server.add_tool(grow, description="Add a tool and drop one, then notify.")


def _serve_http(port_file: Path) -> None:
    import uvicorn
    from starlette.types import ASGIApp, Receive, Scope, Send

    token = os.environ.get("FAKE_MCP_TOKEN")
    inner = server.streamable_http_app()

    def guarded(app: ASGIApp) -> ASGIApp:
        async def check(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and token:
                headers = dict(scope.get("headers") or [])
                if headers.get(b"authorization", b"").decode() != f"Bearer {token}":
                    await send({"type": "http.response.start", "status": 401, "headers": []})
                    await send({"type": "http.response.body", "body": b"no"})
                    return
            await app(scope, receive, send)

        return check

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(guarded(inner), log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(uv.serve, [sock])
            while not uv.started:
                await anyio.sleep(0.01)
            port_file.write_text(str(sock.getsockname()[1]))

    anyio.run(main)


def main() -> None:
    """Start the server on stdio (default) or HTTP."""
    print(f"fake MCP server starting, pid {os.getpid()}", file=sys.stderr, flush=True)
    _mark(f"pid-{os.getpid()}")
    if os.environ.get("FAKE_MCP_FAIL_START") == "1":
        print("fatal: the fake server was told to fail", file=sys.stderr)
        print("second line of the complaint", file=sys.stderr)
        print("third line", file=sys.stderr, flush=True)
        sys.exit(2)
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        _serve_http(Path(sys.argv[2]))
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
