"""The offline ``demo`` model: deterministic scripted replies, no network.

It is the default on a machine with no provider, so ``agentkit`` works at once, and it is
the model the UI tests and screenshots use. It recognises a few intents in the last user
message so that every feature can be seen: a greeting, a long Markdown answer, a read-only
tool call answered from the tool's real output, a ``shell`` call that needs approval, a
question back to the user, a thinking preamble, and a plan and a team for the planning
modes (a JSON plan for the planner, a JSON team plan for the lead, one tool call per phase
and a summary at the end). It always says that it is a demo and what to configure instead.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from app.llm.toolcalls import nine_alnum_id
from app.llm.types import (
    ChatMessage,
    ChatRequest,
    Chunk,
    FinishChunk,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallChunk,
    UsageChunk,
)

DEMO_MODEL = "demo"
DEMO_NOTICE = (
    "This is the offline demo model: scripted replies, no network. For a real model set "
    "OPENAI_API_KEY or ANTHROPIC_API_KEY, start Ollama, or add a [providers.NAME] entry and "
    "default_model to config.toml (see `agentkit models`)."
)
_TAG = "\n\n_(offline demo reply)_"
#: The answers the demo offers when it asks the person a question.
DEMO_CHOICES = ("The code", "The tests", "The docs")
_TOKEN = re.compile(r"\S+\s*|\s+")
_PATH = re.compile(r"[\w./~-]+\.[A-Za-z0-9]{1,8}\b")
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|yo|howdy|greetings|good (morning|afternoon|evening)|hallo|bonjour)\b",
    re.IGNORECASE,
)


@dataclass
class DemoReply:
    """What the demo model says to one request: reasoning, text and tool calls."""

    text: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


def tokens(text: str) -> list[str]:
    """Split text into word-sized tokens whose concatenation is the text."""
    return _TOKEN.findall(text)


class DemoModel:
    """Streams scripted replies token by token, ``delay`` seconds apart (0 in tests)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def stream(self, request: ChatRequest) -> AsyncGenerator[Chunk, None]:
        """Yield the reply to ``request`` as chunks, like a real provider would."""
        reply = self.reply(request)
        emitted = 0
        for token in tokens(reply.thinking):
            yield ThinkingDelta(text=token)
            emitted += 1
            await asyncio.sleep(self.delay)
        for token in tokens(reply.text):
            yield TextDelta(text=token)
            emitted += 1
            await asyncio.sleep(self.delay)
        for call in reply.tool_calls:
            yield ToolCallChunk(call=call)
        words = sum(len(m.content.split()) for m in request.messages) + len(
            (request.system or "").split()
        )
        yield UsageChunk(input_tokens=words, output_tokens=emitted, raw={"demo": True})
        reason = "tool_calls" if reply.tool_calls else "stop"
        yield FinishChunk(reason=reason, native_reason=reason, model=DEMO_MODEL)

    def reply(self, request: ChatRequest) -> DemoReply:
        """Decide the reply from the history alone (deterministic)."""
        history = [m for m in request.messages if m.role != "system"]
        if history and history[-1].role == "tool":
            return _answer_from_tools(history)
        text = next((m.content for m in reversed(history) if m.role == "user"), "")
        lowered = text.lower()
        offered = {tool.name for tool in request.tools}
        system = (request.system or "").lower()
        seed = f"{len(history)}:{text}"
        # The planning modes' own calls, recognised by their instructions.
        if "write the final answer for the person" in system:
            return DemoReply(text=_synthesis(text))
        if "carrying out one phase" in system:
            return _phase_step(text, offered, seed)
        if "you lead a team of experts" in system:
            return DemoReply(text=_team_plan(request.system or ""))
        if "you are the planner" in system:
            return DemoReply(text=_plan(text))
        if re.search(r"\b(make|write|draft) a plan\b|^plan\b", lowered):
            return DemoReply(text=_PLAN_HINT + _TAG)
        if re.search(r"\bteam\b|\bexperts?\b", lowered):
            return DemoReply(text=_TEAM_HINT + _TAG)
        command = _command(text)
        if command is not None:
            return _tool(
                "shell",
                {"command": command, "timeout": 30},
                offered,
                seed,
                f"I'll run `{command}` in the workspace. A command the approval policy does not "
                "know to be safe waits for your approval first.",
            )
        if re.search(r"\bask me\b|\bquestion\b|\bclarify\b|\bhelp me (choose|decide)\b", lowered):
            question = (
                "Which would you like me to focus on first: the code, the tests, or the docs?"
            )
            return _tool(
                "ask_human",
                {"question": question, "choices": list(DEMO_CHOICES)},
                offered,
                seed,
                "Before I go on, I need one thing from you.",
            )
        path = _PATH.search(text)
        wants_read = re.search(r"\b(read|open|cat|contents of)\b", lowered)
        if wants_read or (path and re.search(r"\b(show|look at|what is in)\b", lowered)):
            target = path.group(0) if path else "README.md"
            return _tool("read_file", {"path": target}, offered, seed, f"Let me read `{target}`.")
        if re.search(r"\b(list|files|directory|folder|ls|workspace)\b", lowered):
            return _tool(
                "list_dir",
                {"path": "."},
                offered,
                seed,
                "Let me look at the files in the workspace.",
            )
        if re.search(r"\b(markdown|long|table|code|example|explain|format)\b", lowered):
            return DemoReply(text=_markdown())
        if re.search(r"\b(think|reason|why|step by step)\b", lowered):
            return DemoReply(thinking=_THINKING, text=_THOUGHT_ANSWER + _TAG)
        if _GREETING.match(text):
            return DemoReply(text=_GREETING_TEXT)
        return DemoReply(text=_fallback(text))


def _command(text: str) -> str | None:
    if not re.search(r"\b(run|execute|shell|command)\b", text, re.IGNORECASE):
        return None
    quoted = re.search(r"`([^`]+)`", text)
    if quoted:
        return quoted.group(1).strip()
    if re.search(r"\btests?\b", text, re.IGNORECASE):
        return "python -m pytest -q"
    return "ls -la"


def _tool(
    name: str, arguments: dict[str, Any], offered: set[str], seed: str, preamble: str
) -> DemoReply:
    if name not in offered:
        return DemoReply(
            text=f"I would call the `{name}` tool now, but it is not enabled for this "
            "conversation. "
            f"Try an agent with tools, or ask something else.{_TAG}"
        )
    call_id = "call_" + nine_alnum_id(f"{seed}:{name}:{json.dumps(arguments, sort_keys=True)}")
    return DemoReply(
        text=preamble, tool_calls=[ToolCall(id=call_id, name=name, arguments=arguments)]
    )


def _answer_from_tools(history: list[ChatMessage]) -> DemoReply:
    results: list[ChatMessage] = []
    for message in reversed(history):
        if message.role != "tool":
            break
        results.insert(0, message)
    calls: dict[str, ToolCall] = {}
    for message in history:
        for call in message.tool_calls:
            calls[call.id] = call
    parts = [_describe_result(result, calls.get(result.tool_call_id or "")) for result in results]
    return DemoReply(text="\n\n".join(parts) + _TAG)


def _describe_result(result: ChatMessage, call: ToolCall | None) -> str:
    name = result.tool_name or (call.name if call else "tool")
    arguments = call.arguments if call else {}
    output = result.content.strip()
    lines = output.splitlines()
    if result.is_error:
        first = lines[0] if lines else "no details"
        return f"The `{name}` call did not succeed: {first}. I will not pretend it ran."
    if name == "list_dir":
        if lines and re.search(r"/ \(\d+ entr(y|ies)\)$", lines[0]):
            lines = lines[1:]  # the tool's header line ("src/ (3 entries)")
        shown = "\n".join(f"- `{line.strip()}`" for line in lines[:15])
        more = f"\n- …and {len(lines) - 15} more" if len(lines) > 15 else ""
        where = arguments.get("path", ".")
        return f"The directory `{where}` has {len(lines)} entries:\n\n{shown}{more}"
    if name == "read_file":
        head = "\n".join(lines[:12])
        return (
            f"`{arguments.get('path', 'the file')}` has {len(lines)} lines. It begins:\n\n"
            f"```\n{head}\n```"
        )
    if name == "shell":
        head = "\n".join(lines[-20:]) or "(no output)"
        return (
            f"`{arguments.get('command', 'The command')}` finished. Its output:\n\n```\n{head}\n```"
        )
    if name == "ask_human":
        return (
            f"Thanks, you answered: “{output}”. With a real model I would now continue from there."
        )
    return f"The `{name}` tool returned {len(output)} characters of output."


# The planning modes. The plan and the team's phases are fixed, so that each phase's title
# says what the demo does in it: survey → list_dir, README → read_file, else a short text.

_PLAN_HINT = (
    "To work on this in phases, send it as `/plan <the task>` (or run `agentkit run --mode "
    "plan`): I then plan phases, carry them out one by one and sum up. For a team of experts "
    "working at the same time, use `/team <the task>`."
)
_TEAM_HINT = (
    "To hand this to a team of experts, send it as `/team <the task>` (or run `agentkit run "
    "--mode team`): a lead splits the work, the experts work on it at the same time, and the "
    "lead sums up. To plan in phases on my own, use `/plan <the task>`."
)


def _plan(task: str) -> str:
    """The planner's reply: three phases as JSON."""
    goal = " ".join(task.split())[:160] or "the task"
    phases = [
        {
            "id": "p1",
            "title": "Survey the workspace",
            "goal": "List the files in the workspace to see what is there.",
            "produces": "An overview of the files.",
        },
        {
            "id": "p2",
            "title": "Read the README",
            "goal": "Read README.md to learn what the project is and how it is used.",
            "produces": "The facts that matter for the task.",
        },
        {
            "id": "p3",
            "title": "Propose the next steps",
            "goal": f"Write down concrete next steps for: {goal}",
            "produces": "A short list of steps.",
        },
    ]
    return json.dumps({"phases": phases}, ensure_ascii=False, indent=2)


def _team_plan(system: str) -> str:
    """The lead's reply: two independent phases and a review that needs both, as JSON."""
    found = re.search(r"^Expert ids: (.+)$", system, re.MULTILINE)
    ids = [part.strip() for part in found.group(1).split(",")] if found else []
    ids = [expert for expert in ids if expert] or ["researcher", "engineer", "reviewer"]
    phases = [
        {
            "id": "p1",
            "title": "Survey the workspace",
            "goal": "List the files in the workspace and note what matters.",
            "expert": ids[0],
            "depends_on": [],
        },
        {
            "id": "p2",
            "title": "Read the README",
            "goal": "Read README.md and propose how to approach the task.",
            "expert": ids[1 % len(ids)],
            "depends_on": [],
        },
        {
            "id": "p3",
            "title": "Review the findings",
            "goal": "Check the survey and the proposal for risks and gaps.",
            "expert": ids[2 % len(ids)],
            "depends_on": ["p1", "p2"],
        },
    ]
    return json.dumps({"phases": phases}, ensure_ascii=False, indent=2)


def _phase_step(text: str, offered: set[str], seed: str) -> DemoReply:
    """The first step of a phase (the tool results are answered by ``_answer_from_tools``)."""
    found = re.search(r"^Your phase: \S+ — (.+)$", text, re.MULTILINE)
    title = found.group(1).strip().lower() if found else ""
    if "survey" in title:
        return _tool("list_dir", {"path": "."}, offered, seed, "First, the files in the workspace.")
    if "readme" in title:
        return _tool("read_file", {"path": "README.md"}, offered, seed, "Now the README.")
    if "review" in title:
        return DemoReply(
            text="I went through the survey and the proposal. Nothing in them is risky: the "
            "files were only read, never changed. A real reviewer model would point at "
            f"specific lines and edge cases here.{_TAG}"
        )
    return DemoReply(
        text="Next steps, from what the earlier phases found:\n\n1. Decide where the change "
        "belongs.\n2. Make it in a small, tested step.\n3. Run the tests and update the docs."
        f"\n\nA real model would base these on the actual files.{_TAG}"
    )


def _synthesis(text: str) -> str:
    """The final answer of a plan or team turn: one line per phase, from its heading."""
    lines = []
    for match in re.finditer(r"^## (\S+) — (.+?) \((.+)\)$", text, re.MULTILINE):
        phase_id, title, how = match.groups()
        status = how.rsplit(", ", 1)[-1]
        who = how.rsplit(", ", 1)[0] + " — " if ", " in how else ""
        lines.append(f"- **{title}** ({phase_id}): {who}{status}")
    listed = "\n".join(lines) or "- (no phases ran)"
    return (
        "## Summary\n\nThe work was split into phases; here is how each went:\n\n"
        f"{listed}\n\nWith a real model this answer would combine the phase results into one "
        f"reply; the demo only shows how the modes run.{_TAG}"
    )


def _markdown() -> str:
    return (
        "# A tour of what the app can show\n\n"
        "This answer is long on purpose: it exercises the Markdown renderer while it streams.\n\n"
        "## What you can try\n\n"
        "- **Greet me** to see a direct answer with no tools.\n"
        "- Ask me to *list the files* or *read README.md*: I call a read-only tool and answer "
        "from its real output.\n"
        "- Ask me to *run `touch notes.txt`*: the `shell` tool asks for your approval first;\n"
        "  *run `ls -la`* only reads, so the approval policy allows it without asking.\n"
        "- Ask me to *ask you a question*, or to *think step by step*.\n\n"
        "## How the modes compare\n\n"
        "| Mode | Tools | When |\n"
        "|------|-------|------|\n"
        "| Direct chat | none | greetings and small talk |\n"
        "| ReAct | all enabled | most requests |\n"
        "| Plan and execute | per phase | multi-step work |\n"
        "| Team | per expert | reviews and design questions |\n\n"
        "## A code block\n\n"
        "```python\n"
        "async def main() -> None:\n"
        "    async with Gateway(settings) as gateway:\n"
        "        async for chunk in gateway.stream(request):\n"
        "            print(chunk)\n"
        "```\n\n"
        "### Numbered steps\n\n"
        "1. Configure a provider.\n"
        "2. Pick its model with the model picker.\n"
        "3. Ask again, and compare.\n\n"
        f"> {DEMO_NOTICE}\n"
    )


_GREETING_TEXT = (
    "Hello! I'm the **offline demo model** of AgentKit: I answer from a script, without a network, "
    "so you can try the app right away.\n\n"
    "Try: *list the files*, *read README.md*, *run `touch notes.txt`* (asks for your approval), "
    "*run `ls -la`* (known to be safe: allowed by the policy), *ask me a question*, "
    "*think step by step*, or *show me some markdown*.\n\n"
    f"{DEMO_NOTICE}"
)

_THINKING = (
    "The user wants me to reason before answering. First, restate the question. "
    "Second, weigh the options. Third, answer briefly and say what would change the answer."
)

_THOUGHT_ANSWER = (
    "Having thought it through: the short answer is *it depends on what you optimise for*. "
    "A real model would reason about your actual question here; I am a scripted demo, so this "
    "reply only shows how reasoning appears, in a collapsible block above the answer."
)


def _fallback(text: str) -> str:
    quoted = " ".join(text.split())[:120]
    return (
        f"You said: “{quoted}”.\n\n"
        "I can't really answer that: I'm the offline demo model and only know a few scripted "
        "replies (*hello*, *list the files*, *read README.md*, *run `touch notes.txt`*, *ask "
        "me a question*, *think step by step*, *show me some markdown*, *make a plan*, "
        "*form a team*).\n\n"
        f"{DEMO_NOTICE}"
    )
