"""Where AgentKit keeps its files: config, database, skills.

Paths come from platformdirs (``~/.config/agentkit`` and ``~/.local/share/agentkit`` on
Linux) unless ``AGENTKIT_HOME`` names one directory that holds everything (tests and
portable use). Nothing here touches the disk; ``ensure_dirs`` creates directories only
when a caller asks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "agentkit"
CONFIG_FILE_NAME = "config.toml"
DB_FILE_NAME = "agentkit.db"

#: Environment variables that choose paths (they are not config keys).
ENV_HOME = "AGENTKIT_HOME"
ENV_CONFIG = "AGENTKIT_CONFIG"
ENV_DB = "AGENTKIT_DB"


@dataclass(frozen=True)
class Paths:
    """The resolved locations of every file AgentKit reads or writes."""

    config_dir: Path
    data_dir: Path
    config_file: Path
    db_file: Path
    home_override: bool

    @property
    def skills_dir(self) -> Path:
        """User skills (Markdown files with front matter) live here."""
        return self.config_dir / "skills"

    def ensure_data_dir(self) -> None:
        """Create the data directory (and parents) so the default database can be made."""
        self.data_dir.mkdir(parents=True, exist_ok=True)


def resolve_paths(
    env: Mapping[str, str] | None = None,
    *,
    config_file: Path | None = None,
    db_file: Path | None = None,
) -> Paths:
    """Resolve paths from explicit arguments, then ``AGENTKIT_*`` variables, then platformdirs."""
    env = os.environ if env is None else env
    home = env.get(ENV_HOME, "").strip()
    if home:
        base = Path(home).expanduser()
        config_dir = data_dir = base
    else:
        config_dir = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
        data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    if config_file is None and env.get(ENV_CONFIG, "").strip():
        config_file = Path(env[ENV_CONFIG].strip())
    if db_file is None and env.get(ENV_DB, "").strip():
        db_file = Path(env[ENV_DB].strip())
    return Paths(
        config_dir=config_dir,
        data_dir=data_dir,
        config_file=(config_file or config_dir / CONFIG_FILE_NAME).expanduser(),
        db_file=(db_file or data_dir / DB_FILE_NAME).expanduser(),
        home_override=bool(home),
    )


def workspace_config_file(workspace: Path) -> Path:
    """The per-workspace config (approval rules saved "for this workspace")."""
    return workspace / ".agentkit" / CONFIG_FILE_NAME


def styles_dir() -> Path:
    """The TCSS folder: the copy inside the installed package first, the repository's second."""
    packaged = Path(__file__).resolve().parent / "styles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "styles"
