"""Shell lines that reach into protected places: the workspace's ``.git`` and ``.agentkit``
and agentkit's own configuration (where approvals and trust are kept).

The file tools ask before every change there, whatever the mode or rules; a shell line can
change the same files (``echo … >> .agentkit/config.toml``, ``cp x .git/hooks/pre-commit``,
``git config core.pager …``), so it asks too unless it is a known-safe read. The check reads
the line's text, not only its words: redirections and quoted scripts count.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from app.tools.knownsafe import KnownSafe
from app.tools.shellparse import Effective, ParsedCommand

#: ``.git`` or ``.agentkit`` as a whole path part, in any case (a case-insensitive disk).
_PROTECTED_PART = re.compile(
    r"(?i)(?:^|[\s/'\"=<>:;&|(`\\])(\.git|\.agentkit)(?=$|[\s/'\";&|)`<>\\])"
)
#: agentkit's configuration folder however a line may spell it.
_CONFIG_SPELLINGS = re.compile(r"(?i)\.config/+agentkit(?=$|[\s/'\";&|)`<>])|XDG_CONFIG_HOME")


def protected_in_command(
    command: str,
    parsed: ParsedCommand,
    effective: Effective,
    workspace: Path,
    protected: Sequence[Path],
) -> str | None:
    """The protected place ``command`` names (as it should be shown), or ``None``; a
    known-safe read of such a place is allowed like any other."""
    named = _named_place(command, effective, protected)
    if named is None:
        return None
    if parsed.plain:
        verdicts = KnownSafe(workspace).check_parsed(parsed)
        if verdicts and all(why is None for why in verdicts):
            return None
    return named


def _named_place(command: str, effective: Effective, protected: Sequence[Path]) -> str | None:
    match = _PROTECTED_PART.search(command)
    if match is not None:
        return match.group(1)
    if _CONFIG_SPELLINGS.search(command):
        return "agentkit's configuration"
    home = os.path.expanduser("~")
    for place in protected:
        spellings = [str(place)]
        if place.is_relative_to(home):
            rest = place.relative_to(home).as_posix()
            spellings += [f"~/{rest}", f"$HOME/{rest}", f"${{HOME}}/{rest}"]
        if any(spelling in command for spelling in spellings):
            return str(place)
    for words in effective.commands:
        if words[0] == "git" and "config" in words[1:] and not _reads_config(words):
            return "git's configuration"
    return None


_CONFIG_WRITES = frozenset(
    {"--unset", "--unset-all", "--add", "--replace-all", "--edit", "-e", "--rename-section",
     "--remove-section", "set", "unset", "edit", "rename-section", "remove-section"}
)  # fmt: skip


def _reads_config(words: list[str]) -> bool:
    """``git config --get x``, ``git config -l``, ``git config user.name``: reading, not
    changing, the configuration (a key with a value, or a changing option, writes)."""
    rest = words[words.index("config") + 1 :]
    if any(w in _CONFIG_WRITES for w in rest):
        return False
    operands = [w for w in rest if not w.startswith("-") and w not in ("get", "list")]
    return len(operands) <= 1
