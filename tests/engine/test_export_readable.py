"""The Markdown export of sessions the real engine ran (demo model, real store, real tools)
reads as lines for people: no event is written as raw JSON, and plans, teams, questions with
choices and approvals decided by the policy each get their own line."""

from __future__ import annotations

import re

from app.engine.human import Decision
from tests.engine.conftest import Harness, ScriptedHuman

#: A logged event written as its JSON (what the export did before), e.g. > `usage` {"data"…
RAW_EVENT = re.compile(r'^> `\w+` \{|\{"data"', re.MULTILINE)


async def _export(harness: Harness) -> str:
    return await harness.store.export_session(harness.session_id, "md")


async def test_a_plan_turn_lists_the_plan_and_each_phase(harness: Harness) -> None:
    await harness.turn("/plan add a --verbose flag", model="demo")
    text = await _export(harness)
    assert not RAW_EVENT.search(text), text
    plan = "> **Plan**\n>\n> 1. Survey the workspace\n> 2. Read the README\n"
    assert text.count(plan) == 1  # listed once, not once per status change
    order = [
        plan,
        "> **Phase 1:** Survey the workspace",
        "**Tool call** `list_dir`",
        "> Phase done: Survey the workspace",
        "> **Phase 3:** Propose the next steps",
        "> _Turn completed · demo: ",
    ]
    positions = [text.index(piece) for piece in order]
    assert positions == sorted(positions)
    assert '```json\n{\n  "phases"' in text  # the planner's reply, fenced as what it is


async def test_a_team_turn_names_the_team_and_who_finished(harness: Harness) -> None:
    await harness.turn("/team add a --verbose flag", model="demo")
    text = await _export(harness)
    assert not RAW_EVENT.search(text), text
    assert "> **Team formed:** Researcher, Engineer, Reviewer (lead: engineer)" in text
    assert "> Reviewer finished" in text and "> Team dissolved" in text
    assert "team_synthesis" not in text and "expert_step" not in text


async def test_a_question_with_choices_and_the_answer_read_as_such(harness: Harness) -> None:
    person = ScriptedHuman(answers=["The tests"])
    await harness.turn("ask me a question", human=person, model="demo")
    assert person.questions[0].choices == ("The code", "The tests", "The docs")
    text = await _export(harness)
    assert not RAW_EVENT.search(text), text
    assert "> Choices: 1. The code · 2. The tests · 3. The docs" in text
    assert "### Answer to the agent's question · " in text
    assert text.index("> **The agent asked:** Which would you like") < text.index("\nThe tests\n")
    assert "**Approved** `ask_human`" not in text  # a question needs no approval line


async def test_who_allowed_a_command_is_named(harness: Harness) -> None:
    person = ScriptedHuman(decisions=[Decision(action="approve")])
    await harness.turn("run `ls -la`", human=person, model="demo")  # known to be safe
    await harness.turn("run `touch notes.txt`", human=person, model="demo")  # asks
    text = await _export(harness)
    assert not RAW_EVENT.search(text), text
    assert "> **Approved** `shell` `ls -la` · by the approval policy" in text
    assert "> **Approved** `shell` `touch notes.txt` · by you" in text
    assert "- command: `touch notes.txt`" in text
    assert person.requests and len(person.requests) == 1
