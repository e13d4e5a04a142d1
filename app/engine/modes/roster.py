"""Teams: who works in TEAM_COLLAB mode, from ``[teams.NAME]`` in the config or built in.

The built-in ``default`` roster is a researcher, an engineer (the lead) and a reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.engine.modes.errors import ModeError

PALETTE = ("#4FC1FF", "#73C991", "#C586C0", "#E2C08D", "#F48771", "#9CDCFE", "#D7BA7D")
READ_TOOLS = ["list_dir", "read_file", "find_files", "search_text"]


@dataclass(frozen=True)
class Expert:
    """One member of a team."""

    id: str
    name: str
    role: str
    color: str
    tools: list[str] | None = None
    model: str = "default"


@dataclass(frozen=True)
class Team:
    """A lead plus experts (the lead is one of them)."""

    name: str
    lead: str
    experts: tuple[Expert, ...]
    description: str = ""

    def expert(self, expert_id: str) -> Expert:
        """The expert with this id."""
        return next(e for e in self.experts if e.id == expert_id)


BUILTIN_TEAM = Team(
    name="default",
    lead="engineer",
    description="A researcher, an engineer (the lead) and a reviewer",
    experts=(
        Expert(
            "researcher",
            "Researcher",
            "You find the relevant files, facts and constraints, and report them precisely "
            "with file names and line numbers. You do not change anything.",
            PALETTE[0],
            READ_TOOLS,
        ),
        Expert(
            "engineer",
            "Engineer",
            "You design and make concrete changes: code, commands, configuration. You read "
            "before you edit and keep changes small.",
            PALETTE[1],
        ),
        Expert(
            "reviewer",
            "Reviewer",
            "You check work for bugs, risks and missing pieces, and say plainly what is "
            "wrong and how to fix it. You do not change anything.",
            PALETTE[2],
            READ_TOOLS,
        ),
    ),
)


def resolve_team(settings: Settings, name: str | None = None) -> Team:
    """The team called ``name`` (default ``default``): from the config, else built in."""
    wanted = name or "default"
    config = settings.teams.get(wanted)
    if config is None:
        if wanted != "default":
            known = ", ".join(sorted({"default", *settings.teams}))
            raise ModeError(f"unknown team '{wanted}' (teams: {known})")
        return BUILTIN_TEAM
    experts = tuple(
        Expert(
            id=item.id,
            name=item.name,
            role=item.role,
            color=item.color or PALETTE[index % len(PALETTE)],
            tools=item.tools,
            model=item.model,
        )
        for index, item in enumerate(config.experts)
    )
    lead = config.lead or experts[0].id
    if lead not in {e.id for e in experts}:
        raise ModeError(f"team '{wanted}': its lead '{lead}' is not one of its experts")
    return Team(wanted, lead, experts, config.description)
