"""What every command gets (:class:`Context`), and the errors and streams they share."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.config import Settings, WorkspaceRules
from app.paths import ENV_DB, Paths
from app.store import DatabaseFileError, SessionStore
from app.textsafe import escape_controls_in_json
from app.wiring import open_store

if TYPE_CHECKING:
    from app.engine.skills import SkillSet
    from app.wiring import Engine


class UsageError(Exception):
    """The command line asks for something that cannot be done (exit code 2)."""


@dataclass
class Context:
    """What every command gets: parsed arguments, paths, settings, and the output streams."""

    args: argparse.Namespace
    paths: Paths
    settings: Settings
    out: TextIO
    err: TextIO
    #: ``--debug`` or ``AGENTKIT_LOG_LEVEL``; ``None``: the default (warnings).
    log_level: int | None = None

    @property
    def db_path(self) -> Path:
        """``--db``, then ``AGENTKIT_DB``, then ``[storage] path``, then the data dir."""
        if self.args.db or os.environ.get(ENV_DB, "").strip() or not self.settings.storage.path:
            return self.paths.db_file
        return Path(self.settings.storage.path).expanduser()

    @property
    def is_default_db(self) -> bool:
        """Whether the database is the default one (whose folder we may create)."""
        return self.db_path == self.paths.data_dir / self.paths.db_file.name

    async def open_store(self, *, create: bool, read_only: bool = False) -> SessionStore | None:
        """Open the session store; ``None`` when it does not exist and ``create`` is false.
        ``read_only`` (commands that only read) works on a read-only mount too."""
        path = self.db_path
        if not path.exists() and not create:
            return None
        if read_only:
            # Writable where possible (a reply whose writer died is then marked interrupted
            # as it is read); read-only on a read-only mount or file.
            try:
                return await open_store(path, create=False)
            except DatabaseFileError as exc:
                if "read-only" not in exc.problem and "cannot open" not in exc.problem:
                    raise
            return await SessionStore.open_read_only(path)
        if create and self.is_default_db:
            self.paths.ensure_data_dir()
        return await open_store(path, create=create)

    async def open_engine(
        self,
        settings: Settings,
        store: SessionStore,
        *,
        workspace: Path,
        skills: SkillSet,
        workspace_rules: WorkspaceRules | None = None,
    ) -> Engine:
        """The engine as every command runs it, over the command's open ``store``: rules
        saved to the user's config file, the config folder protected from the file tools,
        and the MCP servers (if any) starting in the background. ``aclose`` stops it and
        closes its gateway; the store stays the command's to close."""
        from app.wiring import open_engine  # only the commands that run turns

        return await open_engine(
            settings,
            store=store,
            workspace=workspace,
            user_config_file=self.paths.config_file,
            skills=skills,
            protected_dirs=(self.paths.config_dir,),
            workspace_rules=workspace_rules,
            mcp_log_file=self.log_file,
        )

    @property
    def log_file(self) -> Path:
        """The app's log file, beside the database (MCP servers' stderr goes there too)."""
        return self.db_path.parent / "agentkit.log"

    def workspace(self) -> Path:
        """``--workspace`` (default: the current folder), resolved; it must be a folder."""
        workspace: Path = (getattr(self.args, "workspace", None) or Path.cwd()).resolve()
        if not workspace.is_dir():
            raise UsageError(f"--workspace {workspace} is not a folder")
        return workspace

    def print(self, text: str = "") -> None:
        """Write a line to standard output."""
        self.out.write(text + "\n")

    def print_json(self, value: Any) -> None:
        """Write ``value`` as indented JSON (control and direction characters escaped)."""
        encoded = json.dumps(value, ensure_ascii=False, indent=2)
        self.out.write(escape_controls_in_json(encoded) + "\n")

    @property
    def is_tty(self) -> bool:
        """Whether standard output is a terminal (columns and colour) or a pipe (TSV)."""
        return self.out.isatty()


def check_rule(rule: str) -> None:
    """Parse one approval rule of the user's config or env (a bad one is a config error)."""
    from app.tools.rules import parse_rule  # only when there are rules to check

    parse_rule(rule)


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone (``| head``), so nothing later,
    not even Python's last flush at exit, fails on the broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor behind stdout (tests)
        pass


def json_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` to a command's parser."""
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
