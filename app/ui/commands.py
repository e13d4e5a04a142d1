"""The composer's ``/commands`` and its ``@skill`` / ``/command`` completion."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.ui.keys import COMMANDS, COMMANDS_BY_NAME, ENGINE_COMMANDS
from app.ui.widgets.composer import Composer

if TYPE_CHECKING:
    from app.ui.app import AgentKitApp

_FIRST_WORD = re.compile(r"([@/])([\w-]*)")
_COMMAND = re.compile(r"/[\w-]+")


class Commands:
    """Reads what the person types and sends: completions, commands, messages."""

    def __init__(self, app: AgentKitApp) -> None:
        """Serve ``app``'s composer."""
        self.app = app

    def completions(self, composer: Composer) -> None:
        """Offer completions while the first word is an ``@skill`` or a ``/command``."""
        match = _FIRST_WORD.fullmatch(composer.text)
        lines: list[str] = []
        composer.completion = None
        if match:
            sigil, typed = match.groups()
            if sigil == "@":
                known = self.app.service.skills.skills if self.app.has_service else {}
                skills = sorted(known.values(), key=lambda s: s.name)
                found = [(f"@{s.name}", s.description) for s in skills if s.name.startswith(typed)]
            else:
                found = [(c.name, c.description) for c in COMMANDS if c.name[1:].startswith(typed)]
            lines = [f"{name:<12} {description}" for name, description in found]
            if found:
                composer.completion = found[0][0]
                lines[0] += "   (tab completes)"
        self.app.main.show_completions(lines)

    async def submitted(self, text: str) -> None:
        """Run a ``/command``, refuse an unknown one, or send the message."""
        self.app.main.show_completions([])
        stripped = text.strip()
        command, _, argument = stripped.partition(" ")
        if stripped.startswith("/") and command in COMMANDS_BY_NAME:
            if command not in ENGINE_COMMANDS:
                await self.run(command, argument.strip())
                return
        elif stripped.startswith("/") and _COMMAND.fullmatch(command):
            names = ", ".join(c.name for c in COMMANDS)
            self.app.notify(f"Unknown command {command}. Commands: {names}", markup=False)
            return
        await self.app.conversation.send(text)

    async def run(self, command: str, argument: str) -> None:
        """Do what a ``/command`` typed in the composer asks."""
        actions = self.app.actions
        if command == "/export":
            await actions.export(argument or "md")
        elif command == "/rename" and argument:
            await actions.rename(argument)
        elif command == "/rename":
            await actions.rename_in_dialog()
        elif command == "/compact":
            from app.ui.session.compacting import start_compaction  # the engine loads late

            start_compaction(self.app, argument)
        else:
            action = COMMANDS_BY_NAME[command].action
            if action is not None:
                await self.app.action_run(action)
