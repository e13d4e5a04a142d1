"""``[mcp.servers.NAME]``: one-line config errors, names (never values) of secrets, workspace
servers behind the file's trust, and the rules that name MCP tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.config import (
    ConfigError,
    load_settings,
    read_workspace_rules,
    redacted,
    trust_key,
    with_workspace_rules,
)
from app.mcp.naming import split_name, tool_name
from app.paths import workspace_config_file
from app.tools.rules import parse_rule, read_rules_file, save_rule
from tests.mcp.conftest import server_pids, stdio_server


def _load(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path, {})


def test_the_issue_example_loads(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        """
[mcp.servers.github]
command = "github-mcp"
args = ["--read-only"]
env = { GITHUB_TOKEN_ENV = "GITHUB_TOKEN" }
cwd = "."
[mcp.servers.docs]
url = "https://example.invalid/mcp"
headers_env = { Authorization = "DOCS_MCP_AUTH" }
enabled = true
tools = ["search", "fetch_*"]
startup_timeout = 20.0
call_timeout = 120.0
""",
    )
    github, docs = settings.mcp.servers["github"], settings.mcp.servers["docs"]
    assert (github.transport, github.command_line()) == ("stdio", "github-mcp --read-only")
    assert (docs.transport, docs.tools, docs.trust_annotations) == (
        "http",
        ["search", "fetch_*"],
        False,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[mcp.servers.x]\ncommand = "a"\nurl = "http://h/mcp"\n',
            "line 1, key mcp.servers.x: give either command (a program, over stdio) or url",
        ),
        ("[mcp.servers.x]\nenabled = true\n", "key mcp.servers.x: give either command"),
        (
            '[mcp.servers.x]\ncommand = "a"\nenv = { TOKEN = "ghp-secret-value-123" }\n',
            "line 3, key mcp.servers.x.env: variable 'TOKEN' must name an environment variable",
        ),
        (
            '[mcp.servers.x]\nurl = "http://h"\nheaders_env = { Authorization = "Bearer abc" }\n',
            "line 3, key mcp.servers.x.headers_env: header 'Authorization' must name an "
            "environment variable",
        ),
        ('[mcp.servers.x]\nurl = "ftp://h"\n', "line 2, key mcp.servers.x.url: expected an http"),
        ('[mcp.servers.x]\ncommand = "a"\ntimeout = 3\n', "key mcp.servers.x.timeout: unknown key"),
        (
            '[mcp.servers.x]\ncommand = "a"\ncall_timeout = 0\n',
            "line 3, key mcp.servers.x.call_timeout: input should be greater than 0",
        ),
        ('[mcp.servers."a__b"]\ncommand = "a"\n', "key mcp.servers: server name 'a__b' may use"),
        (
            '[mcp.servers.x]\nurl = "http://h"\nargs = ["-v"]\n',
            "key mcp.servers.x: args, env and cwd are for command servers",
        ),
    ],
)
def test_a_bad_server_table_is_one_line_naming_the_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and expected in message, message
    assert "ghp-secret-value-123" not in message and "Bearer abc" not in message


def test_config_show_names_the_variables_never_their_values(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        '[mcp.servers.gh]\ncommand = "gh-mcp"\nenv = { GITHUB_TOKEN = "MY_GH" }\n'
        '[mcp.servers.docs]\nurl = "https://user:pw@docs.example/mcp"\n'
        'headers_env = { Authorization = "DOCS_AUTH" }\n',
    )
    shown = redacted(settings, {"MY_GH": "ghp_value_1", "DOCS_AUTH": "Bearer value_2"})
    servers = shown["mcp"]["servers"]
    assert servers["gh"]["env"] == {"GITHUB_TOKEN": "MY_GH (set)"}
    assert servers["docs"]["headers_env"] == {"Authorization": "DOCS_AUTH (set)"}
    assert servers["docs"]["url"] == "https://user:***@docs.example/mcp"
    text = json.dumps(shown)
    assert "ghp_value_1" not in text and "value_2" not in text and ":pw@" not in text


def test_tool_names_are_safe_and_split_back() -> None:
    assert tool_name("github", "search") == "mcp__github__search"
    assert tool_name("docs", "fetch.page v2") == "mcp__docs__fetch_page_v2"
    long = tool_name("server", "x" * 100)
    assert len(long) == 64 and long != tool_name("server", "x" * 99)
    assert split_name("mcp__github__search_code") == ("github", "search_code")
    assert split_name("mcp__github") is None and split_name("shell") is None


def test_rules_name_one_tool_or_a_whole_server() -> None:
    one = parse_rule("mcp__github__search")
    assert one.covers_tool("mcp__github__search") and not one.covers_tool("mcp__github__fetch")
    for text in ("mcp__github", "mcp__github__*"):
        server = parse_rule(text)
        assert server.covers_tool("mcp__github__search") and server.covers_tool("mcp__github__x")
        assert not server.covers_tool("mcp__githubx__search")
    for bad in ("mcp__github__search(x)", "shell__*", "mcp__a__b__*"):
        with pytest.raises(ValueError):
            parse_rule(bad)


# --------------------------------------------------------------------------- workspace


def _workspace_file(workspace: Path, text: str) -> Path:
    path = workspace_config_file(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _server_table(name: str) -> str:
    table = stdio_server()
    args = json.dumps(table["args"])
    return (
        f"[mcp.servers.{name}]\ncommand = {json.dumps(table['command'])}\nargs = {args}\n"
        'env = { FAKE_MCP_MARKS = "TEST_MCP_MARKS" }\n'
    )


def test_a_workspace_file_may_hold_servers_but_nothing_else_new(tmp_path: Path) -> None:
    settings = load_settings(None, {})
    _workspace_file(tmp_path, _server_table("ws"))
    rules = read_workspace_rules(workspace_config_file(tmp_path), settings)
    assert rules is not None and [name for name, _ in rules.mcp_servers] == ["ws"]
    assert rules.needs_trust and "1 MCP server in" in rules.ignored_note()
    # Untrusted: its servers are not merged into the settings.
    assert with_workspace_rules(settings, rules).mcp.servers == {}
    _workspace_file(tmp_path, '[mcp.servers.ws]\ncommand = "x"\nbogus = 1\n')
    with pytest.raises(ConfigError, match=r"key mcp\.servers\.ws\.bogus: unknown key"):
        read_workspace_rules(workspace_config_file(tmp_path), settings)
    _workspace_file(tmp_path, "[mcp]\nproxy = 1\n")
    with pytest.raises(ConfigError, match="may only hold"):
        read_workspace_rules(workspace_config_file(tmp_path), settings)


def test_an_answer_in_the_dialog_does_not_trust_a_file_with_servers(tmp_path: Path) -> None:
    user_config = tmp_path / "user.toml"
    path = _workspace_file(tmp_path, _server_table("ws"))
    save_rule("read_file", "allow", "workspace", user_config, tmp_path)
    assert read_rules_file(path)["allow"] == ["read_file"]
    settings = load_settings(user_config, {})
    rules = read_workspace_rules(path, settings)
    assert rules is not None and not rules.trusted  # the servers still need the person


@pytest.mark.slow
async def test_workspace_servers_start_only_once_the_file_is_trusted(
    tmp_path: Path, make_mcp: Callable[..., Any], marks: Path, mcp_workspace: Path
) -> None:
    path = _workspace_file(mcp_workspace, _server_table("ws"))
    untrusted = read_workspace_rules(path, load_settings(None, {}))
    h = await make_mcp({}, workspace_rules=untrusted)
    h.script(h.text("Hello."))
    turn = await h.turn("hello, which tools do you have?")
    [told] = [n for n in turn.of("notice") if n.data.code == "mcp_untrusted"]
    assert "not started (ws)" in told.data.message
    assert server_pids(marks) == []
    assert [s.status for s in h.manager.states()] == ["not_trusted"]

    user = tmp_path / "trusting.toml"
    user.write_text(f'[approval.trusted_workspaces]\n"{trust_key(path)}" = "{untrusted.digest}"\n')
    settings = load_settings(user, {})
    trusted = read_workspace_rules(path, settings)
    assert trusted is not None and trusted.trusted
    merged = with_workspace_rules(settings, trusted).mcp.servers
    h2 = await make_mcp(
        {name: config.model_dump() for name, config in merged.items()},
        workspace_rules=trusted,
        approval={"allow": ["mcp__ws"]},
    )
    await h2.ready()
    assert len(server_pids(marks)) == 1
    [state] = h2.manager.states()
    assert (state.name, state.status, state.origin) == ("ws", "running", "workspace")
    h2.script(h2.calls(("mcp__ws__echo", {"text": "from the workspace"})), h2.text("ok"))
    second = await h2.turn("Echo")
    assert second.tool_results()[0].output == "echo: from the workspace"


def test_the_engine_loads_without_importing_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, app.engine.service, app.mcp.manager, app.mcp.tools; "
        "sys.exit(1 if [m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')] else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
