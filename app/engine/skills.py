"""Skills and agents: what a message is routed to, and who answers it.

A skill is a Markdown file whose front matter (between ``---`` lines) names it and sets its
tools, model and mode; the body is its system prompt. Skills load from the app's built-ins,
the user's ``skills/`` folder and the workspace's ``.agentkit/skills/``; a later one wins by
name. A broken file is reported by name and the others still load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from app.config import AgentConfig, ApprovalMode, Settings

BUILTIN_SKILLS_DIR = Path(__file__).resolve().parent.parent / "skills"


class ExecutionMode(StrEnum):
    """How a turn runs."""

    DIRECT_CHAT = "DIRECT_CHAT"
    REACT = "REACT"
    SKILL_REACT = "SKILL_REACT"
    PLAN_EXEC = "PLAN_EXEC"
    TEAM_COLLAB = "TEAM_COLLAB"
    REWOO = "REWOO"
    REFLEXION = "REFLEXION"


#: The ``mode:`` words a skill file may use.
SKILL_MODES = {
    "react": ExecutionMode.SKILL_REACT,
    "direct": ExecutionMode.DIRECT_CHAT,
    "plan": ExecutionMode.PLAN_EXEC,
    "team": ExecutionMode.TEAM_COLLAB,
    "rewoo": ExecutionMode.REWOO,
    "reflexion": ExecutionMode.REFLEXION,
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_FIELDS = {"name", "description", "tools", "model", "mode", "team"}


@dataclass(frozen=True)
class Skill:
    """One loaded skill."""

    name: str
    description: str
    system_prompt: str
    tools: list[str] | None = None
    model: str | None = None
    mode: ExecutionMode = ExecutionMode.SKILL_REACT
    team: str | None = None
    source: Path | None = None


@dataclass
class SkillSet:
    """Skills by name, plus the problems met while loading them."""

    skills: dict[str, Skill] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def find(self, name: str) -> list[Skill]:
        """The skill called ``name``, or every skill it is a prefix of."""
        if name in self.skills:
            return [self.skills[name]]
        return [skill for key, skill in sorted(self.skills.items()) if key.startswith(name)]


class SkillFileError(ValueError):
    """A skill file that cannot be used."""


def parse_skill(text: str, source: Path | None = None) -> Skill:
    """Parse one skill file's text (front matter + body)."""
    match = re.match(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?(.*)\Z", text, re.DOTALL)
    if not match:
        raise SkillFileError("it must start with a front-matter block between '---' lines")
    header, body = match.groups()
    values: dict[str, str] = {}
    for number, line in enumerate(header.splitlines(), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in _FIELDS:
            raise SkillFileError(
                f"line {number}: expected 'key: value' with key one of {', '.join(sorted(_FIELDS))}"
            )
        values[key] = value.strip().strip("\"'")
    name = values.get("name") or (source.stem if source else "")
    if not _NAME.match(name):
        raise SkillFileError(f"name {name!r} must be lower-case letters, digits, '-' or '_'")
    mode_word = values.get("mode", "react").lower()
    if mode_word not in SKILL_MODES:
        raise SkillFileError(f"mode {mode_word!r} must be one of {', '.join(SKILL_MODES)}")
    tools = None
    if "tools" in values:
        tools = [
            t.strip().strip("\"'") for t in values["tools"].strip("[]").split(",") if t.strip()
        ]
    if not body.strip():
        raise SkillFileError("the body (the skill's system prompt) is empty")
    return Skill(
        name=name,
        description=values.get("description", ""),
        system_prompt=body.strip(),
        tools=tools,
        model=values.get("model") or None,
        mode=SKILL_MODES[mode_word],
        team=values.get("team") or None,
        source=source,
    )


def load_skills(folders: list[Path]) -> SkillSet:
    """Load every ``*.md`` skill from ``folders`` in order; later folders override earlier."""
    loaded = SkillSet()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                skill = parse_skill(path.read_text(encoding="utf-8"), path)
            except (OSError, UnicodeDecodeError, SkillFileError) as exc:
                loaded.problems.append(f"skill file {path} skipped: {exc}")
                continue
            loaded.skills[skill.name] = skill
    return loaded


def skill_folders(user_skills: Path, workspace: Path) -> list[Path]:
    """Where skills come from, lowest priority first."""
    return [BUILTIN_SKILLS_DIR, user_skills, workspace / ".agentkit" / "skills"]


# --------------------------------------------------------------------------- agents

DEFAULT_SYSTEM_PROMPT = (
    "You are AgentKit, a capable assistant working in the person's terminal, inside their "
    "workspace. Use the tools to look at files and run commands instead of guessing; read "
    "before you edit. Tools that change things ask the person first. Keep answers concise "
    "and use Markdown (code blocks for code and commands)."
)


@dataclass(frozen=True)
class Agent:
    """A named assistant: prompt, model, tools and approval mode."""

    name: str
    system_prompt: str
    model: str = "default"
    tools: list[str] | None = None
    approval: ApprovalMode | None = None
    description: str = ""


def resolve_agent(settings: Settings, name: str | None = None) -> Agent:
    """The agent called ``name`` (default: ``default_agent``); ``default`` is built in."""
    wanted = name or settings.default_agent
    config = settings.agents.get(wanted)
    if config is None:
        if wanted != "default":
            known = ", ".join(sorted({"default", *settings.agents})) or "default"
            raise KeyError(f"unknown agent '{wanted}' (agents: {known})")
        config = AgentConfig(description="General assistant with the built-in tools")
    return Agent(
        name=wanted,
        system_prompt=config.system_prompt or DEFAULT_SYSTEM_PROMPT,
        model=config.model,
        tools=config.tools,
        approval=config.approval,
        description=config.description,
    )
