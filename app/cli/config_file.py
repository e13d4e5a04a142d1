"""``agentkit config init`` and ``agentkit config edit``: the config file, written from the
schema and opened in the person's editor, then checked.

Both work while the file is broken (that is when people need them): the entry point does not
load the config for them.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from app import __version__
from app.atomic import write_text_atomically
from app.cli.context import Context, UsageError, check_rule
from app.config import ConfigError, load_settings

#: Editors tried, in order, when neither $VISUAL nor $EDITOR is set.
FALLBACK_EDITORS = ("nano", "vi")


async def cmd_config_init(ctx: Context) -> int:
    """``agentkit config init``: write the commented config file; never over an existing one
    unless ``--force``, and then the old one is kept as a backup first."""
    path = ctx.paths.config_file
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a config file")
    backup = None
    if path.exists():
        if not ctx.args.force:
            raise FileExistsError(
                f"{path} already exists and was left as it is (`agentkit config edit` "
                "opens it; `agentkit config init --force` replaces it, keeping a backup)"
            )
        backup = _backup(path)
    write_text_atomically(path, _template(), make_parents=True)
    kept = f"; the old one is kept as {backup}" if backup else ""
    ctx.print(f"wrote {path}{kept}")
    ctx.print("Every key is in it, commented out; `agentkit config edit` opens it.")
    return 0


async def cmd_config_edit(ctx: Context) -> int:
    """``agentkit config edit``: open the config file (made from the template if missing) in
    the person's editor, then check it; a broken file is one line and exit code 2, and on a
    terminal the person may open it again to fix it."""
    path = ctx.paths.config_file
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a config file")
    editor = find_editor(os.environ, path)
    if not path.exists():
        write_text_atomically(path, _template(), make_parents=True)
        ctx.err.write(f"agentkit: created {path} from the template\n")
    while True:
        await _run_editor(editor, path)
        try:
            settings = load_settings(path, os.environ, check_rule=check_rule)
        except ConfigError as exc:
            if not _ask_again(ctx, str(exc)):
                raise
            continue
        for problem in settings.ui.fallbacks:  # the app starts, with the default instead
            ctx.err.write(f"agentkit: warning: {problem}\n")
        ctx.print(f"{path}: the config is valid")
        return 0


def find_editor(env: Mapping[str, str], path: Path) -> list[str]:
    """The editor command: ``$VISUAL``, then ``$EDITOR`` (either may carry arguments, as in
    ``code --wait``), then the first of :data:`FALLBACK_EDITORS` on the PATH."""
    for name in ("VISUAL", "EDITOR"):
        command = env.get(name, "").strip()
        if command:
            try:
                words = shlex.split(command)
            except ValueError as exc:
                raise UsageError(f"${name} ({command!r}) cannot be read: {exc}") from None
            if words:
                return words
    for fallback in FALLBACK_EDITORS:
        found = shutil.which(fallback)
        if found:
            return [found]
    raise UsageError(
        f"no editor found: set $VISUAL or $EDITOR (e.g. export EDITOR=nano), or edit {path}"
    )


async def _run_editor(editor: list[str], path: Path) -> None:
    """Run the editor on ``path`` on this terminal and wait for it to end."""
    try:
        process = await asyncio.create_subprocess_exec(*editor, str(path))
    except OSError as exc:
        raise UsageError(f"cannot start the editor {editor[0]!r}: {exc.strerror}") from None
    code = await process.wait()
    if code != 0:
        raise OSError(f"the editor {editor[0]!r} exited with code {code}; {path} was not checked")


def _ask_again(ctx: Context, problem: str) -> bool:
    """On a terminal: show the problem and ask whether to open the editor again."""
    if not (sys.stdin.isatty() and ctx.err.isatty()):
        return False
    ctx.err.write(f"agentkit: error: {problem}\nOpen the editor again to fix it? [Y/n] ")
    ctx.err.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("", "y", "yes")


def _template() -> str:
    """The commented config file (its module is loaded only by these two commands)."""
    from app.config.template import config_template

    return config_template(__version__)


def _backup(path: Path) -> Path:
    """Copy ``path`` to the first free ``NAME.bak``, ``NAME.bak.2``, … beside it."""
    candidate = path.with_name(f"{path.name}.bak")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{number}")
        number += 1
    shutil.copy2(path, candidate)
    return candidate
