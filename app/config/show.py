"""Showing the effective settings: secrets hidden, written back as TOML."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from app import secretenv
from app.config.base import _SECRET_HEADER
from app.config.schema import Settings
from app.textsafe import redact_url_credentials


def redacted(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective settings as plain data with secrets hidden, for ``config show``."""
    env = secretenv.environ() if env is None else env  # hidden keys are still set
    data = settings.model_dump(mode="json")
    for name, provider in data.get("providers", {}).items():
        provider["base_url"] = _redact_url(settings.providers[name].effective_base_url())
        provider["headers"] = {
            key: ("***" if _SECRET_HEADER.search(key) else value)
            for key, value in provider.get("headers", {}).items()
        }
        var = provider.get("api_key_env")
        if var:
            provider["api_key_env"] = f"{var} ({'set' if env.get(var) else 'not set'})"
    for server in data.get("mcp", {}).get("servers", {}).values():
        # Values are variable names already; say whether each is set, never what it holds.
        for key in ("env", "headers_env"):
            server[key] = {
                name: f"{var} ({'set' if env.get(var) else 'not set'})"
                for name, var in server.get(key, {}).items()
            }
        if server.get("url"):
            server["url"] = _redact_url(server["url"])
    return data


def _redact_url(url: str) -> str:
    url = redact_url_credentials(url)
    return re.sub(
        r"([?&][^=&]*(?:key|token|secret|sig|password)[^=&]*=)[^&#]*", r"\1***", url, flags=re.I
    )


def to_toml(data: Mapping[str, Any]) -> str:
    """Render plain settings data as TOML (tables last, ``None`` values as comments)."""
    lines: list[str] = []
    _emit_table(lines, (), data)
    return "\n".join(lines).strip() + "\n"


def _emit_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and not table:
        lines.append("")
        lines.append(f"# [{'.'.join(_toml_key(p) for p in path)}] (none)")
        return
    if path and scalars:
        lines.append("")
        lines.append(f"[{'.'.join(_toml_key(p) for p in path)}]")
    for key, value in scalars.items():
        if value is None:
            lines.append(f"# {_toml_key(key)} = (not set)")
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables.items():
        _emit_table(lines, (*path, key), value)


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_\-]+$", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
