"""Known-safe shell commands: per-command argument validators, after Codex CLI's idea.

``ask`` mode runs a command without asking only when it is *proven* read-only here: its
name is on the table below, every option is on that command's own allow-list (an option
that writes, runs a program or reads a file we cannot confine is simply absent), and every
operand that can name a file resolves — symlinks followed, ``cd`` tracked — inside the
workspace. ``/proc``, ``/sys`` and ``/dev`` (but ``/dev/null``) are outside by definition,
and an operand that bash would expand (a brace list, a leading glob that could turn into an
option, ``~``) is not proven. Anything not proven asks; nothing here ever runs a command.

``git`` reads are known-safe only in a repository whose own config holds nothing that runs
code, and the shell tool runs them with repository-controlled execution turned off
(see :data:`HARDENED_GIT_CONFIG`).

The package: :mod:`.table` (the commands and their options), :mod:`.options` and
:mod:`.paths` (checking options and file operands), :mod:`.wrappers`, :mod:`.commands`
(``sed``, ``date``, ``find``), :mod:`.git`, and :mod:`.check` (:class:`KnownSafe`).
"""

from app.tools.knownsafe.check import KnownSafe
from app.tools.knownsafe.git import HARDENED_GIT_CONFIG
from app.tools.knownsafe.table import SPECS, Kind, Spec

__all__ = ["HARDENED_GIT_CONFIG", "SPECS", "Kind", "KnownSafe", "Spec"]
