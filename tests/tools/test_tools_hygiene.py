"""app.tools stays in its layer: no UI, engine, LLM or store code, at run time and in the source.

Rich is checked at the source level only: httpx 0.28 itself imports ``rich`` (for its
command-line ``main``) whenever rich is installed, which it always is next to Textual.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / "app" / "tools"


def test_importing_every_tools_module_pulls_in_no_higher_layer() -> None:
    modules = sorted(f"app.tools.{p.stem}" for p in TOOLS.glob("*.py") if p.stem != "__init__")
    probe = (
        f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
        "or m.startswith(('app.engine', 'app.llm', 'app.store', 'app.ui'))); "
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert done.stdout.strip() == "", f"app.tools imports {done.stdout.strip()}"


def test_tools_sources_never_import_rich_textual_or_other_layers() -> None:
    pattern = re.compile(
        r"^\s*(from|import)\s+(rich|textual|app\.(engine|llm|store|ui))\b", re.MULTILINE
    )
    offenders = [p.name for p in TOOLS.glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
