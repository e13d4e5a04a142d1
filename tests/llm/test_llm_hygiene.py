"""app.llm stays below the UI: it pulls in no Textual, store, engine or UI module.

Rich is checked at the source level only: httpx 0.28 itself imports ``rich`` (for its
command-line ``main``) whenever rich is installed, which it always is next to Textual.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_llm_imports_no_textual_store_engine_or_ui() -> None:
    code = (
        "import sys\n"
        "import app.llm.gateway, app.llm.describe, app.llm.demo\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('app.store', 'app.engine', 'app.ui')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == ""


def test_llm_sources_never_import_rich_or_textual() -> None:
    pattern = re.compile(
        r"^\s*(from|import)\s+(rich|textual|app\.(store|engine|ui))\b", re.MULTILINE
    )
    offenders = [
        p.name for p in (ROOT / "app" / "llm").glob("*.py") if pattern.search(p.read_text())
    ]
    assert offenders == []
