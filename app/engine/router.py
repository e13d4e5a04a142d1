"""Routing a user message: ``@skill`` prefixes, greetings, ``/plan`` and ``/team``, else ReAct."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

from app.engine.skills import Agent, ExecutionMode, Skill, SkillSet

#: Whole messages that are only a greeting or thanks, after normalising (lower case, no
#: punctuation or emoji, single spaces). A message that asks something as well is not one.
_GREETING_LIST = """
    hi|hello|hey|hiya|howdy|yo|hi there|hello there|hey there|greetings|morning|good morning
    good afternoon|good evening|good day|hi agentkit|hello agentkit|hey agentkit
    thanks|thank you|thanks a lot|thank you very much|thanks so much|many thanks|thx|ty|cheers
    great thanks|ok thanks|okay thanks|perfect thanks|awesome thanks|thanks again
    bonjour|salut|coucou|bonsoir|merci|merci beaucoup
    hola|buenos dias|buenas tardes|buenas noches|gracias|muchas gracias
    hallo|guten morgen|guten tag|guten abend|moin|servus|danke|danke schön|danke schon|vielen dank
    ciao|buongiorno|buonasera|grazie|grazie mille
    olá|ola|bom dia|boa tarde|boa noite|obrigado|obrigada
    hoi|goedemorgen|dank je|dank je wel|bedankt
    hej|tack|tak|kiitos|cześć|czesc|dziękuję|dziekuje|ahoj|děkuji|dekuji
    привет|здравствуйте|добрый день|спасибо|большое спасибо
    merhaba|selam|teşekkürler|tesekkurler|teşekkür ederim
    こんにちは|こんばんは|おはよう|おはようございます|ありがとう|ありがとうございます
    你好|您好|嗨|谢谢|謝謝|多谢|안녕|안녕하세요|감사합니다|고마워
    namaste|नमस्ते|धन्यवाद|shukran|شكرا|مرحبا|السلام عليكم|shalom|שלום|תודה
"""
COMMAND_USAGE = {
    "plan": (
        "Say what to plan after `/plan`, for example `/plan add a --verbose flag to the CLI`: "
        "the task is split into phases that run one after another."
    ),
    "team": (
        "Say what the team should do after `/team`, for example `/team review the parser`: "
        "a lead splits the work between experts who work on it at the same time."
    ),
}
GREETINGS = frozenset(
    item.strip() for item in _GREETING_LIST.replace("\n", "|").split("|") if item.strip()
)


class RoutingResult(BaseModel):
    """Where a message goes, and with what prompt, tools and model."""

    matched: bool = False
    skill_name: str | None = None
    match_method: str | None = None
    match_confidence: float = 0.0
    tools: list[str] | None = None
    system_prompt: str
    model: str
    agent_name: str
    clean_content: str
    execution_mode: ExecutionMode
    #: The team for TEAM_COLLAB (a skill's ``team:``); ``None`` = the default team.
    team: str | None = None
    #: Set when the message is answered locally without a model (an unknown ``@skill``).
    local_reply: str | None = None
    #: The ``notice`` code that goes with a local reply.
    local_code: str = "unknown_skill"


def normalise(text: str) -> str:
    """Lower case, punctuation and symbols removed, single spaces: for greeting matches."""
    kept = []
    for char in unicodedata.normalize("NFC", text.lower()):
        category = unicodedata.category(char)
        if category[0] in ("L", "N", "M"):
            kept.append(char)
        elif category[0] == "Z" or char in "\t\n\r-_":
            kept.append(" ")
    return " ".join("".join(kept).split())


def is_greeting(text: str) -> bool:
    """Whether the whole message is only a greeting or a thank-you."""
    return normalise(text) in GREETINGS


class SimpleRouter:
    """Routes messages for one agent given the loaded skills."""

    def __init__(self, skills: SkillSet) -> None:
        self.skills = skills

    def route(self, text: str, agent: Agent, mode: ExecutionMode | None = None) -> RoutingResult:
        """Decide how ``text`` runs; ``mode`` forces a mode (``agentkit run --mode``)."""
        base = RoutingResult(
            system_prompt=agent.system_prompt,
            model=agent.model,
            agent_name=agent.name,
            tools=agent.tools,
            clean_content=text.strip(),
            execution_mode=mode or ExecutionMode.REACT,
        )
        stripped = text.strip()
        command = re.match(r"^/(plan|team)(?:\s+|$)(.*)", stripped, re.DOTALL)
        if command:
            forced = ExecutionMode.PLAN_EXEC if command[1] == "plan" else ExecutionMode.TEAM_COLLAB
            task = command[2].strip()
            update: dict[str, object] = {"execution_mode": forced, "clean_content": task}
            if not task:
                update["local_reply"] = COMMAND_USAGE[command[1]]
                update["local_code"] = "usage"
            return base.model_copy(update=update)
        prefix = re.match(r"^@([A-Za-z0-9_-]+)(?:\s+|$)(.*)", stripped, re.DOTALL)
        if prefix:
            return self._route_skill(prefix[1].lower(), prefix[2].strip(), base, mode)
        if mode is None and is_greeting(stripped):
            return base.model_copy(update={"execution_mode": ExecutionMode.DIRECT_CHAT})
        return base

    def _route_skill(
        self, name: str, rest: str, base: RoutingResult, mode: ExecutionMode | None
    ) -> RoutingResult:
        found = self.skills.find(name)
        if len(found) != 1:
            return base.model_copy(
                update={"local_reply": self.unknown_skill_reply(name, found), "clean_content": rest}
            )
        skill: Skill = found[0]
        return base.model_copy(
            update={
                "matched": True,
                "skill_name": skill.name,
                "match_method": "prefix" if skill.name == name else "unique_prefix",
                "match_confidence": 1.0,
                "tools": skill.tools if skill.tools is not None else base.tools,
                "system_prompt": f"{base.system_prompt}\n\n{skill.system_prompt}",
                "model": skill.model or base.model,
                "clean_content": rest,
                "execution_mode": mode or skill.mode,
                "team": skill.team,
            }
        )

    def unknown_skill_reply(self, name: str, candidates: list[Skill]) -> str:
        """The local answer to an unknown or ambiguous ``@name``: the skills there are."""
        if candidates:
            names = ", ".join(f"@{s.name}" for s in candidates)
            head = f"`@{name}` matches several skills: {names}. Type more of the name."
        else:
            head = f"There is no skill called `@{name}`."
        lines = [head, "", "Skills you can use:"]
        for skill in sorted(self.skills.skills.values(), key=lambda s: s.name):
            lines.append(f"- `@{skill.name}` — {skill.description or 'no description'}")
        if not self.skills.skills:
            lines.append("- (none loaded)")
        return "\n".join(lines)
