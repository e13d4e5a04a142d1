"""``agentkit serve``: the reference chat API (REST + WebSocket) over the same engine and store.

FastAPI and uvicorn come with the ``serve`` extra; without it the command says how to get
it in one line. The server is imported only here, inside the command.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import secretenv
from app.cli.context import Context, UsageError
from app.cli.logs import log_to_stream
from app.config import WorkspaceRules, read_workspace_rules, with_workspace_rules
from app.paths import workspace_config_file

if TYPE_CHECKING:
    import socket

    from app.engine.service import ChatService
    from app.server.app import ServerOptions

EXTRA_MISSING = (
    "agentkit serve needs the serve extra (FastAPI, uvicorn): pip install 'agentkit-tui[serve]'"
)
SERVE_MODULES = ("fastapi", "uvicorn", "websockets")


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``serve`` to the ``agentkit`` parser."""
    serve = commands.add_parser(
        "serve",
        help="serve the chat API (REST + WebSocket) over the same sessions",
        description="Serve the reference chat API: REST under /chat, a WebSocket at "
        "/chat/ws/SESSION_ID, OpenAPI docs at /docs. Same config, database and engine as "
        "the TUI. Ctrl+C stops it: running turns are stopped and their partial replies saved.",
    )
    serve.add_argument("--host", help="address to listen on (default [serve] host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default [serve] port, 8765; 0 = any free)")
    serve.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="environment variable holding the API key clients must send "
        "(default [serve] api_key_env)",
    )
    serve.add_argument(
        "--workspace", type=Path, help="root for file tools and commands (default .)"
    )
    add_common(serve)
    serve.set_defaults(handler=cmd_serve)


def serve_extra_missing() -> bool:
    """Whether FastAPI, uvicorn or websockets is not installed."""
    try:
        return any(importlib.util.find_spec(name) is None for name in SERVE_MODULES)
    except (ImportError, ValueError):
        return True


def _api_key(env_name: str | None) -> str | None:
    """The key from the named variable; a named but empty variable is an error."""
    if env_name is None:
        return None
    key = secretenv.environ().get(env_name, "").strip()
    if not key:
        raise UsageError(
            f"the API key variable {env_name} is not set (or empty): set it, or drop "
            "--api-key-env / [serve] api_key_env to run without a key on 127.0.0.1"
        )
    return key


def _setup_logging(stream: Any, level: int | None) -> None:
    """Requests and server messages on stderr (never the API key: see app.server.guards)."""
    log_to_stream(stream, level)
    for name in ("app.server", "uvicorn.error"):
        logging.getLogger(name).setLevel(min(logging.INFO, level or logging.INFO))


async def cmd_serve(ctx: Context) -> int:
    """``agentkit serve``: run the API until Ctrl+C."""
    if serve_extra_missing():
        ctx.err.write(f"agentkit: error: {EXTRA_MISSING}\n")
        return 1
    from app.server.app import ServerOptions
    from app.server.runner import BindError, bind_socket, check_bind, server_settings
    from app.wiring import load_skill_set

    config = ctx.settings.serve
    host = ctx.args.host or config.host
    port = config.port if ctx.args.port is None else ctx.args.port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port number (0-65535)")
    env_name = ctx.args.api_key_env or config.api_key_env
    options = ServerOptions.from_config(config, _api_key(env_name))
    workspace = ctx.workspace()
    try:
        check_bind(host, options.api_key)
        sock = bind_socket(host, port)
    except BindError as exc:
        raise UsageError(str(exc)) from None
    # Nobody can be asked here: the allow rules of an untrusted workspace file are ignored.
    rules = read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    settings = server_settings(with_workspace_rules(ctx.settings, rules))
    skills = load_skill_set(ctx.paths.skills_dir, workspace)
    _setup_logging(ctx.err, ctx.log_level)
    log = logging.getLogger(__name__)
    if rules is not None and rules.needs_trust:
        log.warning("workspace rules: %s", rules.ignored_note())
    for problem in skills.problems:
        ctx.err.write(f"agentkit: warning: {problem}\n")
    store = await ctx.open_store(create=True)
    assert store is not None
    async with store:
        engine = await ctx.open_engine(
            settings, store, workspace=workspace, skills=skills, workspace_rules=rules
        )
        async with engine:
            await _serve(ctx, engine.service, options, sock, log, rules)
    ctx.err.write("agentkit serve: stopped\n")
    return 0


async def _serve(
    ctx: Context,
    service: ChatService,
    options: ServerOptions,
    sock: socket.socket,
    log: logging.Logger,
    rules: WorkspaceRules | None,
) -> None:
    """Serve the API over ``service`` until Ctrl+C."""
    from app.server.hub import Hub
    from app.server.runner import ApiServer

    for problem in service.rule_problems:
        log.warning("%s: %s", rules.file if rules is not None else "approval rules", problem)
    server = ApiServer(Hub(service), options, sock)
    shown = f"[{server.host}]" if ":" in server.host else server.host
    ctx.err.write(
        f"agentkit serve: listening on http://{shown}:{server.port} "
        f"(REST /chat, WebSocket /chat/ws/SESSION_ID, docs /docs); "
        f"API key {'required' if options.api_key else 'not required (loopback only)'}; "
        f"REST approvals: {options.approval}; database {ctx.db_path}. Ctrl+C stops.\n"
    )
    ctx.err.flush()
    await server.run_until_stopped()
