"""#13 items 2/8/17 re-checked with variants they do not list: a NUL byte inside a prompt on
stdin (SQLite's text functions stop at it, so the rest was not searchable and the title
was cut), and ``--model`` given bytes that are not UTF-8 (shown as ``'\\udcff'``)."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.helpers import agentkit, assert_no_traceback, saved_messages


async def test_a_nul_byte_in_the_prompt_leaves_the_rest_searchable(
    agentkit_home: Path, tmp_path: Path
) -> None:
    run = await agentkit(
        "run", "--model", "demo", home=agentkit_home, cwd=tmp_path, stdin=b"abc\x00zebra crossing"
    )
    assert run.code == 0, run.err
    session = run.session_id
    messages = await saved_messages(agentkit_home, tmp_path, session)
    assert messages[0]["content"] == "abc\ufffdzebra crossing"
    found = await agentkit("sessions", "search", "zebra", home=agentkit_home, cwd=tmp_path)
    assert session in found.out
    listed = await agentkit("sessions", "list", home=agentkit_home, cwd=tmp_path)
    assert listed.out.rstrip().endswith("abc\ufffdzebra crossing")


async def test_a_model_name_that_is_not_utf8_is_shown_readably(
    agentkit_home: Path, tmp_path: Path
) -> None:
    run = await agentkit("run", "--model", b"\xff", "hi", home=agentkit_home, cwd=tmp_path)
    assert_no_traceback(run)
    assert run.code != 0
    assert "unknown model '\ufffd'" in run.err and "udcff" not in run.err
