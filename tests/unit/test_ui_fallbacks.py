"""``[ui]`` is about looks and habits: a bad value there never stops the app or ``agentkit run``
(it falls back to its default, told once), while every other section keeps its one-line
config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


def test_bad_ui_values_fall_back_and_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[ui]\nnotify = "loud"\nstream_delay_ms = -3\nshow_sidebar = false\ncolour = "red"\n'
    )
    ui = load_settings(path, {}).ui
    assert (ui.notify, ui.stream_delay_ms, ui.show_sidebar) == ("bell", 12, False)
    assert sorted(line.split(":")[0] for line in ui.fallbacks) == [
        "[ui] colour",
        "[ui] notify",
        "[ui] stream_delay_ms",
    ]


def test_good_ui_values_have_no_fallbacks(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\nnotify = "off"\nmouse = false\n')
    ui = load_settings(path, {}).ui
    assert (ui.notify, ui.mouse, ui.fallbacks) == ("off", False, [])


def test_other_sections_still_fail_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\nnotify = "loud"\n[engine]\nmax_steps = 0\n')
    with pytest.raises(ConfigError, match=r"line 4, key engine\.max_steps"):
        load_settings(path, {})


def test_a_ui_that_is_not_a_table_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('ui = "dark"\n')
    with pytest.raises(ConfigError, match="key ui"):
        load_settings(path, {})


def test_headless_run_is_not_stopped_by_a_bad_ui_value(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[ui]\nmouse = "maybe"\n')
    done = subprocess.run(
        [sys.executable, "-m", "app", "run", "--json", "hello"],
        capture_output=True,
        text=True,
        env={"AGENTKIT_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"type":"result"' in done.stdout.replace(" ", "")
