"""Saving one setting to the user's config file, keeping its comments."""

from __future__ import annotations

from pathlib import Path

from app.atomic import write_text_atomically
from app.config.errors import ConfigError


def save_setting(config_file: Path, section: str, key: str, value: str | bool | int) -> None:
    """Set ``[section] key = value`` in the user's config file, keeping its comments."""
    import tomlkit  # only when saving

    try:
        text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError(f"config error in {config_file}: cannot update it ({exc})") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document[section] = table
    table[key] = value
    write_text_atomically(config_file, tomlkit.dumps(document), make_parents=True)
