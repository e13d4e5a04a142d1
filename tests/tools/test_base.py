"""The tool contract: argument errors the model can act on, execute(), truncation, registry."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.tools.base import (
    Tool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolResult,
    execute,
    truncate_output,
)
from app.tools.human import NO_USER
from app.tools.registry import BUILTIN_TOOL_NAMES, ToolRegistry, UnknownToolError
from tests.tools.conftest import Runner


class EchoArgs(ToolArgs):
    text: str
    times: int = 1


class EchoTool(Tool[EchoArgs]):
    """A test tool whose behaviour the text argument picks."""

    name = "echo"
    description = "Echo text."
    Args = EchoArgs
    access = "read"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cleaned_up = False

    async def run(self, args: EchoArgs, ctx: ToolContext) -> ToolResult:
        if args.text == "fail":
            raise ToolError("It failed in a way the model can fix.")
        if args.text == "crash":
            raise RuntimeError("boom")
        if args.text == "hang":
            self.started.set()
            try:
                await asyncio.Event().wait()
            finally:
                self.cleaned_up = True
        return ToolResult(output=args.text * args.times)


@pytest.fixture
def echo() -> EchoTool:
    return EchoTool()


def test_spec_is_name_description_and_json_schema(echo: EchoTool) -> None:
    spec = echo.spec()
    assert spec["name"] == "echo" and spec["description"] == "Echo text."
    params = spec["parameters"]
    assert params["type"] == "object" and params["required"] == ["text"]
    assert params["properties"]["times"] == {"default": 1, "type": "integer"}
    assert params["additionalProperties"] is False


def test_each_spec_is_its_own_copy_of_a_schema_made_once(echo: EchoTool) -> None:
    first = echo.spec()
    first["parameters"]["properties"]["times"]["type"] = "changed by a caller"
    first["parameters"]["required"].append("times")
    again = echo.spec()
    assert again["parameters"]["properties"]["times"] == {"default": 1, "type": "integer"}
    assert again["parameters"]["required"] == ["text"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({}, "`text` is required"),
        ({"text": "a", "times": "many"}, "`times`: Input should be a valid integer"),
        ({"text": "a", "colour": "red"}, "`colour` is not an argument of echo"),
    ],
)
async def test_bad_arguments_become_error_results(
    echo: EchoTool, ctx: ToolContext, raw: object, expected: str
) -> None:
    result = await execute(echo, raw, ctx)  # type: ignore[arg-type]
    assert result.is_error
    assert expected in result.output
    assert result.metadata["error"] == "invalid_arguments"


async def test_json_string_arguments_are_accepted(echo: EchoTool, ctx: ToolContext) -> None:
    result = await execute(echo, '{"text": "ab", "times": 2}', ctx)
    assert result.output == "abab" and not result.is_error
    assert isinstance(result.metadata["duration_ms"], int)


async def test_tool_errors_and_crashes_become_error_results(
    echo: EchoTool, ctx: ToolContext
) -> None:
    failed = await execute(echo, {"text": "fail"}, ctx)
    assert failed.is_error and failed.output == "It failed in a way the model can fix."
    crashed = await execute(echo, {"text": "crash"}, ctx)
    assert crashed.is_error and "RuntimeError: boom" in crashed.output


async def test_timeout_becomes_an_error_result(echo: EchoTool, workspace: Path) -> None:
    ctx = ToolContext(workspace=workspace, timeout=0.05)
    result = await execute(echo, {"text": "hang"}, ctx)
    assert result.is_error and "timed out after 0.05 s" in result.output
    assert echo.cleaned_up


async def test_cancellation_propagates_after_cleanup(echo: EchoTool, ctx: ToolContext) -> None:
    task = asyncio.create_task(execute(echo, {"text": "hang"}, ctx))
    await echo.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert echo.cleaned_up


async def test_long_output_is_truncated_with_a_note(echo: EchoTool, workspace: Path) -> None:
    ctx = ToolContext(workspace=workspace, max_output_chars=1_000)
    result = await execute(echo, {"text": "x", "times": 5_000}, ctx)
    assert "[… 4,000 characters cut …]" in result.output
    assert result.metadata["truncated_chars"] == 4_000
    assert result.output.count("x") == 1_000


def test_truncate_output_keeps_head_and_tail() -> None:
    text, cut = truncate_output("".join(str(i % 10) for i in range(100)), 30)
    assert cut == 70
    assert text.startswith("0123456789") and text.endswith("0123456789")
    assert truncate_output("short", 30) == ("short", 0)


def test_registry_lists_specs_and_refuses_unknown_tools(echo: EchoTool) -> None:
    registry = ToolRegistry([echo])
    assert registry.names() == ["echo"] and "echo" in registry and len(registry) == 1
    assert registry.specs() == [echo.spec()]
    with pytest.raises(UnknownToolError, match=r"Unknown tool 'nope'\. Available tools: echo\."):
        registry.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(EchoTool())


def test_builtin_registry_has_every_tool_with_valid_specs(registry: ToolRegistry) -> None:
    assert registry.names() == list(BUILTIN_TOOL_NAMES)
    specs = {spec["name"]: spec for spec in registry.specs()}
    assert set(specs["read_file"]["parameters"]["properties"]) == {
        "path",
        "start_line",
        "end_line",
    }
    assert specs["shell"]["parameters"]["required"] == ["command"]
    assert set(specs["edit_file"]["parameters"]["properties"]) == {"path", "old", "new"}
    assert set(specs["search_text"]["parameters"]["properties"]) >= {"pattern", "path"}
    assert registry.subset(["shell", "read_file"]).names() == ["shell", "read_file"]
    assert [spec["name"] for spec in registry.specs(["web_fetch"])] == ["web_fetch"]
    with pytest.raises(UnknownToolError):
        registry.subset(["shel"])


async def test_ask_human_uses_ctx_ask(run: Runner, ctx: ToolContext) -> None:
    nobody = await run("ask_human", {"question": "Which branch?"})
    assert nobody.output == NO_USER and not nobody.is_error

    asked: list[str] = []

    async def answer(question: str, choices: Sequence[str]) -> str:
        asked.append(question)
        return "main"

    ctx.ask = answer
    result = await run("ask_human", {"question": "Which branch?"})
    assert result.output == "main" and asked == ["Which branch?"]

    async def silent(question: str, choices: Sequence[str]) -> str:
        raise TimeoutError

    ctx.ask = silent
    late = await run("ask_human", {"question": "Still there?"})
    assert late.is_error and "did not answer" in late.output
    empty = await run("ask_human", {"question": ""})
    assert empty.is_error and "question" in empty.output
