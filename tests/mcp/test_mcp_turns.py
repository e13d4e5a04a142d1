"""MCP tools in turns, against the real fake server (stdio) and the loopback fake provider:
listing and calling through the ReAct loop, approvals, cancel, timeouts, crashes and restarts,
start-up failures, shutdown, and secrets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from app.engine.cancel import CancellationToken
from app.engine.human import Decision
from app.tools.policy import READ_ONLY_MCP_REASON
from tests.engine.conftest import ScriptedHuman
from tests.mcp.conftest import FAKE_SERVER, alive, server_pids, stdio_server, until

pytestmark = pytest.mark.slow

MakeMcp = Callable[..., Any]


async def test_tools_are_listed_and_called_in_a_react_turn(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server(trust_annotations=True)})
    await h.ready()
    h.script(h.calls(("mcp__fake__echo", {"text": "hello"})), h.text("It said hello."))
    human = ScriptedHuman(decisions=[Decision(action="deny")])  # asked wrongly: fails fast
    turn = await h.turn("Echo hello", human=human)
    assert turn.status == "completed", turn.types
    tools = {tool["function"]["name"]: tool["function"] for tool in h.request(0)["tools"]}
    echo = tools["mcp__fake__echo"]
    assert echo["parameters"]["properties"]["text"]["type"] == "string"
    assert echo["parameters"]["required"] == ["text"]
    assert "Repeat the text back." in echo["description"]
    assert {"mcp__fake__add", "mcp__fake__slow", "read_file"} <= set(tools)
    # The step events carry the full name; the read-only hint is trusted here: no question.
    call = next(e for e in turn.of("step") if e.data.event_type == "tool_call")
    assert call.data.data.name == "mcp__fake__echo"
    [result] = turn.tool_results()
    assert (result.name, result.output, result.is_error) == (
        "mcp__fake__echo",
        "echo: hello",
        False,
    )
    assert turn.of("confirmation_request") == []
    sent = h.request(1)["messages"]
    assert sent[-1]["role"] == "tool" and sent[-1]["content"] == "echo: hello"


async def test_the_allow_list_keeps_only_the_named_tools(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server(tools=["echo", "s*"])})
    await h.ready()
    names = [name for name in h.service.registry.names() if name.startswith("mcp__")]
    assert names == ["mcp__fake__echo", "mcp__fake__slow"]


async def test_bad_arguments_go_back_to_the_model(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server()}, approval={"allow": ["mcp__fake"]})
    await h.ready()
    h.script(h.calls(("mcp__fake__add", {"a": "one"})), h.text("Sorry."))
    turn = await h.turn("Add")
    [result] = turn.tool_results()
    assert result.is_error
    assert "Invalid arguments for mcp__fake__add" in result.output
    assert (
        "'b' is required" in result.output
        and "`a`: 'one' is not of type 'integer'" in result.output
    )


async def test_results_errors_images_and_long_output(make_mcp: MakeMcp) -> None:
    h = await make_mcp(
        {"fake": stdio_server()},
        approval={"allow": ["mcp__fake__*"]},
        engine={"max_tool_output_chars": 1000},
    )
    await h.ready()
    h.script(
        h.calls(
            ("mcp__fake__fail", {"message": "no such issue"}),
            ("mcp__fake__picture", {}),
            ("mcp__fake__big", {"size": 5000}),
        ),
        h.text("Done."),
    )
    turn = await h.turn("Try them")
    failed, picture, big = turn.tool_results()
    assert failed.is_error and "no such issue" in failed.output
    assert not picture.is_error
    assert picture.output == "a one-pixel picture\n[image image/png, 69 bytes: not shown]"
    assert "4,000 characters cut" in big.output and len(big.output) < 1100


async def test_ask_shows_server_tool_and_arguments_and_proposes_the_tool_rule(
    make_mcp: MakeMcp,
) -> None:
    h = await make_mcp({"fake": stdio_server()})  # the hint is not trusted: echo asks too
    await h.ready()
    long_text = "x" * 1000
    h.script(h.calls(("mcp__fake__echo", {"text": long_text})), h.text("Done."))
    human = ScriptedHuman(decisions=[Decision(action="approve")])
    turn = await h.turn("Echo", human=human)
    [request] = human.requests
    assert request.tool == "mcp__fake__echo"
    assert request.proposed_rule == "mcp__fake__echo"
    assert request.command.startswith('MCP server: fake\ntool: echo\narguments:\n{\n  "text": ')
    assert "… (700 more characters)" in request.command and long_text not in request.command
    assert "tool 'echo' of the MCP server 'fake'" in request.reason
    [result] = turn.tool_results()
    assert result.output == f"echo: {long_text}"  # what is sent is not folded


async def test_a_denied_call_never_reaches_the_server(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server()})
    await h.ready()
    h.script(h.calls(("mcp__fake__slow", {"seconds": 0.1})), h.text("Fine."))
    human = ScriptedHuman(decisions=[Decision(action="deny")])
    turn = await h.turn("Wait", human=human)
    [result] = turn.tool_results()
    assert result.is_error and "denied" in result.output
    assert not (h.marks / "slow-started").exists()
    [verdict] = turn.of("confirmation_result")
    assert verdict.data.approved is False and verdict.data.decider == "user"


async def test_always_allow_remembers_the_tool_rule(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server()})
    await h.ready()
    h.script(h.calls(("mcp__fake__add", {"a": 1, "b": 2})), h.text("3."))
    # A second decision that would fail the test, so a wrongly asked question cannot hang.
    human = ScriptedHuman(
        decisions=[Decision(action="approve_always", scope="user"), Decision(action="deny")]
    )
    first = await h.turn("Add", human=human)
    assert first.tool_results()[0].output == "3"
    assert first.of("confirmation_result")[0].data.rule == "mcp__fake__add"
    assert 'allow = ["mcp__fake__add"]' in (h.workspace.parent / "config.toml").read_text()
    h.script(h.calls(("mcp__fake__add", {"a": 2, "b": 2})), h.text("4."))
    second = await h.turn("Add again", human=human)
    assert len(human.requests) == 1  # not asked again
    assert second.tool_results()[0].output == "4"
    assert second.of("confirmation_result")[0].data.decider == "rule"


async def test_rules_allow_a_whole_server_and_deny_one_tool(make_mcp: MakeMcp) -> None:
    h = await make_mcp(
        {"fake": stdio_server()},
        approval={"allow": ["mcp__fake__*"], "deny": ["mcp__fake__crash"]},
    )
    await h.ready()
    h.script(h.calls(("mcp__fake__add", {"a": 1, "b": 1}), ("mcp__fake__crash", {})), h.text("ok"))
    human = ScriptedHuman(decisions=[Decision(action="deny")])
    turn = await h.turn("Go", human=human)
    added, crashed = turn.tool_results()
    assert added.output == "2" and not added.is_error
    assert crashed.is_error and "rule `mcp__fake__crash`" in crashed.output
    assert human.requests == []
    assert len(server_pids(h.marks)) == 1 and all(alive(p) for p in server_pids(h.marks))


async def test_read_only_mode_refuses_mcp_tools_unless_a_rule_allows(make_mcp: MakeMcp) -> None:
    h = await make_mcp(
        {"fake": stdio_server()},
        approval={"mode": "read-only", "allow": ["mcp__fake__echo"]},
    )
    await h.ready()
    h.script(
        h.calls(("mcp__fake__add", {"a": 1, "b": 1}), ("mcp__fake__echo", {"text": "hi"})),
        h.text("ok"),
    )
    human = ScriptedHuman(decisions=[Decision(action="deny")])
    turn = await h.turn("Go", human=human)
    refused, echoed = turn.tool_results()
    assert refused.is_error and refused.output == READ_ONLY_MCP_REASON
    assert echoed.output == "echo: hi" and not echoed.is_error
    assert human.requests == []


async def test_cancel_during_a_slow_call_reaches_the_server(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server()}, approval={"mode": "auto"})
    await h.ready()
    [pid] = server_pids(h.marks)
    h.script(h.calls(("mcp__fake__slow", {"seconds": 120})))
    token = CancellationToken()
    started = h.marks / "slow-started"
    task = asyncio.ensure_future(h.turn("Wait", cancel=token))
    await until(started.exists)
    token.cancel()
    turn = await asyncio.wait_for(task, 60)
    assert turn.status == "cancelled"
    [result] = turn.tool_results()
    assert result.is_error and result.output.startswith("Stopped:")
    await until((h.marks / "slow-cancelled").exists)  # notifications/cancelled arrived
    # The server is still the same process, and still answers.
    h.script(h.calls(("mcp__fake__echo", {"text": "still here"})), h.text("ok"))
    again = await h.turn("Echo")
    assert again.tool_results()[0].output == "echo: still here"
    assert server_pids(h.marks) == [pid] and alive(pid)


async def test_a_call_past_its_timeout_is_stopped(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server(call_timeout=1.0)}, approval={"mode": "auto"})
    await h.ready()
    h.script(h.calls(("mcp__fake__slow", {"seconds": 120})), h.text("Too slow."))
    turn = await h.turn("Wait")
    [result] = turn.tool_results()
    assert result.is_error and "timed out after 1 s" in result.output
    await until((h.marks / "slow-cancelled").exists)


async def test_a_crashed_server_gives_an_error_and_restarts_on_the_next_call(
    make_mcp: MakeMcp,
) -> None:
    h = await make_mcp({"fake": stdio_server()}, approval={"mode": "auto"})
    await h.ready()
    [first] = server_pids(h.marks)
    h.script(h.calls(("mcp__fake__crash", {})), h.text("It crashed."))
    turn = await h.turn("Crash it")
    [result] = turn.tool_results()
    assert result.is_error and "stopped while running this call" in result.output
    await until(lambda: not alive(first))
    h.script(h.calls(("mcp__fake__echo", {"text": "back"})), h.text("ok"))
    again = await h.turn("Echo")
    assert again.tool_results()[0].output == "echo: back"
    [second] = [pid for pid in server_pids(h.marks) if pid != first]
    assert alive(second) and not alive(first)


async def test_repeated_crashes_give_a_notice(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server()}, approval={"mode": "auto"})
    await h.ready()
    for attempt in range(3):  # three turns: one call each (a repeated call is a loop)
        h.script(h.calls(("mcp__fake__crash", {})), h.text("It crashed."))
        turn = await h.turn(f"Crash it, attempt {attempt}")
        assert turn.tool_results()[0].is_error
        assert "mcp_crashing" not in [n.data.code for n in turn.of("notice")]
    h.script(h.text("Hello."))
    after = await h.turn("hi there, what next?")
    notices = [(n.data.code, n.data.message) for n in after.of("notice")]
    assert any(code == "mcp_crashing" and "crashed 3 times" in text for code, text in notices)


async def test_a_server_that_fails_to_start_is_a_notice_and_the_rest_works(
    make_mcp: MakeMcp, capfd: pytest.CaptureFixture[str]
) -> None:
    h = await make_mcp(
        {
            "broken": stdio_server(env={"FAKE_MCP_FAIL_START": "TEST_FAIL"}),
            "fake": stdio_server(),
        },
        env={"TEST_FAIL": "1"},
        approval={"mode": "auto"},
    )
    await h.ready()
    h.script(h.calls(("mcp__fake__echo", {"text": "works"})), h.text("ok"))
    turn = await h.turn("Echo")
    [failed] = [n for n in turn.of("notice") if n.data.code == "mcp_failed"]
    assert "'broken' failed to start" in failed.data.message
    assert "fatal: the fake server was told to fail | second line" in failed.data.message
    assert turn.tool_results()[0].output == "echo: works"
    assert not any(name.startswith("mcp__broken") for name in h.service.registry.names())
    # stderr went to the log file, never to the terminal.
    log = h.log_file.read_text()
    assert "mcp[broken] stderr: fatal: the fake server was told to fail" in log
    assert "mcp[fake] stderr: fake MCP server starting" in log
    assert "fake server" not in capfd.readouterr().err
    # Told once per session.
    h.script(h.text("Hi."))
    later = await h.turn("hello again, anything new?")
    assert [n for n in later.of("notice") if n.data.code == "mcp_failed"] == []


async def test_a_turn_waits_briefly_for_servers_still_starting(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"fake": stdio_server()}, approval={"mode": "auto"})
    # No wait here: the turn itself waits for the server to come up.
    h.script(h.calls(("mcp__fake__echo", {"text": "early"})), h.text("ok"))
    turn = await h.turn("Echo")
    assert turn.tool_results()[0].output == "echo: early"


async def test_shutdown_leaves_no_server_process(make_mcp: MakeMcp) -> None:
    h = await make_mcp({"one": stdio_server(), "two": stdio_server()})
    await h.ready()
    pids = server_pids(h.marks)
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    await h.service.shutdown()
    assert not any(alive(pid) for pid in pids)
    assert [s.status for s in h.manager.states()] == ["stopped", "stopped"]


async def test_secrets_never_reach_the_database_or_the_log(make_mcp: MakeMcp) -> None:
    secret = "s3cr3t-Value-4711-do-not-store"
    h = await make_mcp(
        {"fake": stdio_server(env={"API_TOKEN": "TEST_SECRET"})},
        env={"TEST_SECRET": secret},
        approval={"mode": "auto"},
    )
    await h.ready()
    h.script(h.calls(("mcp__fake__env_has", {"name": "API_TOKEN"})), h.text("It is set."))
    turn = await h.turn("Is the token there?")
    assert turn.tool_results()[0].output == f"set ({len(secret)} characters)"
    await h.service.shutdown()
    await h.store.close()
    stored = b"".join(path.read_bytes() for path in h.db_path.parent.glob(h.db_path.name + "*"))
    assert b"API_TOKEN" in stored  # the call is stored …
    assert secret.encode() not in stored  # … never the value
    assert secret not in h.log_file.read_text()
    assert secret not in json.dumps([e.model_dump(mode="json") for e in turn.events])


async def test_a_server_that_never_answers_times_out_and_is_stopped(
    make_mcp: MakeMcp, tmp_path: Any
) -> None:
    mute = tmp_path / "mute.py"
    mute.write_text(
        "import os, sys, time\n"
        "open(os.path.join(os.environ['FAKE_MCP_MARKS'], f'pid-{os.getpid()}'), 'w').close()\n"
        "time.sleep(600)\n"
    )
    h = await make_mcp({"mute": stdio_server(args=[str(mute)], startup_timeout=1.0)})
    await h.ready()
    [state] = h.manager.states()
    assert (state.status, state.error) == ("failed", "did not start within 1 s")
    [pid] = server_pids(h.marks)
    await until(lambda: not alive(pid))  # killed when the start gave up, not at shutdown


async def test_a_turn_goes_on_without_a_server_still_starting_and_says_so(
    make_mcp: MakeMcp, tmp_path: Any
) -> None:
    gate = tmp_path / "go"
    late = tmp_path / "late.py"
    late.write_text(  # starts the fake server only once the test creates the gate file
        "import os, runpy, sys, time\n"
        f"while not os.path.exists({str(gate)!r}):\n"
        "    time.sleep(0.02)\n"
        f"sys.argv = [{FAKE_SERVER!r}]\n"
        f"runpy.run_path({FAKE_SERVER!r}, run_name='__main__')\n"
    )
    h = await make_mcp({"late": stdio_server(args=[str(late)])}, approval={"mode": "auto"})
    h.script(h.text("No tools yet."))
    turn = await h.turn("hello, what can you do?")
    [told] = [n for n in turn.of("notice") if n.data.code == "mcp_starting"]
    assert "still starting (late)" in told.data.message
    assert not any(t["function"]["name"].startswith("mcp__") for t in h.request(0).get("tools", []))
    gate.write_text("")
    await h.ready()
    h.script(h.calls(("mcp__late__echo", {"text": "now"})), h.text("ok"))
    later = await h.turn("Echo")
    assert later.tool_results()[0].output == "echo: now"


async def test_a_server_that_died_while_idle_is_started_again_for_the_next_call(
    make_mcp: MakeMcp,
) -> None:
    import os
    import signal

    h = await make_mcp({"fake": stdio_server()}, approval={"mode": "auto"})
    await h.ready()
    [first] = server_pids(h.marks)
    os.kill(first, signal.SIGKILL)
    await until(lambda: not alive(first))
    await until(lambda: h.manager is not None and h.manager.connections["fake"].process_ended)
    assert [s.status for s in h.manager.states()] == ["crashed"]
    h.script(h.calls(("mcp__fake__echo", {"text": "again"})), h.text("ok"))
    turn = await h.turn("Echo")
    [result] = turn.tool_results()
    assert (result.output, result.is_error) == ("echo: again", False)
    [second] = [pid for pid in server_pids(h.marks) if pid != first]
    assert alive(second)


async def test_a_changed_tool_list_is_listed_again_for_the_next_turn(make_mcp: MakeMcp) -> None:
    """``notifications/tools/list_changed``: the server's tools are listed again; the next
    turn offers the new set to the model and says what changed."""
    h = await make_mcp(
        {"fake": stdio_server(env={"FAKE_MCP_GROW": "TEST_GROW"})},
        env={"TEST_GROW": "1"},
        approval={"allow": ["mcp__fake"]},
    )
    await h.ready()
    assert "mcp__fake__picture" in h.service.registry
    h.script(h.calls(("mcp__fake__grow", {})), h.text("Grown."))
    turn = await h.turn("Grow")
    [result] = turn.tool_results()
    assert (result.output, result.is_error) == ("grown", False)
    await until(lambda: "mcp__fake__extra" in h.service.registry)
    assert "mcp__fake__picture" not in h.service.registry
    h.script(h.calls(("mcp__fake__extra", {})), h.text("Done."))
    turn = await h.turn("Use the new one")
    [changed] = [n for n in turn.of("notice") if n.data.code == "mcp_tools_changed"]
    assert changed.data.message == (
        "The MCP server 'fake' changed its tools (added extra; removed picture)."
    )
    offered = {tool["function"]["name"] for tool in h.request(2)["tools"]}
    assert "mcp__fake__extra" in offered and "mcp__fake__picture" not in offered
    [result] = turn.tool_results()
    assert (result.name, result.output, result.is_error) == (
        "mcp__fake__extra",
        "extra here",
        False,
    )
