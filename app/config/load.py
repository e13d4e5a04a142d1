"""Settings: a validated pydantic model loaded from one TOML file plus ``AGENTKIT_*`` env.

Precedence, highest first: environment variables, the config file, defaults. A missing
file means defaults; a broken one raises :class:`ConfigError` with a single line that
names the file, the line or key, and what was expected. Nothing is read at import time.

Environment overrides use ``AGENTKIT_<KEY>`` for top-level keys and ``__`` between
nested keys: ``AGENTKIT_DEFAULT_MODEL=openai/gpt-4.1-mini``,
``AGENTKIT_UI__THEME=nord``, ``AGENTKIT_PROVIDERS__LOCAL__BASE_URL=http://…``.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.config.errors import ConfigError, _describe
from app.config.schema import RuleCheck, Settings
from app.paths import ENV_CONFIG, ENV_DB, ENV_HOME

ENV_PREFIX = "AGENTKIT_"


#: ``AGENTKIT_*`` variables that are not settings (paths, test knobs).
NON_SETTING_ENV = {ENV_HOME, ENV_CONFIG, ENV_DB, "AGENTKIT_WORKSPACE", "AGENTKIT_LOG_LEVEL"}


def load_settings(
    config_file: Path | None,
    env: Mapping[str, str] | None = None,
    *,
    check_rule: RuleCheck | None = None,
) -> Settings:
    """Read ``config_file`` (absent is fine) and apply ``AGENTKIT_*`` env overrides.

    ``check_rule`` validates each approval rule fully (the CLI passes the rule parser), so
    an invalid rule is a config error naming the file or variable, the key and the rule."""
    env = os.environ if env is None else env
    context = {"check_rule": check_rule} if check_rule is not None else None
    data: dict[str, Any] = {}
    text = ""
    if config_file is not None:
        try:
            text = config_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except IsADirectoryError:
            raise ConfigError(
                f"config error in {config_file}: this is a directory, not a file"
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"config error in {config_file}: not UTF-8 text ({exc.reason})"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"config error in {config_file}: cannot read it ({exc.strerror})"
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config error in {config_file}: invalid TOML: {exc}") from None
    try:
        file_settings = Settings.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source=str(config_file), text=text)) from None
    overrides = list(_env_overrides(env))
    if not overrides:
        return file_settings
    merged = file_settings.model_dump(exclude_unset=True)
    for _var, keys, value in overrides:
        _set_nested(merged, keys, value)
    try:
        return Settings.model_validate(merged, context=context)
    except ValidationError as exc:
        names = {tuple(keys): var for var, keys, _ in overrides}
        raise ConfigError(_describe(exc, source="environment", text="", env_names=names)) from None


def _env_overrides(env: Mapping[str, str]) -> Iterator[tuple[str, list[str], Any]]:
    top_level = set(Settings.model_fields)
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var in NON_SETTING_ENV:
            continue
        keys = [part.lower() for part in var[len(ENV_PREFIX) :].split("__")]
        if not keys[0] or keys[0] not in top_level or any(not key for key in keys):
            raise ConfigError(
                f"config error in environment: {var} is not a setting "
                "(settings are AGENTKIT_<KEY> or AGENTKIT_<SECTION>__<KEY>, "
                "e.g. AGENTKIT_UI__THEME)"
            )
        yield var, keys, _env_value(env[var])


def _env_value(raw: str) -> Any:
    """Env values are strings; JSON lists and objects are parsed so list settings work."""
    stripped = raw.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def _set_nested(target: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = {}
            target[key] = child
        target = child
    target[keys[-1]] = value
