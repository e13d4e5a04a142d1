"""Export to Markdown and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.store import SessionStore
from app.store.export import ExportFormat, fence
from tests.fakes.real_events import (
    APPROVAL_CONFIG,
    APPROVAL_TURNS,
    APPROVE,
    Recording,
    ScriptedTurn,
    record_turns,
)

GOLDEN = Path(__file__).parent / "golden"
COMMAND = "printf '%s\\n' '```' 'error: missing `;`' '```'; exit 1"
#: The command as inline code: a run of backticks longer than any inside it.
INLINE_COMMAND = f"````{COMMAND}````"

#: A turn with thinking, text, a command the person approves (its output holds a ``` fence
#: and it fails), then a reply the person stops half-way.
EVERYTHING = [
    ScriptedTurn(
        "Why is CI red?",
        thinking="Look at the last run.",
        text="Checking the log.",
        calls=[("shell", {"command": COMMAND})],
        answers=[APPROVE],
        reply="The build log says why.",
    ),
    ScriptedTurn("And the fix?", stop_after="A semicolon is missing."),
]


async def _session_with_everything(tmp_path: Path) -> Recording:
    """A session the real engine ran, as stored."""
    return await record_turns(
        tmp_path, EVERYTHING, title="Fix the build", approval={"allow": ["shell(git status)"]}
    )


async def _export(recording: Recording, kind: ExportFormat) -> str:
    async with await SessionStore.open(recording.db, create=False) as store:
        return await store.export_session(recording.session.id, kind)


async def test_markdown_export_reads_as_it_happened(tmp_path: Path) -> None:
    text = await _export(await _session_with_everything(tmp_path), "md")
    assert text.startswith("# Fix the build\n")
    order = [
        "Why is CI red?",
        "<summary>Thinking</summary>",
        "Look at the last run.",
        "Checking the log.",
        "**Tool call** `shell` (call_0she)",
        f"**Approval asked** (`shell`) for {INLINE_COMMAND}: ",
        f"**Approved** `shell` {INLINE_COMMAND} · by you\n",
        "### Tool result: `shell` (call_0she) — error",
        "The build log says why.",
        "And the fix?",
        "A semicolon is missing.",
    ]
    positions = [text.index(piece) for piece in order]
    assert positions == sorted(positions)
    assert "Approval denied" not in text and "**Denied**" not in text
    assert text.count("_(cancelled)_") == 1
    assert text.index("_(cancelled)_") > text.index("And the fix?")
    # The tool output holds a ``` fence: the export's fence must be longer.
    assert "````text\n```\nerror: missing `;`\n```\n[exit code 1]\n````" in text


async def test_markdown_export_names_every_kind_of_approval_decision(tmp_path: Path) -> None:
    text = await _export(
        await record_turns(tmp_path, APPROVAL_TURNS[:-1], approval=APPROVAL_CONFIG), "md"
    )
    assert not re.search(r'^> `\w+` \{|\{"data"', text, re.MULTILINE)  # no raw JSON events
    decided = [
        line for line in text.splitlines() if line.startswith(("> **Approved**", "> **Denied**"))
    ]
    assert decided == [
        "> **Approved** `shell` `git status` · by a rule · rule `shell(git status)`",
        "> **Denied** `shell` `rm -rf build` · by you",
        "> **Approved** `shell` `mkdir build` · by you · rule `shell(mkdir *)`, workspace",
        "> **Denied** `write_file` `notes.md` · by the approval policy",
        "> **Denied** `shell` `make deploy` · by nobody (no answer in time)",
        "> **Denied** `shell` `touch later.txt` · by nobody (the turn was stopped)",
        "> **Approved** `shell` `echo '[bold]loud[/bold]' > loud.txt` · by you",
    ]


async def test_json_export_is_complete_and_parseable(tmp_path: Path) -> None:
    recording = await _session_with_everything(tmp_path)
    document = json.loads(await _export(recording, "json"))
    assert document["format"] == "agentkit.session" and document["version"] == 1
    assert document["session"]["id"] == recording.session.id
    assert [m["role"] for m in document["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
    assert document["messages"][1]["tool_calls"][0]["arguments"] == {"command": COMMAND}
    assert document["messages"][-1]["status"] == "cancelled"
    assert [e["data"] for e in document["events"]] == [
        e.model_dump(mode="json")["data"] for e in recording.events
    ]
    approvals = [e for e in document["events"] if e["type"].startswith("confirmation_")]
    assert [e["data"]["data"]["approved"] for e in approvals[1:]] == [True]


def test_fence_grows_past_backticks_inside() -> None:
    assert fence("plain").startswith("```\n")
    assert fence("a ```` b").startswith("`````\n")


async def test_the_markdown_export_of_a_real_session_word_for_word(tmp_path: Path) -> None:
    """The whole export of EVERYTHING, against tests/store/golden/export_everything.md (the
    session id masked). After a deliberate change to the export, write the new text there
    and read the diff before committing it."""
    recording = await _session_with_everything(tmp_path)
    text = await _export(recording, "md")
    text = text.replace(recording.session.id, "SESSION_ID")
    assert text == (GOLDEN / "export_everything.md").read_text()


async def test_skill_notice_and_error_lines_read_the_logged_shape(tmp_path: Path) -> None:
    """Logged as the engine logs them (the wire shape without ``type``), a skill match, a
    notice and an error each show their text in the export, not an empty line."""
    from app.engine.events import SkillMatchData, SkillMatchEvent, notice, short_error, to_wire
    from app.store import SessionStore
    from app.store.export import to_markdown

    store = await SessionStore.open(tmp_path / "x.db")
    try:
        session = await store.create_session("default")
        await store.append_message(session.id, "user", "@review the parser")
        for event in (
            SkillMatchEvent(data=SkillMatchData(skill="review", method="prefix", confidence=1)),
            notice("workspace_rules", "Workspace rules in force: deny shell(curl *)."),
            short_error("the provider said no (HTTP 401)"),
        ):
            payload = to_wire(event)
            kind = payload.pop("type")
            await store.append_event(session.id, kind, payload)
        text = to_markdown(
            session, await store.get_messages(session.id), await store.get_events(session.id)
        )
    finally:
        await store.close()
    assert "> Skill `@review` matched (prefix)" in text
    assert "> Note: Workspace rules in force: deny shell(curl *)." in text
    assert "> **Error:** the provider said no (HTTP 401)" in text


async def test_a_compaction_summary_is_exported_as_such(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "first question")
    await store.add_summary(session.id, "The person asked a first question.", 1)
    text = await store.export_session(session.id, "md")
    assert "first question" in text  # the original stays
    assert "### Summary of the conversation so far" in text
    assert "The person asked a first question." in text
    data = await store.export_session(session.id, "json")
    assert '"summary_through": 1' in data
