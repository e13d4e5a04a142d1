"""The file `agentkit config init` writes: every schema key in it, commented out, each value
valid for its key; as written it changes nothing, and the app's own writers keep it valid."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter

from app.config import Settings, load_settings, save_setting
from app.config.template import ENTRY_NAMES, _table_kind, config_template
from app.tools.rules import trust_rules_file

_COMMENTED_KEY = re.compile(r"^# ([A-Za-z0-9_\-]+|\"[^\"]+\") = ")
_COMMENTED_HEADER = re.compile(r"^# (\[\[?[^\] ]+\]\]?)$")


def _uncommented(template: str) -> str:
    """The template with every key and table header uncommented (descriptions stay)."""
    lines = []
    for line in template.splitlines():
        if _COMMENTED_KEY.match(line) or _COMMENTED_HEADER.match(line):
            line = line[2:]
        lines.append(line)
    return "\n".join(lines)


def _schema_paths(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every key of the schema, as the path the template uses, with its field."""
    for name, field in model.model_fields.items():
        kind = _table_kind(field)
        if kind is None:
            yield (*prefix, name), field
        elif kind[0] == "table":
            yield from _schema_paths(kind[1], (*prefix, name))
        elif kind[0] == "entries":
            yield from _schema_paths(kind[1], (*prefix, name, ENTRY_NAMES.get(name, "NAME")))
        else:
            yield from _schema_paths(kind[1], (*prefix, name, "0"))


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def test_every_schema_key_is_in_the_template_with_a_valid_value() -> None:
    full = tomllib.loads(_uncommented(config_template("9.9")))
    paths = list(_schema_paths(Settings))
    assert len(paths) > 70  # the walk reached the nested tables (73 keys today)
    for path, field in paths:
        try:
            value = _lookup(full, path)
        except (KeyError, IndexError):
            raise AssertionError(f"{'.'.join(path)} is not in the template") from None
        # The bounds (ge=1_000, a pattern) are the field's metadata.
        checked = field.annotation
        if field.metadata:
            checked = Annotated[field.annotation, *field.metadata]
        TypeAdapter(checked).validate_python(value)
        assert field.description, f"{'.'.join(path)} has no description to show"


def test_as_written_it_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_template("9.9"), encoding="utf-8")
    assert load_settings(config, {}) == Settings()
    assert all(len(line) <= 100 for line in config.read_text().splitlines())


def test_saved_theme_and_trust_land_in_the_template(tmp_path: Path) -> None:
    """The app's own writers (theme choice, trusting a workspace) keep the file valid."""
    config = tmp_path / "config.toml"
    config.write_text(config_template("9.9"), encoding="utf-8")
    save_setting(config, "ui", "theme", "nord")
    rules = tmp_path / "repo" / ".agentkit" / "config.toml"
    trust_rules_file(config, rules, "sha256:abc")
    settings = load_settings(config, {})
    assert settings.ui.theme == "nord"
    assert list(settings.approval.trusted_workspaces.values()) == ["sha256:abc"]
    assert "# theme = " in config.read_text()  # the comments are kept


def test_readme_shows_every_key_in_valid_toml() -> None:
    """The README's "Every key" block is a config file that loads, and it misses no key."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Every key, with its default:") :]
    block = re.search(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    data = tomllib.loads(block.group(1))
    Settings.model_validate(data)
    missing: list[str] = []

    def walk(model: type[BaseModel], tables: list[Any], prefix: str) -> None:
        for name, field in model.model_fields.items():
            found = [table[name] for table in tables if isinstance(table, dict) and name in table]
            kind = _table_kind(field)
            if kind is None:
                missing.extend([] if found else [prefix + name])
            elif kind[0] == "table":
                walk(kind[1], found, f"{prefix}{name}.")
            elif kind[0] == "entries":
                walk(kind[1], [entry for f in found for entry in f.values()], f"{prefix}{name}.*.")
            else:
                walk(kind[1], [item for f in found for item in f], f"{prefix}{name}[].")

    walk(Settings, [data], "")
    assert missing == [], f"the README's config block lacks {missing}"
