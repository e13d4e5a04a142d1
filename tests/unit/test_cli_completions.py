"""`agentkit completions SHELL`: scripts made from the parser, which each shell accepts and
which really complete the commands (bash is always here; zsh and fish when installed)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.store import SessionStore


def script(capsys: pytest.CaptureFixture[str], shell: str, tmp_path: Path) -> Path:
    assert main(["completions", shell]) == 0
    path = tmp_path / f"agentkit.{shell}"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def bash_complete(completion: Path, line: str) -> list[str]:
    """What bash offers for ``line`` (the cursor at its end) with the script loaded; the
    ``agentkit`` it may run is this environment's."""
    words = line.split(" ")
    probe = (
        f"source {completion}; COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}; "
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
        '_shtab_agentkit; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        ["bash", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PATH": path},
    )
    return done.stdout.split()


def test_bash_script_parses_and_completes_commands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    completion = script(capsys, "bash", tmp_path)
    subprocess.run(["bash", "-n", str(completion)], check=True)
    assert bash_complete(completion, "agentkit ses") == ["sessions"]
    assert {"path", "show", "init", "edit"} <= set(bash_complete(completion, "agentkit config "))
    assert "--force" in bash_complete(completion, "agentkit config init --")
    assert "--debug" in bash_complete(completion, "agentkit --")


@pytest.mark.slow
def test_session_ids_complete_from_the_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agentkit_home: Path
) -> None:
    async def seed() -> list[str]:
        async with await SessionStore.open(agentkit_home / "agentkit.db") as store:
            first = await store.create_session("default", session_id="aaaa1111" + "0" * 24)
            second = await store.create_session("default", session_id="abcd2222" + "0" * 24)
            return [first.id, second.id]

    ids = asyncio.run(seed())
    completion = script(capsys, "bash", tmp_path)
    assert sorted(bash_complete(completion, "agentkit sessions show ")) == sorted(ids)
    assert bash_complete(completion, "agentkit run --session abc") == [ids[1]]


def test_zsh_script_names_the_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    completion = script(capsys, "zsh", tmp_path)
    text = completion.read_text()
    assert text.startswith("#compdef agentkit")
    for command in ("sessions", "config", "run", "models", "serve", "mcp", "completions"):
        assert f"    {command}:'" in text, command  # zsh's _describe list: name:'help'
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", str(completion)], check=True)


def test_fish_script_parses(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    completion = script(capsys, "fish", tmp_path)
    assert "complete -c agentkit" in completion.read_text()
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed: only the text was checked")
    subprocess.run([fish, "--no-execute", str(completion)], check=True)
    offered = subprocess.run(
        [fish, "-c", f"source {completion}; complete -C 'agentkit config '"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {"init", "edit"} <= {line.split("\t")[0] for line in offered.splitlines()}


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["completions", "powershell"])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_completions_work_with_a_broken_config(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path
) -> None:
    (agentkit_home / "config.toml").write_text("[[[ not toml\n", encoding="utf-8")
    assert main(["completions", "bash"]) == 0
    assert "_shtab_agentkit" in capsys.readouterr().out
