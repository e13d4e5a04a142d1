"""AGENTS.md: read from the repository root down to the workspace, nearest last, capped,
announced once per session and again when a file changes, and never through a link out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.engine.instructions import load
from tests.engine.conftest import Harness


def _tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    workspace = repo / "services" / "api"
    workspace.mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "AGENTS.md").write_text("Use tabs. ROOT-RULE\n")
    (repo / "services" / "CLAUDE.md").write_text("Services use gRPC. MIDDLE-RULE\n")
    (workspace / "AGENTS.md").write_text("Use spaces here. NEAREST-RULE\n")
    (workspace / "CLAUDE.md").write_text("IGNORED: AGENTS.md wins in this folder\n")
    return workspace


def test_files_come_from_the_root_down_and_the_nearest_is_last(tmp_path: Path) -> None:
    found = load(_tree(tmp_path), 32_768)
    text = found.text
    assert text.index("ROOT-RULE") < text.index("MIDDLE-RULE") < text.index("NEAREST-RULE")
    assert "IGNORED" not in text
    assert "from services/api/AGENTS.md" in text and "from AGENTS.md" in text
    assert found.cut_bytes == 0


def test_the_cap_cuts_the_farthest_files_first_and_says_so(tmp_path: Path) -> None:
    workspace = _tree(tmp_path)
    (workspace.parents[1] / "AGENTS.md").write_text("R" * 5_000 + " ROOT-TAIL")
    found = load(workspace, 1_024)
    assert "NEAREST-RULE" in found.text and "ROOT-TAIL" not in found.text
    assert "left out" in found.text and found.cut_bytes > 3_000


def test_a_link_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY MATERIAL")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "AGENTS.md").symlink_to(secret)
    found = load(workspace, 32_768)
    assert "PRIVATE" not in found.text and not found.files


async def test_the_model_gets_them_and_a_notice_says_which(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()
    (harness.workspace / "AGENTS.md").write_text("Always answer in French. WS-RULE\n")
    harness.script(harness.text("Bonjour."), harness.text("Encore."), harness.text("Trois."))
    first = await harness.turn("hello there, what is this project?")
    system = str(harness.request(0).get("messages", [{}])[0])
    assert "WS-RULE" in system
    told = [n.data.message for n in first.of("notice") if n.data.code == "project_instructions"]
    assert told and "AGENTS.md" in told[0]
    second = await harness.turn("and again?")
    assert not [n for n in second.of("notice") if n.data.code == "project_instructions"]
    path = harness.workspace / "AGENTS.md"
    path.write_text("Always answer in German. WS-RULE-2\n")
    os.utime(path, ns=(1, 1))  # a different time even on a coarse clock
    third = await harness.turn("and now?")
    assert [n for n in third.of("notice") if n.data.code == "project_instructions"]
    assert "WS-RULE-2" in str(harness.request(2)["messages"][0])


async def test_the_off_switch(make_harness: Callable[..., Any]) -> None:
    harness: Harness = await make_harness(engine={"project_instructions": False})
    (harness.workspace / "AGENTS.md").write_text("WS-RULE\n")
    harness.script(harness.text("Hi."))
    turn = await harness.turn("what is this project?")
    assert "WS-RULE" not in str(harness.request(0))
    assert not [n for n in turn.of("notice") if n.data.code == "project_instructions"]
