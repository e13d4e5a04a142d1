"""The wheel carries the TCSS (a non-editable install must find styles/) and nothing extra."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("agentkit_tui-*.whl")
    return built


def test_wheel_contains_the_package_and_the_styles(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    tcss = sorted(p.name for p in (REPO_ROOT / "styles").glob("*.tcss"))
    assert tcss, "styles/ holds no .tcss files"
    for name in tcss:
        assert f"app/styles/{name}" in names
    assert "app/cli/__init__.py" in names and "app/store/store.py" in names
    assert not any(name.startswith("tests/") for name in names)
    metadata = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "agentkit = app.cli:main" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_an_installed_wheel_finds_its_styles(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = "import app, app.paths; print(app.__file__); print(app.paths.styles_dir())"
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    package_file, styles = done.stdout.split()
    assert Path(package_file).is_relative_to(target)
    assert Path(styles) == target / "app" / "styles"
    assert (Path(styles) / "app.tcss").is_file()


def _fenced_commands(section: str) -> list[str]:
    """The shell lines of each ```sh block in a README section, in order."""
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_quick_start_matches_ci() -> None:
    """Step 1 installs the app without the test tools; step 2's install is what CI runs."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") : readme.index("## The app")]
    try_it, run_tests, *_ = _fenced_commands(quick_start)
    assert "pip install -e . &&" in try_it and "[" not in try_it
    assert try_it.endswith(".venv/bin/agentkit")
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = re.search(r"pip install (-e '\.\[test\]')", run_tests)
    assert install is not None, run_tests
    assert f"pip install --quiet {install.group(1)}" in ci
    assert run_tests.endswith(".venv/bin/python -m pytest")
    assert ci.rstrip().endswith(".venv/bin/python -m pytest")


#: Packages that only the extras bring (serve, mcp, test): the plain install has none of them.
EXTRA_ONLY = (
    "fastapi", "uvicorn", "websockets", "mcp", "pytest", "hypothesis", "schemathesis",
    "import_linter", "mypy", "ruff", "hatchling",
)  # fmt: skip


def test_the_command_works_without_any_extra(tmp_path: Path) -> None:
    """`pip install .` alone gives a working `agentkit`: no command outside serve/mcp needs
    a package of an extra (they are made unimportable here, as in a plain install)."""
    probe = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
from app.cli import main
for argv in (["--version"], ["run", "hello"], ["sessions", "list"], ["models"],
             ["config", "init"], ["config", "show"], ["completions", "bash"]):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 0, (argv, code)
"""
    env = {**os.environ, "AGENTKIT_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "offline demo" in done.stdout
