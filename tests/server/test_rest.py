"""REST under /chat: every endpoint, each status code, approvals without a person."""

from __future__ import annotations

from datetime import datetime

from tests.fakes.provider import Reply
from tests.server.conftest import Api, MakeApi, text_reply, tool_calls

SESSION_KEYS = {"session_id", "agent_name", "status", "metadata", "created_at", "updated_at"}
MESSAGE_KEYS = {
    "message_id",
    "session_id",
    "role",
    "content",
    "tool_call_id",
    "agent_name",
    "created_at",
}


async def test_sessions_are_created_listed_and_fetched(api: Api) -> None:
    assert (await api.http.get("/chat/sessions")).json() == []
    created = await api.http.post(
        "/chat/sessions", json={"agent_name": "default", "metadata": {"client": "tests"}}
    )
    assert created.status_code == 200
    session = created.json()
    assert set(session) >= SESSION_KEYS
    assert session["agent_name"] == "default" and session["status"] == "active"
    assert session["metadata"] == {"client": "tests"}
    datetime.fromisoformat(session["created_at"])
    datetime.fromisoformat(session["updated_at"])
    fetched = await api.http.get(f"/chat/sessions/{session['session_id']}")
    assert fetched.status_code == 200 and fetched.json() == session
    assert (await api.http.get("/chat/sessions")).json() == [session]


async def test_session_list_pages_and_filters(api: Api) -> None:
    ids = [await api.new_session() for _ in range(3)]
    await api.http.delete(f"/chat/sessions/{ids[0]}")
    everything = (await api.http.get("/chat/sessions")).json()
    assert {s["session_id"] for s in everything} == set(ids)
    first = (await api.http.get("/chat/sessions", params={"limit": 2})).json()
    rest = (await api.http.get("/chat/sessions", params={"limit": 2, "offset": 2})).json()
    assert len(first) == 2 and len(rest) == 1
    assert {s["session_id"] for s in first + rest} == set(ids)
    closed = (await api.http.get("/chat/sessions", params={"status": "closed"})).json()
    assert [s["session_id"] for s in closed] == [ids[0]]
    active = (await api.http.get("/chat/sessions", params={"status": "active"})).json()
    assert {s["session_id"] for s in active} == set(ids[1:])
    bad = await api.http.get("/chat/sessions", params={"status": "sleeping"})
    assert bad.status_code == 422
    assert (await api.http.get("/chat/sessions", params={"limit": 0})).status_code == 422


async def test_unknown_agent_and_unknown_session_are_404(api: Api) -> None:
    response = await api.http.post("/chat/sessions", json={"agent_name": "nobody"})
    assert response.status_code == 404
    assert "nobody" in response.json()["detail"] and "default" in response.json()["detail"]
    for path in ("/chat/sessions/missing", "/chat/sessions/missing/messages"):
        missing = await api.http.get(path)
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Session 'missing' not found"}
    posted = await api.http.post("/chat/sessions/missing/messages", json={"content": "hi"})
    assert posted.status_code == 404
    assert posted.json() == {"detail": "Session 'missing' not found"}
    deleted = await api.http.delete("/chat/sessions/missing")
    assert deleted.status_code == 404


async def test_a_message_runs_a_turn_and_returns_the_reply(api: Api) -> None:
    session_id = await api.new_session()
    api.script(text_reply("Hello ", "over ", "REST."))
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "Say hello"}
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert set(reply) >= MESSAGE_KEYS
    assert reply["role"] == "assistant" and reply["content"] == "Hello over REST."
    assert reply["session_id"] == session_id and reply["agent_name"] == "default"
    assert reply["tool_call_id"] is None and reply["denied"] == []
    history = (await api.http.get(f"/chat/sessions/{session_id}/messages")).json()
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "Say hello"),
        ("assistant", "Hello over REST."),
    ]
    assert history[1]["message_id"] == reply["message_id"]
    assert all(set(m) >= MESSAGE_KEYS for m in history)
    page = await api.http.get(
        f"/chat/sessions/{session_id}/messages", params={"limit": 1, "offset": 1}
    )
    assert [m["role"] for m in page.json()] == ["assistant"]


async def test_tool_messages_are_listed_in_order_with_their_call_id(api: Api) -> None:
    session_id = await api.new_session()
    api.script(tool_calls(("read_file", {"path": "README.md"})), text_reply("It says Demo."))
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "What is in the readme?"}
    )
    assert response.json()["content"] == "It says Demo."
    history = (await api.http.get(f"/chat/sessions/{session_id}/messages")).json()
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[2]["tool_call_id"] == "call_0rea" and "# Demo" in history[2]["content"]


async def test_closing_keeps_the_session_readable_and_refuses_messages(api: Api) -> None:
    session_id = await api.new_session()
    api.script(text_reply("first"))
    await api.http.post(f"/chat/sessions/{session_id}/messages", json={"content": "one"})
    closed = await api.http.delete(f"/chat/sessions/{session_id}")
    assert closed.status_code == 200
    assert closed.json() == {"status": "closed", "session_id": session_id}
    refused = await api.http.post(f"/chat/sessions/{session_id}/messages", json={"content": "two"})
    assert refused.status_code == 400
    assert refused.json() == {"detail": f"Session '{session_id}' is closed"}
    assert (await api.http.get(f"/chat/sessions/{session_id}")).json()["status"] == "closed"
    history = (await api.http.get(f"/chat/sessions/{session_id}/messages")).json()
    assert [m["content"] for m in history] == ["one", "first"]


async def test_a_provider_error_is_502_in_one_line_and_the_message_is_kept(api: Api) -> None:
    session_id = await api.new_session()
    api.script(Reply.json(500, {"error": {"message": "upstream exploded\nTraceback: x"}}))
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "keep me"}
    )
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and 0 < len(detail) <= 200
    assert "upstream exploded" in detail
    history = (await api.http.get(f"/chat/sessions/{session_id}/messages")).json()
    assert [(m["role"], m["content"]) for m in history] == [("user", "keep me")]


async def test_bodies_are_validated(api: Api) -> None:
    session_id = await api.new_session()
    url = f"/chat/sessions/{session_id}/messages"
    cases = [
        ("/chat/sessions", {}),  # agent_name missing
        ("/chat/sessions", {"agent_name": 7}),
        ("/chat/sessions", {"agent_name": "default", "metadata": ["not", "a", "map"]}),
        (url, {}),
        (url, {"content": 12}),
        (url, {"content": "   "}),
        (url, {"content": "hi", "role": 5}),  # any string is ignored (below), not any value
    ]
    for path, body in cases:
        response = await api.http.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        problems = response.json()["detail"]
        assert problems and all("msg" in p and "loc" in p for p in problems)
    broken = await api.http.post(
        url, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert api.fake.requests == []  # nothing reached the model


async def test_oversized_bodies_are_413(make_api: MakeApi) -> None:
    api = await make_api(serve={"max_body_bytes": 2048})
    session_id = await api.new_session()
    url = f"/chat/sessions/{session_id}/messages"
    big = {"content": "x" * 4096}
    declared = await api.http.post(url, json=big)
    assert declared.status_code == 413
    assert "2048" in declared.json()["detail"]

    async def chunks() -> object:
        for _ in range(4):
            yield b"x" * 1024

    streamed = await api.http.post(url, content=chunks())  # chunked: no content-length
    assert streamed.status_code == 413
    assert api.fake.requests == []  # nothing reached the model
    api.script(text_reply("fits"))
    fits = await api.http.post(url, json={"content": "x" * 1500})
    assert fits.status_code == 200 and fits.json()["content"] == "fits"


async def test_rest_denies_what_needs_approval_and_says_so(api: Api) -> None:
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(
        tool_calls(("shell", {"command": f"touch {marker}"})),
        text_reply("I could not create it."),
    )
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "make a file"}
    )
    assert response.status_code == 200
    assert not marker.exists()
    denied = response.json()["denied"]
    assert len(denied) == 1 and denied[0]["tool"] == "shell"
    assert denied[0]["command"] == f"touch {marker}"
    assert "REST" in denied[0]["reason"]
    told = api.fake.requests[-1].json()["messages"][-1]
    assert told["role"] == "tool" and "not run" in told["content"]


async def test_rest_approval_auto_runs_the_call(make_api: MakeApi) -> None:
    api = await make_api(serve={"approval": "auto"})
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(tool_calls(("shell", {"command": f"touch {marker}"})), text_reply("Done."))
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "make a file"}
    )
    assert response.status_code == 200 and response.json()["denied"] == []
    assert marker.exists()


async def test_rest_approval_read_only_refuses_writes_but_reads(make_api: MakeApi) -> None:
    # Even with [approval] mode = auto in the config, [serve] approval decides for REST.
    api = await make_api(serve={"approval": "read-only"}, approval={"mode": "auto"})
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(
        tool_calls(
            ("read_file", {"path": "README.md"}),
            ("write_file", {"path": "made.txt", "content": "x"}),
        ),
        text_reply("Read it; could not write."),
    )
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "read then write"}
    )
    assert response.status_code == 200
    assert not marker.exists()
    denied = response.json()["denied"]
    assert [(d["tool"], d["command"]) for d in denied] == [("write_file", "made.txt")]
    assert "read-only" in denied[0]["reason"]


async def test_rest_deny_is_not_widened_by_an_auto_config(make_api: MakeApi) -> None:
    api = await make_api(approval={"mode": "auto"})  # [serve] approval stays "deny"
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(tool_calls(("shell", {"command": f"touch {marker}"})), text_reply("No."))
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "make a file"}
    )
    assert response.json()["denied"] and not marker.exists()


async def test_openapi_docs_are_served(api: Api) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    assert {"/chat/sessions", "/chat/sessions/{session_id}/messages"} <= set(schema["paths"])
    docs = await api.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_unknown_paths_are_404(api: Api) -> None:
    response = await api.http.get("/chat/nothing-here")
    assert response.status_code == 404


async def test_rest_questions_get_no_answer_and_leave_nothing_behind(api: Api) -> None:
    session_id = await api.new_session()
    api.script(tool_calls(("ask_human", {"question": "Which?"})), text_reply("Guessed."))
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages", json={"content": "ask me"}
    )
    assert response.status_code == 200 and response.json()["content"] == "Guessed."
    told = api.fake.requests[-1].json()["messages"][-1]
    assert told["role"] == "tool" and "no answer" in told["content"].lower()
    assert api.server.hub.channels_in_use == 0


async def test_a_lone_surrogate_in_a_message_is_saved_as_a_replacement(api: Api) -> None:
    session_id = await api.new_session()
    api.script(text_reply("Got it."))
    body = b'{"content": "half \\ud83d of a pair, a pair \\ud83d\\ude00"}'
    response = await api.http.post(
        f"/chat/sessions/{session_id}/messages",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    messages = (await api.http.get(f"/chat/sessions/{session_id}/messages")).json()
    assert messages[0]["content"] == "half \ufffd of a pair, a pair \U0001f600"
    assert messages[1]["content"] == "Got it."


async def test_lone_surrogates_in_any_field_are_not_a_server_error(api: Api) -> None:
    body = b'{"agent_name": "ghost \\ud83d", "metadata": {"k\\ude00": ["v \\ud83d"]}}'
    response = await api.http.post(
        "/chat/sessions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 404 and "ghost \ufffd" in response.json()["detail"]
    body = b'{"agent_name": "default", "metadata": {"k\\ude00": ["v \\ud83d"]}}'
    response = await api.http.post(
        "/chat/sessions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["metadata"] == {"k\ufffd": ["v \ufffd"]}
