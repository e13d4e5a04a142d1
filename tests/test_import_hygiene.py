"""Layers hold: nothing below the UI imports Textual or Rich, and import-linter agrees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
LOWER_LAYERS = [
    "app.config",
    "app.paths",
    "app.textsafe",
    "app.atomic",
    "app.store",
    "app.cli",
    "app.wiring",
    "app.mcp.tools",
]


@pytest.mark.parametrize("module", LOWER_LAYERS)
def test_lower_layers_do_not_pull_in_textual(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert done.stdout.strip() == "", f"{module} imports {done.stdout.strip()}"


@pytest.mark.slow
def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [lint_imports], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
