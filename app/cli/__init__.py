"""The ``agentkit`` command (``agentkit = "app.cli:main"``), one module per command group.

:mod:`.entry` builds the parser and maps errors to exit codes; :mod:`.context` is what every
command gets; :mod:`.sessions`, :mod:`.config_cmd`, :mod:`.run` (with :mod:`.printers`),
:mod:`.tui`, :mod:`.models`, :mod:`.serve` and :mod:`.mcp` are the command groups. The
engine, the UI and the server are imported inside the commands that use them, so
``agentkit --version`` and ``agentkit sessions …`` start without loading them.
"""

from app.cli.entry import main

__all__ = ["main"]
