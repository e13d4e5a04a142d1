"""The Markdown export of every kind of message and logged event, word for word, and the JSON
document's form (written against the mutation report, tests/mutation/run.py).

The events are built with the engine's own constructors and stored as the engine stores them
(:func:`app.engine.turnflow.log_payload`), so the export reads the shape the engine writes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from app.engine import events as ev
from app.engine import mode_events as mode
from app.engine.mode_events import ExpertInfo, PhaseInfo
from app.engine.turnflow import log_payload
from app.store import SessionStore
from app.store.export import fence, to_json, to_markdown

GOLDEN = Path(__file__).parent / "golden" / "export_every_kind.md"
LEAD = ExpertInfo(id="e1", name="Ada", color="green", role="lead")
CRITIC = ExpertInfo(id="e2", name="Bo", color="red", role="critic")


async def _log(store: SessionStore, session_id: str, *events: ev.Event) -> None:
    for event in events:
        await store.append_event(session_id, event.type, log_payload(event))


async def _messages(store: SessionStore, sid: str) -> None:
    """Messages of every role and form the export treats apart."""
    await store.append_message(sid, "system", "You are terse.")
    await store.append_message(sid, "user", "Ship the release")
    await store.append_message(
        sid,
        "assistant",
        "Looking around.",
        thinking="  First the files.  ",
        model="big-model",
        tool_calls=[
            {"id": "c1", "name": "shell", "arguments": {"command": "ls"}},
            {
                "id": "c2",
                "name": "write_file",
                "arguments": {
                    "path": "notes.md",
                    "content": "line one\nline two",
                    "tags": ["a", "b`c"],
                    "mode": 420,
                    "note": "",
                    "edge": "y" * 100,
                    "meta": {"city": "Zürich"},
                    "long": "x" * 101,
                },
            },
            {"id": "c3", "name": "shell", "arguments": {}, "raw_arguments": '{"command": "l'},
            {"id": "c4", "name": "list_dir", "arguments": {}, "raw_arguments": "  "},
            {"id": "c5", "name": "list_dir", "arguments": {}},
        ],
    )
    await store.append_message(sid, "tool", "a.txt\n", tool_call_id="c1", tool_name="shell")
    await store.append_message(
        sid, "tool", "disk full", tool_call_id="c2", tool_name="write_file", is_error=True
    )
    await store.append_message(sid, "tool", "  Friday  ", tool_call_id="q1", tool_name="ask_human")
    await store.append_message(
        sid, "tool", "no answer", tool_call_id="q2", tool_name="ask_human", is_error=True
    )
    await store.append_message(sid, "tool", "?", tool_call_id="c9")  # a result without a name
    await store.append_message(sid, "assistant", '{"phases": ["build", "tag"]}', thinking=" ")
    await store.append_message(sid, "assistant", "{not json, just braces}")
    await store.append_message(sid, "assistant", "  [1, 2]")  # JSON after spaces: fenced
    await store.append_message(sid, "assistant", "  indented reply  ")
    await store.append_message(
        sid,
        "assistant",
        "Half a thought",
        model="small-model",
        thread="expert:e2",
        status="interrupted",
    )


async def _events(store: SessionStore, sid: str) -> None:
    """Every logged event kind, in the forms the export words differently."""
    await _log(
        store,
        sid,
        ev.skill_match("release", "prefix", 1.0),
        ev.notice("workspace_rules", "Rules in force."),
        ev.short_error("the provider said no", "HTTP 401"),
        ev.short_error("it broke"),
        ev.ask_human("Which   day?\nSay one.", "q1", ["Friday", "Monday"]),
        ev.ask_human("Anything else?", "q2"),
        ev.tool_call(1, "c1", "shell", {"command": "ls"}),  # shown by its message: left out
        ev.tool_call(1, "c3", "shell", {}),  # in a message, though it has no result: left out
        ev.tool_result(1, "c1", "shell", "a.txt"),
        ev.tool_call(2, "x1", "web_fetch", {"url": "https://example.org"}),
        ev.tool_result(2, "x1", "web_fetch", "<html>", is_error=True),
        ev.tool_result(2, "x2", "read_file", "text"),
        ev.confirmation_request("k1", "`date` now", "it runs a command", tool="shell"),
        ev.confirmation_result("k1", True, decider="user", rule="shell(date *)", scope="user"),
        ev.confirmation_request("k2", "rm x`", "it deletes"),
        ev.confirmation_result("k2", False, decider="session_rule", rule="shell(rm *)"),
        ev.confirmation_result("k3", False, tool="edit_file", command="a.py"),  # asked unlogged
        ev.confirmation_result("k4", True, decider="policy"),
        ev.confirmation_result("q9", True, decider="policy", tool="ask_human"),
        ev.usage(10, 2, "big-model"),
        ev.usage(1000, 20, "big-model"),
        ev.usage(5, 1, "small-model"),
        ev.result("completed"),
        ev.result("completed"),  # no tokens counted: nothing to say
        ev.usage(3, 4, ""),
        ev.result("cancelled"),
        ev.usage(0, 0, "free-model"),
        ev.result("error"),
        ev.result("max_steps"),
        ev.result("loop_stopped"),
    )
    first = [PhaseInfo(id="p1", title="Build", status="running")]
    plan = [*first, PhaseInfo(id="p2", title="Tag", status="pending")]
    await _log(
        store,
        sid,
        mode.plan_update([]),  # no phases yet: nothing to list
        mode.plan_update(plan),
        mode.plan_update([p.model_copy(update={"status": "done"}) for p in plan]),  # same titles
        mode.phase_started("p1", 1, "Build it"),
        mode.plan_step("p1", 1, "compiling"),
        mode.phase_completed("p1", "built"),
        mode.phase_failed("p2", "no tag"),
        mode.phase_failed("p3", "unknown phase"),
        mode.replanning("the tag failed", 2),
        mode.plan_update(first),
        mode.team_formed("t1", [LEAD, CRITIC], [], "Ada"),
        mode.expert_step(LEAD, "thinking", 1),
        mode.expert_result(LEAD, "done", status="done"),
        mode.expert_result(CRITIC, "failed", status="failed"),
        mode.team_synthesis("All done."),
        mode.team_dissolved("t1"),
    )


async def test_every_kind_of_message_and_event_word_for_word(store: SessionStore) -> None:
    """Against tests/store/golden/export_every_kind.md (the session id masked). After a
    deliberate change to the export, write the new text there and read the diff first."""
    session = await store.create_session("default", title="Release day")
    await _messages(store, session.id)
    await _events(store, session.id)
    await store.add_summary(session.id, "They shipped.", 3)
    text = to_markdown(
        (await store.get_session(session.id)),
        await store.get_messages(session.id),
        await store.get_events(session.id),
    )
    assert text.replace(session.id, "SESSION_ID") == GOLDEN.read_text()


async def test_an_untitled_session_says_so(store: SessionStore) -> None:
    session = await store.create_session("default")
    text = to_markdown(session, [], [])
    assert text.startswith("# Untitled session\n\n- Session: `")
    assert "- Messages: 0\n" in text


async def test_the_json_document_keeps_every_character_and_is_indented(
    store: SessionStore,
) -> None:
    session = await store.create_session("default", title="Café")
    await store.append_message(session.id, "user", "naïve ✓")
    text = to_json(
        session,
        await store.get_messages(session.id),
        [],
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )
    assert text.endswith("}\n")
    assert '\n  "exported_at": "2026-12-01T08:00:00+00:00",\n' in text
    assert '"content": "naïve ✓"' in text and '"title": "Café"' in text  # not \\u escapes
    assert '\n      "role": "user",\n' in text  # two spaces a level
    assert json.loads(text)["exported_at"] == "2026-12-01T08:00:00+00:00"


def test_a_fence_keeps_the_text_but_its_last_newlines() -> None:
    assert fence("a  \n") == "```\na  \n```"
    assert fence("\nx\n\n", "text") == "```text\n\nx\n```"
    assert fence("x\v") == "```\nx\v\n```"
    assert fence("a ` b") == "```\na ` b\n```"
