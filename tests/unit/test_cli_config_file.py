"""`agentkit config init` and `agentkit config edit`, run through the real entry point with a
real editor program (a small script) in a temporary AGENTKIT_HOME."""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _editor(tmp_path: Path, old: str, new: str) -> str:
    """A real editor program: replaces the line ``old`` with ``new`` in the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"text = path.read_text(encoding='utf-8')\n"
        f"assert {old!r} in text, 'nothing to edit'\n"
        f"path.write_text(text.replace({old!r}, {new!r}, 1), encoding='utf-8')\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return f"{sys.executable} {script}"


def test_init_writes_the_commented_file_and_never_overwrites(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path
) -> None:
    config = agentkit_home / "config.toml"
    code, out, _ = run(capsys, "config", "init")
    assert code == 0 and str(config) in out
    written = config.read_text(encoding="utf-8")
    assert '# theme = "textual-dark"' in written and "# [providers.openai]" in written

    config.write_text('default_agent = "mine"\n', encoding="utf-8")
    code, out, err = run(capsys, "config", "init")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "already exists" in err and "--force" in err
    assert config.read_text(encoding="utf-8") == 'default_agent = "mine"\n'  # untouched


def test_init_force_keeps_a_backup_first(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path
) -> None:
    config = agentkit_home / "config.toml"
    config.write_text("this is [not toml\n", encoding="utf-8")  # broken: init still works
    code, out, _ = run(capsys, "config", "init", "--force")
    assert code == 0 and "config.toml.bak" in out
    assert (agentkit_home / "config.toml.bak").read_text() == "this is [not toml\n"
    config.write_text("second\n", encoding="utf-8")
    assert run(capsys, "config", "init", "--force")[0] == 0
    assert (agentkit_home / "config.toml.bak.2").read_text() == "second\n"
    assert (agentkit_home / "config.toml.bak").read_text() == "this is [not toml\n"


def test_init_honours_config_for_a_new_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere" / "agentkit.toml"
    code, _, _ = run(capsys, "config", "init", "--config", str(target))
    assert code == 0 and target.is_file()


def test_edit_creates_opens_and_checks_the_file(
    capsys: pytest.CaptureFixture[str],
    agentkit_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, '# theme = "textual-dark"', 'theme = "nord"'))
    code, out, err = run(capsys, "config", "edit")
    assert code == 0, err
    assert "created" in err and "valid" in out
    code, out, _ = run(capsys, "config", "show", "--json")
    assert code == 0 and json.loads(out)["ui"]["theme"] == "nord"


def test_visual_beats_editor(
    capsys: pytest.CaptureFixture[str],
    agentkit_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDITOR", "false")  # would fail
    monkeypatch.setenv("VISUAL", _editor(tmp_path, "# max_steps = 25", "max_steps = 40"))
    assert run(capsys, "config", "edit")[0] == 0
    assert "\nmax_steps = 40\n" in (agentkit_home / "config.toml").read_text()


def test_a_bad_edit_is_one_line_exit_2_and_the_edit_is_kept(
    capsys: pytest.CaptureFixture[str],
    agentkit_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    assert run(capsys, "config", "init")[0] == 0
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "# max_steps = 25", "max_steps = 0"))
    code, out, err = run(capsys, "config", "edit")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert "config error in" in err and "engine.max_steps" in err
    assert "\nmax_steps = 0\n" in (agentkit_home / "config.toml").read_text()  # nothing lost


def test_a_bad_ui_value_is_a_warning_the_app_falls_back(
    capsys: pytest.CaptureFixture[str],
    agentkit_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "# show_sidebar = true", "show_sidebar = 7"))
    code, out, err = run(capsys, "config", "edit")
    assert code == 0 and "valid" in out
    assert "agentkit: warning: [ui] show_sidebar:" in err and "using the default" in err


def test_editor_problems_are_one_line(
    capsys: pytest.CaptureFixture[str],
    agentkit_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    assert run(capsys, "config", "init")[0] == 0
    monkeypatch.setenv("EDITOR", "false")
    code, _, err = run(capsys, "config", "edit")
    assert code == 1 and "exited with code 1" in err and len(err.splitlines()) == 1
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    code, _, err = run(capsys, "config", "edit")
    assert code == 2 and "cannot start the editor" in err and len(err.splitlines()) == 1
    monkeypatch.delenv("EDITOR")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # neither nano nor vi
    code, _, err = run(capsys, "config", "edit")
    assert code == 2 and "no editor found" in err and "$EDITOR" in err


@pytest.mark.slow
def test_on_a_terminal_a_bad_edit_offers_the_editor_again(
    agentkit_home: Path, tmp_path: Path
) -> None:
    """First edit breaks the file, the person says yes, the second edit fixes it: exit 0."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text(encoding='utf-8')\n"
        "if '# max_steps = 25' in text:\n"
        "    text = text.replace('# max_steps = 25', 'max_steps = 0')\n"
        "else:\n"
        "    text = text.replace('max_steps = 0', 'max_steps = 40')\n"
        "path.write_text(text, encoding='utf-8')\n",
        encoding="utf-8",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTKIT_", "VISUAL"))}
    env = {**clean, "AGENTKIT_HOME": str(agentkit_home), "EDITOR": f"{sys.executable} {script}"}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "config", "edit"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    seen = b""
    try:
        while b"[Y/n]" not in seen:
            ready, _, _ = select.select([controller], [], [], 30)
            assert ready, seen
            seen += os.read(controller, 4096)
        assert b"engine.max_steps" in seen
        os.write(controller, b"\n")  # the default answer: yes
        while True:
            ready, _, _ = select.select([controller], [], [], 30)
            if not ready:
                break
            chunk = os.read(controller, 4096)
            if not chunk:
                break
            seen += chunk
    except OSError:  # the pty closed: the command has ended
        pass
    finally:
        os.close(controller)
    assert process.wait(timeout=30) == 0, seen
    assert b"the config is valid" in seen
    assert "\nmax_steps = 40\n" in (agentkit_home / "config.toml").read_text()
