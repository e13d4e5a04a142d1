"""Split shell command lines for the approval policy, and tell plain commands from the rest.

A command line is *plain* when it is only simple commands (bare or quoted words) joined by
``&&``, ``||``, ``;``, ``|`` or newlines. Redirections, substitutions (``$(…)``, backticks,
``$VAR``/``${…}`` expansions), subshells and groups, background ``&``, heredocs, comments
and leading ``NAME=value`` assignments make it non-plain: such a line never matches an
allow rule, because what runs can differ from what the words say. This is text analysis
for matching rules, not a sandbox.

The package: :mod:`.words` (the word splitter), :mod:`.launchers` (wrappers and launchers),
:mod:`.braces` (brace expansion), :mod:`.scripts` (scripts given to launchers and shells)
and :mod:`.effective` (the commands a line really runs).
"""

from app.tools.shellparse.braces import expand_braces
from app.tools.shellparse.effective import (
    DESTRUCTIVE,
    UNKNOWN,
    Effective,
    deny_candidates,
    effective_commands,
)
from app.tools.shellparse.launchers import (
    LAUNCHERS,
    WRAPPERS,
    option_skipping_variants,
    strip_launchers,
    strip_wrappers,
)
from app.tools.shellparse.words import ParsedCommand, Word, parse_command, split_words

__all__ = [
    "DESTRUCTIVE",
    "LAUNCHERS",
    "UNKNOWN",
    "WRAPPERS",
    "Effective",
    "ParsedCommand",
    "Word",
    "deny_candidates",
    "effective_commands",
    "expand_braces",
    "option_skipping_variants",
    "parse_command",
    "split_words",
    "strip_launchers",
    "strip_wrappers",
]
