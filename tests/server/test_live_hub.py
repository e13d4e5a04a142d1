"""The server on the engine's live-turn hub: any client of a session answers a question (the
first answer counts), the wire lists the later calls a question may cover, and nothing of a
turn stays behind in the hub."""

from __future__ import annotations

import asyncio

from tests.server.conftest import (
    WITHIN,
    Api,
    receive,
    send,
    text_reply,
    tool_calls,
    until,
)


async def test_another_client_answers_and_a_late_reply_changes_nothing(api: Api) -> None:
    session_id = await api.new_session()
    api.script(
        tool_calls(("shell", {"command": "touch one"}), ("shell", {"command": "touch two"})),
        text_reply("Done."),
    )
    async with api.ws(session_id) as starter, api.ws(session_id) as watcher:
        await receive(starter)
        await receive(watcher)
        await send(starter, {"type": "message", "content": "make files"})
        asked = (await until(watcher, "confirmation_request"))[-1]["data"]
        assert asked["later_calls"] == [
            {"id": "call_1she", "tool": "shell", "command": "touch two"}
        ]
        assert api.server.hub.live.waiting(session_id)  # listed in the engine's hub
        reply = {"type": "confirmation_reply", "confirmation_id": asked["confirmation_id"]}
        await send(watcher, {**reply, "approved": True})
        decided = (await until(starter, "confirmation_result"))[-1]["data"]
        assert decided["approved"] and decided["confirmation_id"] == asked["confirmation_id"]
        await send(starter, {**reply, "approved": False})  # too late: ignored
        second = (await until(starter, "confirmation_request"))[-1]["data"]
        assert "later_calls" not in second  # the last asking call of the step
        await send(
            starter, {**reply, "confirmation_id": second["confirmation_id"], "approved": False}
        )
        rest = await until(watcher, "result")
    assert rest[-1]["data"]["status"] == "completed"
    assert (api.workspace / "one").exists() and not (api.workspace / "two").exists()
    async with asyncio.timeout(WITHIN):  # the server notices the sockets going
        while api.server.hub.channels_in_use:
            await asyncio.sleep(0.01)
    assert api.server.hub.live.sessions_in_use() == set()
