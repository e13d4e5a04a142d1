"""The known-safe check of a whole command line: :class:`KnownSafe`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from app.textsafe import CONTROL_CHARACTER
from app.tools.knownsafe.commands import _date, _find, _sed
from app.tools.knownsafe.git import _git
from app.tools.knownsafe.options import _validate
from app.tools.knownsafe.paths import _GLOB_CHARS, _cd, _Line
from app.tools.knownsafe.table import SPECS
from app.tools.knownsafe.wrappers import _WRAPPER_NAMES, _strip_wrappers
from app.tools.shellparse import ParsedCommand, Word

#: Characters that make text show other than it is: controls and direction overrides.
_HIDDEN = CONTROL_CHARACTER  # the same characters textsafe strips for display


_MAX_CWDS = 8


class KnownSafe:
    """Decides whether the simple commands of one plain command line are known-safe.

    ``check_parsed`` takes a parsed line (its words keep their quoting facts) and gives, for
    each command, ``None`` when it is known-safe or the reason it is not. ``cd`` into a
    directory inside the workspace moves the base of later relative paths.
    """

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace.resolve()

    def check_parsed(self, parsed: ParsedCommand) -> list[str | None]:
        """Per command of ``parsed``: ``None`` if known-safe, else why not."""
        line = _Line(self.workspace, [self.workspace])
        return [self._one(words, line) for words in parsed.words]

    def check(self, commands: Iterable[list[str]]) -> list[str | None]:
        """The same for commands given as plain word lists (a glob character counts as one)."""
        line = _Line(self.workspace, [self.workspace])
        return [
            self._one([Word(w, glob=any(c in _GLOB_CHARS for c in w)) for w in words], line)
            for words in commands
        ]

    def all_safe(self, commands: Iterable[list[str]]) -> bool:
        """Whether every command of the line is known-safe."""
        verdicts = self.check(commands)
        return bool(verdicts) and all(v is None for v in verdicts)

    def _one(self, raw: list[Word], line: _Line) -> str | None:
        if not raw:
            return "no command"
        if any(_HIDDEN.search(word.text) for word in raw):
            return "it holds control or direction characters that hide what it says"
        if any(word.brace for word in raw):
            return "it holds a brace expansion"
        if any(word.tilde for word in raw):
            return "it holds a ~ that bash would expand to a home directory"
        if any(word.bracket for word in raw):
            return "it holds a [ ] pattern that bash matches in its own way"
        words, why = _strip_wrappers(raw)
        if why:
            return why
        name, args = words[0], words[1:]
        if name.text == "git" and len(words) < len(raw):
            return "a wrapper in front of git would run it past the read-only settings"
        if name.glob or (name.quoted and name.text in _WRAPPER_NAMES):
            return f"{name.text} is not on the known-safe list"
        if len(line.cwds) > _MAX_CWDS:
            return "too many changes of directory to follow"
        if name.text == "cd":
            return _cd(args, line)
        checker = _SPECIAL.get(name.text)
        if checker is not None:
            if any(word.glob for word in args) and name.text not in ("find", "git"):
                return f"{name.text} with an unquoted glob is not known to be safe"
            return checker(args, line)
        spec = SPECS.get(name.text)
        if spec is None:
            return f"{name.text} is not on the known-safe list"
        return _validate(spec, name.text, args, line)


#: Commands with a validator of their own (the rest use :data:`SPECS`).
_SPECIAL: dict[str, Callable[[list[Word], _Line], str | None]] = {
    "git": _git,
    "find": _find,
    "sed": _sed,
    "date": _date,
}
