"""The agentkit command: sessions and config subcommands, output modes, errors, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.cli import main
from app.store import SessionStore


def _seed(db: Path) -> dict[str, str]:
    async def seed() -> dict[str, str]:
        async with await SessionStore.open(db) as store:
            build = await store.create_session("coder", session_id="aaaa1111" + "0" * 24)
            await store.append_message(build.id, "user", "Why is the build red?")
            await store.append_message(
                build.id,
                "assistant",
                "A flaky \x1b[31mtest\x1b[0m in parser.",
                tool_calls=[{"id": "c1", "name": "shell", "arguments": {"command": "make"}}],
            )
            await store.append_message(build.id, "tool", "ok", tool_call_id="c1", tool_name="shell")
            notes = await store.create_session("writer", session_id="bbbb2222" + "0" * 24)
            await store.append_message(notes.id, "user", "Draft release notes")
            await store.close_session(notes.id)
            return {"build": build.id, "notes": notes.id}

    return asyncio.run(seed())


@pytest.fixture
def seeded(agentkit_home: Path) -> dict[str, str]:
    return _seed(agentkit_home / "agentkit.db")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"agentkit {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "sessions" in out and "config" in out


def test_home_screen_works_on_a_fresh_machine(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path
) -> None:
    code, out, _ = run(
        capsys,
    )
    assert code == 0
    assert "AgentKit TUI" in out and "no sessions yet" in out
    assert not (agentkit_home / "agentkit.db").exists()  # looking creates nothing


def test_list_is_tab_separated_in_a_pipe(
    capsys: pytest.CaptureFixture[str], seeded: dict[str, str]
) -> None:
    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == [seeded["notes"], seeded["build"]]
    assert rows[0][1] == "closed" and rows[1][1] == "active"
    assert rows[1][3] == "2" and rows[1][4] == "coder" and rows[1][5] == "Why is the build red?"
    _, active, _ = run(capsys, "sessions", "list", "--status", "active")
    assert [line.split("\t")[0] for line in active.splitlines()] == [seeded["build"]]


def test_list_json(capsys: pytest.CaptureFixture[str], seeded: dict[str, str]) -> None:
    code, out, _ = run(capsys, "sessions", "list", "--json", "--limit", "1")
    assert code == 0
    data = json.loads(out)
    assert [s["id"] for s in data] == [seeded["notes"]]
    assert data[0]["status"] == "closed" and data[0]["created_at"].endswith("Z")


def test_show_by_prefix_strips_escape_sequences(
    capsys: pytest.CaptureFixture[str], seeded: dict[str, str]
) -> None:
    code, out, _ = run(capsys, "sessions", "show", "aaaa")
    assert code == 0
    assert "Why is the build red?" in out
    assert "A flaky test in parser." in out and "\x1b" not in out
    assert '→ shell {"command": "make"}' in out
    code, out, _ = run(capsys, "sessions", "show", "aaaa", "--json", "--last", "1")
    data = json.loads(out)
    assert data["session"]["id"] == seeded["build"]
    assert [m["role"] for m in data["messages"]] == ["tool"]
    assert data["messages"][0]["content"] == "ok"


def test_search_plain_and_json(capsys: pytest.CaptureFixture[str], seeded: dict[str, str]) -> None:
    code, out, _ = run(capsys, "sessions", "search", "flaky")
    assert code == 0
    assert out.splitlines() == [f"{seeded['build']}\t#2 assistant\tA flaky test in parser."]
    _, out, _ = run(capsys, "sessions", "search", "release", "--json")
    hits = json.loads(out)
    assert [(h["kind"], h["session_id"]) for h in hits] == [
        ("title", seeded["notes"]),
        ("message", seeded["notes"]),
    ]
    _, out, _ = run(capsys, "sessions", "search", "release", "--session", "aaaa1111")
    assert out == ""


def test_export_to_stdout_and_to_a_file(
    capsys: pytest.CaptureFixture[str], seeded: dict[str, str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "sessions", "export", "aaaa1111")
    assert code == 0 and out.startswith("# Why is the build red?")
    target = tmp_path / "out.json"
    code, out, err = run(
        capsys, "sessions", "export", "aaaa1111", "--format", "json", "-o", str(target)
    )
    assert code == 0 and out == "" and str(target) in err
    assert json.loads(target.read_text())["session"]["id"] == seeded["build"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_rename_close_and_delete(
    capsys: pytest.CaptureFixture[str], seeded: dict[str, str]
) -> None:
    assert run(capsys, "sessions", "rename", "aaaa", "Red", "build")[0] == 0
    _, out, _ = run(capsys, "sessions", "list", "--json")
    assert {s["title"] for s in json.loads(out)} == {"Red build", "Draft release notes"}
    assert run(capsys, "sessions", "close", "aaaa")[0] == 0
    code, _, err = run(capsys, "sessions", "delete", "aaaa")
    assert code == 2 and "--yes" in err  # not a terminal: no silent deletes
    assert run(capsys, "sessions", "delete", "aaaa", "--yes")[0] == 0
    _, out, _ = run(capsys, "sessions", "list", "--json")
    assert [s["id"] for s in json.loads(out)] == [seeded["notes"]]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["sessions", "show", "zzzz"], 1, "agentkit: error: Session 'zzzz' not found"),
        (["sessions", "show", "aaaa1111", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["sessions", "export", "aaaa", "--format", "pdf"], 2, "invalid choice: 'pdf'"),
        (["sessions", "rename", "aaaa", " "], 1, "a session title cannot be empty"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    capsys: pytest.CaptureFixture[str],
    seeded: dict[str, str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    try:
        got = main(argv)
    except SystemExit as exit_:
        got = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_broken_config_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path
) -> None:
    (agentkit_home / "config.toml").write_text("[ui]\ntheme = [1\n")
    code, _, err = run(capsys, "sessions", "list")
    assert code == 2
    assert err.startswith(f"agentkit: error: config error in {agentkit_home / 'config.toml'}")
    assert len(err.strip().splitlines()) == 1


def test_a_broken_database_is_exit_1_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite" * 100)
    code, _, err = run(capsys, "sessions", "list", "--db", str(bad))
    assert code == 1 and str(bad) in err and "not an SQLite database" in err


def test_config_path_and_show(capsys: pytest.CaptureFixture[str], agentkit_home: Path) -> None:
    (agentkit_home / "config.toml").write_text(
        '[providers.work]\nkind = "openai"\napi_key_env = "WORK_KEY"\n'
        'headers = { "X-Api-Key" = "abc123" }\n'
    )
    code, out, _ = run(capsys, "config", "path", "--json")
    paths = json.loads(out)
    assert code == 0 and paths["config_file"] == str(agentkit_home / "config.toml")
    assert paths["config_exists"] is True and paths["database_exists"] is False
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "abc123" not in out and 'X-Api-Key = "***"' in out
    assert 'api_key_env = "WORK_KEY (not set)"' in out


def test_db_flag_and_storage_path(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    _seed(elsewhere)
    _, out, _ = run(capsys, "sessions", "list", "--db", str(elsewhere))
    assert len(out.splitlines()) == 2
    (agentkit_home / "config.toml").write_text(f'[storage]\npath = "{elsewhere}"\n')
    _, out, _ = run(capsys, "sessions", "list")
    assert len(out.splitlines()) == 2


@pytest.mark.slow
def test_console_script_and_python_m_app(seeded: dict[str, str]) -> None:
    env = dict(os.environ)
    script = Path(sys.executable).parent / "agentkit"  # the venv's console script
    for command in ([str(script)], [sys.executable, "-m", "app"]):
        done = subprocess.run(
            [*command, "sessions", "list"], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == 2


@pytest.mark.slow
def test_a_terminal_gets_aligned_columns_and_highlights(seeded: dict[str, str]) -> None:
    def in_terminal(*argv: str) -> str:
        leader, follower = pty.openpty()
        env = {**os.environ, "COLUMNS": "100"}
        env.pop("NO_COLOR", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *argv], stdout=follower, stderr=follower, env=env
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=30)
        os.close(leader)
        return b"".join(chunks).decode()

    table = in_terminal("sessions", "list")
    lines = table.replace("\r", "").splitlines()
    assert lines[0].split() == ["ID", "STATUS", "UPDATED", "MSGS", "AGENT", "TITLE"]
    assert lines[2].startswith("aaaa1111  active")
    found = in_terminal("sessions", "search", "flaky")
    assert "\x1b[1;4mflaky\x1b[0m" in found


def test_models_says_which_model_answers_and_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens there
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert out.startswith("default: demo") and "why: nothing configured" in out
    # It says how to leave the demo, and does not send the reader to itself.
    assert "agentkit config init" in out and "see `agentkit models`" not in out
    code, out, _ = run(capsys, "models", "--json")
    report = json.loads(out)
    assert report["default"] == "demo"
    assert {p["name"] for p in report["providers"]} >= {"demo"}
