"""Rules in force through ``ChatService``: listed with where each lives, and removed from its
file and from every live policy of the run, with real rule files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.engine.human import Decision
from app.engine.service import RuleEntry
from app.paths import workspace_config_file
from tests.engine.conftest import Harness, ScriptedHuman

WORKSPACE_RULES = '# the team\'s rules\n[approval]\nallow = ["shell(make *)"]\n'
USER_RULES = '[approval]\ndeny = ["shell(rm *)"]\n'


async def _harness(make_harness: Callable[..., Any]) -> Harness:
    """Rules in both files, and the same rules in force (as loading the config merges them)."""
    harness: Harness = await make_harness(
        approval={"allow": ["shell(make *)"], "deny": ["shell(rm *)"], "timeout_seconds": 5}
    )
    workspace_file = workspace_config_file(harness.workspace)
    workspace_file.parent.mkdir(parents=True, exist_ok=True)
    workspace_file.write_text(WORKSPACE_RULES)
    harness.service.user_config_file.write_text(USER_RULES)
    return harness


async def _decider(harness: Harness, command: str, person: ScriptedHuman) -> str | None:
    """Who decided a shell call of ``command`` in a new turn."""
    harness.script(harness.calls(("shell", {"command": command})), harness.text("ok"))
    turn = await harness.turn("go", human=person)
    decided = turn.of("confirmation_result")
    return decided[0].data.decider if decided else None


async def test_saved_rules_lists_session_workspace_and_user_rules(
    make_harness: Callable[..., Any],
) -> None:
    harness = await _harness(make_harness)
    person = ScriptedHuman(decisions=[Decision(action="approve_always", rule="shell(touch *)")])
    assert await _decider(harness, "touch made", person) == "user"
    listing = harness.service.saved_rules()
    assert listing.problems == []
    workspace_file = workspace_config_file(harness.workspace)
    assert listing.rules == [
        RuleEntry("shell(touch *)", "allow", "session", session_id=harness.session_id),
        RuleEntry("shell(make *)", "allow", "workspace", path=workspace_file),
        RuleEntry("shell(rm *)", "deny", "user", path=harness.service.user_config_file),
    ]
    # Another session's listing has no session rules of this one.
    assert [e.scope for e in harness.service.saved_rules("elsewhere").rules] == [
        "workspace",
        "user",
    ]


async def test_removing_a_file_rule_changes_the_file_and_the_live_policies(
    make_harness: Callable[..., Any],
) -> None:
    harness = await _harness(make_harness)
    person = ScriptedHuman(decisions=[Decision(action="approve_always", rule="shell(touch *)")])
    assert await _decider(harness, "touch made", person) == "user"
    assert await _decider(harness, "make all", ScriptedHuman()) == "rule"
    rules = {e.rule: e for e in harness.service.saved_rules().rules}

    assert harness.service.remove_rule(rules["shell(make *)"])
    text = workspace_config_file(harness.workspace).read_text()
    assert "shell(make *)" not in text and "# the team's rules" in text
    person = ScriptedHuman(decisions=[Decision(action="deny")])
    assert await _decider(harness, "make all", person) == "user"  # asks now
    assert len(person.requests) == 1
    # The session rule added before is kept.
    assert await _decider(harness, "touch again", ScriptedHuman()) == "rule"

    assert harness.service.remove_rule(rules["shell(rm *)"])
    assert "shell(rm *)" not in harness.service.user_config_file.read_text()
    person = ScriptedHuman(decisions=[Decision(action="deny")])
    assert await _decider(harness, "rm junk", person) == "user"  # no longer refused by rule
    assert not harness.service.remove_rule(rules["shell(rm *)"])  # already gone
    assert [e.rule for e in harness.service.saved_rules().rules] == ["shell(touch *)"]


async def test_removing_a_session_rule_makes_the_tool_ask_again(
    make_harness: Callable[..., Any],
) -> None:
    harness = await _harness(make_harness)
    person = ScriptedHuman(decisions=[Decision(action="approve_always", rule="shell(touch *)")])
    await _decider(harness, "touch made", person)
    (entry,) = [e for e in harness.service.saved_rules().rules if e.scope == "session"]
    assert harness.service.remove_rule(entry)
    person = ScriptedHuman(decisions=[Decision(action="approve")])
    assert await _decider(harness, "touch other", person) == "user"
    assert len(person.requests) == 1
    assert all(e.scope != "session" for e in harness.service.saved_rules().rules)
    # The file rules are untouched.
    assert await _decider(harness, "make all", ScriptedHuman()) == "rule"


async def test_a_broken_rules_file_is_reported_and_the_other_is_listed(
    make_harness: Callable[..., Any], tmp_path: Path
) -> None:
    harness = await _harness(make_harness)
    workspace_config_file(harness.workspace).write_text("[approval\nallow = [")
    listing = harness.service.saved_rules()
    assert len(listing.problems) == 1
    assert [e.rule for e in listing.rules] == ["shell(rm *)"]
