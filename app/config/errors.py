"""Config errors: :class:`ConfigError`, and pydantic's validation errors told in one line
that names the file, the line or key, and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError


class ConfigError(Exception):
    """The configuration cannot be used; ``str(error)`` is one line for people."""


def _describe(
    exc: ValidationError,
    *,
    source: str,
    text: str,
    env_names: Mapping[tuple[str, ...], str] | None = None,
) -> str:
    """One line naming where the first problem is and what was expected."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(str(part) for part in first["loc"])
    key = ".".join(loc) or "(top level)"
    where = f"key {key}"
    if env_names is not None:
        var = env_names.get(loc) or next(
            (name for keys, name in env_names.items() if loc[: len(keys)] == keys), None
        )
        if var:
            where = f"{var} (key {key})"
    else:
        line = _find_line(text, loc) if text else None
        if line:
            where = f"line {line}, key {key}"
    secret_keys = {"headers", "base_url", "api_key_env", "env", "headers_env", "url"}
    message = expected_of(first, secret=bool(secret_keys & set(loc)))
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    return f"config error in {source}, {where}: {message}{more}"


def expected_of(error: Mapping[str, Any], *, secret: bool = False) -> str:
    """What was expected; the value given is repeated unless it may hold a secret."""
    kind = error["type"]
    got = "(value hidden)" if secret else error.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `agentkit config show` for every key)"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {got if secret else repr(got)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message}, got {got if secret else repr(got)}"
    return message


def _find_line(text: str, loc: tuple[str, ...]) -> int | None:
    """Find the line that sets ``loc`` in TOML ``text`` (else its nearest table), 1-based."""
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    key_re = re.compile(r"^\s*([A-Za-z0-9_\-\".' ]+?)\s*=")
    current: tuple[str, ...] = ()
    best_line: int | None = None
    best_depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = header_re.match(line)
        if header:
            current = candidate = _split_key(header.group(1))
        else:
            match = key_re.match(line)
            if not match:
                continue
            candidate = current + _split_key(match.group(1))
        if candidate == loc:
            return number
        if candidate and loc[: len(candidate)] == candidate and len(candidate) > best_depth:
            best_line, best_depth = number, len(candidate)
    return best_line


def _split_key(raw: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', raw)
    return tuple(next(p for p in group if p) if any(group) else "" for group in parts)
