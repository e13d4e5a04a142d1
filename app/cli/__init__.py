"""The ``agentkit`` command (``agentkit = "app.cli:main"``), one module per command group.

:mod:`.entry` builds the parser and maps errors to exit codes; :mod:`.context` is what every
command gets; :mod:`.sessions`, :mod:`.config_cmd`, :mod:`.run` (with :mod:`.printers`),
:mod:`.tui`, :mod:`.models`, :mod:`.serve` and :mod:`.mcp` are the command groups. The
engine, the UI and the server are imported inside the commands that use them, so
``agentkit --version`` and ``agentkit sessions …`` start without loading them; and this
module imports none of them itself, so :func:`main` runs before any of the start-up work.
"""

from __future__ import annotations

import gc

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the ``agentkit`` command and return its exit code.

    Start-up runs with the cyclic garbage collector paused. Its imports (pydantic models,
    Textual) and the full-screen app's first frame make a few hundred thousand objects that
    live as long as the process; the full collections they set off cost ~0.15 s of CPU in
    a 0.8 s start (issue #19, ``bench_startup.py``). A command turns it back on once it is
    set up (:mod:`.entry`); the full-screen app once its first frame is drawn, after moving
    what start-up made out of the collector's sight (``gc.freeze``)."""
    gc.disable()
    try:
        from app.cli.entry import main as run

        return run(argv)
    finally:
        gc.enable()
