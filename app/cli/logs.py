"""The log level (``--debug``, ``AGENTKIT_LOG_LEVEL``) and where log records go.

The full-screen app logs to a file beside the database (text on stderr would paint over
it); ``agentkit serve`` logs to stderr; every other command leaves Python's default alone
(warnings on stderr) unless a level was asked for, and then logs to stderr at that level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from app.config import ConfigError

ENV_LOG_LEVEL = "AGENTKIT_LOG_LEVEL"

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

#: Libraries whose debug records drown everything else (one line per SQL statement).
_CHATTY = ("aiosqlite",)

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_level(debug: bool, env: Mapping[str, str]) -> int | None:
    """The level asked for: ``--debug``, else ``AGENTKIT_LOG_LEVEL``, else ``None`` (default).

    A value that is not a level name is a config error (one line, exit code 2)."""
    if debug:
        return logging.DEBUG
    raw = env.get(ENV_LOG_LEVEL, "").strip()
    if not raw:
        return None
    level = LEVELS.get(raw.lower())
    if level is None:
        names = ", ".join(LEVELS)
        raise ConfigError(
            f"config error in environment: {ENV_LOG_LEVEL}={raw!r} is not a log level "
            f"(one of {names})"
        )
    return level


def _install(handler: logging.Handler, level: int) -> None:
    """Make ``handler`` the root logger's only handler, at ``level``."""
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.INFO))


#: A log file over this size is moved aside (to ``NAME.1``, replacing the older one) when the
#: app starts, so the logs never take more than about twice this.
LOG_ROTATE_BYTES = 5 * 1024 * 1024


def _rotate(path: Path) -> None:
    """Move ``path`` to ``path.1`` if it has grown past :data:`LOG_ROTATE_BYTES`.

    Done once at start, not by size while running: another agentkit process may have the
    file open, and a rename leaves its writes going to the moved file, which is harmless."""
    try:
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))
    except OSError:
        pass  # no file yet, or a folder we cannot change: keep appending


def log_to_file(path: Path, level: int | None) -> None:
    """Send records at ``level`` (default: warnings) to the file ``path``."""
    target: logging.Handler
    _rotate(path)
    try:
        target = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        target = logging.NullHandler()
    _install(target, logging.WARNING if level is None else level)


def log_to_stream(stream: TextIO, level: int | None) -> None:
    """Send records at ``level`` (default: warnings) to ``stream`` (stderr)."""
    _install(logging.StreamHandler(stream), logging.WARNING if level is None else level)
