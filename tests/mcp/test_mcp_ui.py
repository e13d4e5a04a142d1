"""Where people see the MCP servers in the full-screen app, over the real fake server (stdio):
the command palette and f1 list every server with its status (running and its tools, failed
and why, disabled), and a tool step and the approval dialog say ``server › tool``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from app.engine.clients import display_tool_name
from app.ui.app import AgentKitApp
from app.ui.dialogs.confirm import ConfirmDialog
from app.ui.dialogs.help import HelpDialog
from app.ui.widgets.message_views import ToolStep
from tests.mcp.conftest import stdio_server
from tests.ui.conftest import type_and_send, until

pytestmark = pytest.mark.slow

MakeMcp = Callable[..., Any]

SERVERS: dict[str, dict[str, Any]] = {
    "fake": stdio_server(),
    "broken": stdio_server(env={"FAKE_MCP_FAIL_START": "TEST_FAIL"}),
    "off": {"command": "never-started", "enabled": False},
}


async def _app(make_mcp: MakeMcp) -> tuple[Any, AgentKitApp]:
    h = await make_mcp(SERVERS, env={"TEST_FAIL": "1"})
    await h.ready()
    return h, AgentKitApp(settings=h.settings, store=h.store, service=h.service)


def test_mcp_tools_are_labelled_server_then_tool() -> None:
    assert display_tool_name("mcp__fake__echo") == "fake › echo"
    assert display_tool_name("mcp__my-server__read_thing") == "my-server › read_thing"
    assert display_tool_name("read_file") == "read_file"
    assert display_tool_name("mcp__broken") == "mcp__broken"  # not a full MCP name
    step = ToolStep("call_1", "mcp__fake__echo", {"text": "hi"})
    assert str(step.title).startswith("⋯ fake › echo  ")
    assert step.tool_name == "mcp__fake__echo"  # the full name stays for everything else


async def test_the_palette_lists_each_server_with_its_status(make_mcp: MakeMcp) -> None:
    _, app = await _app(make_mcp)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"MCP server")

        def shown() -> list[str]:
            found = app.screen.query(CommandList)
            if not found:
                return []
            commands = found.first()
            prompts = (commands.get_option_at_index(i).prompt for i in range(commands.option_count))
            return [str(prompt) for prompt in prompts if "MCP server" in str(prompt)]

        await until(pilot, lambda: len(shown()) == 3)
        text = "\n".join(shown())
        assert "MCP server fake" in text and "running · 8 tools" in text
        assert "MCP server broken" in text and "failed:" in text
        assert "MCP server off" in text and "disabled" in text
        # Choosing one tells its status in full.
        await pilot.press(*" broken")
        await until(pilot, lambda: len(shown()) == 1 and "broken" in shown()[0])
        await pilot.press("enter")
        await until(pilot, lambda: bool(app._notifications))
        told = [str(notice.message) for notice in app._notifications]
        assert any(line.startswith("broken (stdio): failed:") for line in told), told


async def test_f1_lists_the_servers_under_the_keys(make_mcp: MakeMcp) -> None:
    _, app = await _app(make_mcp)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))
        dialog = app.screen
        assert dialog.query_one("#help-mcp")
        rows = [
            " | ".join(str(cell.render()) for cell in row.query(Static))
            for row in dialog.query(".help-mcp-server")
        ]
        assert rows[0] == "fake | running · 8 tools"
        assert rows[1].startswith("broken | failed: ")
        assert rows[2] == "off | disabled"


async def test_a_tool_step_and_its_question_say_server_then_tool(make_mcp: MakeMcp) -> None:
    h, app = await _app(make_mcp)
    h.script(h.calls(("mcp__fake__add", {"a": 1, "b": 2})), h.text("It is 3."))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await type_and_send(pilot, "Add one and two")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), 30.0)
        title = app.screen.query_one("#confirm-title", Static)
        assert str(title.render()) == "fake › add wants to run"
        await pilot.press("y")
        await until(pilot, lambda: not app.turns.live, 30.0)
        steps = list(app.transcript.query(ToolStep))
        assert len(steps) == 1 and str(steps[0].title).startswith("✓ fake › add  ")


async def test_an_http_server_shows_in_the_palette_f1_and_its_tool_steps(
    make_mcp: MakeMcp, http_server: Callable[..., Any]
) -> None:
    """A streamable-HTTP server on loopback: the palette lists it as running with its tools
    (choosing it names them), f1 lists it, and a call of its tool is a ``docs › add`` step."""
    url = await http_server(None)
    h = await make_mcp({"docs": {"url": url}}, approval={"allow": ["mcp__docs"]})
    await h.ready()
    h.script(h.calls(("mcp__docs__add", {"a": 2, "b": 3})), h.text("It is 5."))
    app = AgentKitApp(settings=h.settings, store=h.store, service=h.service)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"MCP server docs")

        def shown() -> list[str]:
            found = app.screen.query(CommandList)
            if not found:
                return []
            commands = found.first()
            prompts = (commands.get_option_at_index(i).prompt for i in range(commands.option_count))
            return [str(prompt) for prompt in prompts if "MCP server" in str(prompt)]

        await until(pilot, lambda: len(shown()) == 1)
        assert "MCP server docs" in shown()[0] and "running · 8 tools" in shown()[0]
        await pilot.press("enter")
        await until(pilot, lambda: bool(app._notifications))
        [told] = [str(notice.message) for notice in app._notifications]
        assert told.startswith("docs (http): running · 8 tools: ")
        assert {"echo", "add", "slow"} <= set(told.split(": ")[-1].split(", "))
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))
        rows = [
            " | ".join(str(cell.render()) for cell in row.query(Static))
            for row in app.screen.query(".help-mcp-server")
        ]
        assert rows == ["docs | running · 8 tools"]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpDialog))
        await type_and_send(pilot, "Add two and three")
        await until(pilot, lambda: not app.turns.live and bool(app.transcript.query(ToolStep)), 30)
        [step] = list(app.transcript.query(ToolStep))
        assert str(step.title).startswith("✓ docs › add  ")
        assert step.tool_name == "mcp__docs__add"
