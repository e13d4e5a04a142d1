"""Over REST (``[serve] approval = "deny"``), a command that only looks read-only is denied
and listed as denied; a real read still runs."""

from __future__ import annotations

import pytest

from tests.server.conftest import Api, text_reply, tool_calls


@pytest.mark.parametrize(
    "command",
    ["sed -n 1p -e '1e touch PWNED' README.md", "sed -n '1w PWNED' README.md",
     "uniq README.md PWNED", "sort -o PWNED README.md", "git diff --output=PWNED"],
)  # fmt: skip
async def test_known_safe_lookalikes_are_denied_over_rest(api: Api, command: str) -> None:
    session = (await api.http.post("/chat/sessions", json={"agent_name": "default"})).json()
    api.script(tool_calls(("shell", {"command": command})), text_reply("Done."))
    response = await api.http.post(
        f"/chat/sessions/{session['session_id']}/messages", json={"content": "go"}
    )
    assert response.status_code == 200
    assert not (api.workspace / "PWNED").exists()
    denied = response.json()["denied"]
    assert [(d["tool"], d["command"]) for d in denied] == [("shell", command)]


async def test_a_real_read_still_runs_over_rest(api: Api) -> None:
    session = (await api.http.post("/chat/sessions", json={"agent_name": "default"})).json()
    api.script(tool_calls(("shell", {"command": "sed -n 1p README.md"})), text_reply("Done."))
    response = await api.http.post(
        f"/chat/sessions/{session['session_id']}/messages", json={"content": "go"}
    )
    assert response.status_code == 200 and response.json()["denied"] == []
    history = (await api.http.get(f"/chat/sessions/{session['session_id']}/messages")).json()
    assert any("# Demo" in m["content"] for m in history if m["role"] == "tool")
