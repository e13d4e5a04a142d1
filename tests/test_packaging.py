"""The wheel carries the TCSS (a non-editable install must find styles/) and nothing extra."""

from __future__ import annotations

import os
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
