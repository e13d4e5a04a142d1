"""The ``agentkit`` command line: the parser of every command, and errors as exit codes.

Output is plain and pipe-friendly: aligned columns with a header on a terminal, tab-separated
rows without one in a pipe, and ``--json`` for machines. Errors are one line on stderr.
Exit codes: 0 done, 1 error, 2 usage or config error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import NoReturn

from app import __version__, secretenv
from app.cli import completions, config_cmd, mcp, models, run, serve, sessions, tui
from app.cli.context import Context, UsageError, check_rule, silence_stdout
from app.cli.logs import ENV_LOG_LEVEL, log_level, log_to_stream
from app.cli.text import argv_text
from app.config import SECRET_NAME, ConfigError, Settings, load_settings
from app.paths import resolve_paths
from app.store import StoreError
from app.store.errors import DatabaseFileError
from app.textsafe import strip_controls

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


Handler = Callable[[Context], Coroutine[None, None, int]]


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--config", type=Path, default=default, metavar="FILE", help="config file to use"
    )
    parser.add_argument(
        "--db", type=Path, default=default, metavar="PATH", help="session database to use"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help=f"log everything (default: warnings; or set {ENV_LOG_LEVEL}=debug|info|…)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with every subcommand and option."""
    parser = _Parser(
        prog="agentkit",
        description="AgentKit TUI: a terminal app for working with LLM agents.",
        epilog="Run `agentkit COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"agentkit {__version__}")
    _add_common(parser, top=True)
    parser.set_defaults(handler=tui.cmd_default, load_config=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in (sessions, config_cmd, run, tui, models, serve, mcp):  # the order of --help
        group.register(commands, lambda p: _add_common(p, top=False))
    completions.register(commands, lambda p: _add_common(p, top=False), root=parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``agentkit`` command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.config is not None and args.load_config and not args.config.is_file():
            # A file named on purpose must be there: defaults instead would hide the typo.
            what = "is not a file" if args.config.exists() else "does not exist"
            raise UsageError(f"--config {args.config} {what}")
        env = dict(os.environ)
        level = log_level(bool(args.debug), env)
        if level is not None and args.handler not in tui.FULL_SCREEN:
            log_to_stream(sys.stderr, level)  # the full-screen app logs to a file instead
        paths = resolve_paths(env, config_file=args.config, db_file=args.db)
        # `config init`, `config edit` and `completions` must work while the file is broken.
        settings = (
            load_settings(paths.config_file, env, check_rule=check_rule)
            if args.load_config
            else Settings()
        )
        secretenv.hide(key_variables(settings, getattr(args, "api_key_env", None)))
        context = Context(args, paths, settings, sys.stdout, sys.stderr, log_level=level)
        handler: Handler = args.handler
        if handler not in tui.FULL_SCREEN:
            gc.enable()  # set up; the full-screen app turns it on after its first frame
        code = asyncio.run(handler(context))
        sys.stdout.flush()  # a reader that left shows here, not in Python's exit handler
        return code
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except DatabaseFileError as exc:
        return _fail(f"database: {exc}", EXIT_ERROR)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error worth a message; the exit code
        # is the one of Ctrl+C, as `agentkit run` ends its turn for it.
        silence_stdout()
        return EXIT_INTERRUPTED
    except (StoreError, ValueError, OSError) as exc:
        return _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)


def key_variables(settings: Settings, serve_key_env: str | None = None) -> list[str]:
    """Every environment variable that holds an API key for us or for our clients."""
    names = [*secretenv.WELL_KNOWN, serve_key_env or "", settings.serve.api_key_env or ""]
    names += [p.api_key_env or "" for p in settings.providers.values()]
    for server in settings.mcp.servers.values():
        # Read when a server starts. Only names that look like secrets: passing PATH or
        # HOME through must not take them from our own environment.
        names += [name for name in server.env.values() if SECRET_NAME.search(name)]
        names += list(server.headers_env.values())
    return [name for name in names if name]


def _fail(message: str, code: int) -> int:
    # Messages quote what people typed (a session id, a path): bytes that were not UTF-8
    # show as U+FFFD, escape sequences not at all.
    sys.stderr.write(f"agentkit: error: {strip_controls(argv_text(message))}\n")
    return code
