"""The commented config file that ``agentkit config init`` writes, made from the schema.

Every key of :class:`~app.config.schema.Settings` appears, commented out, with its
description and its default (or an example, when the default is empty or absent), so the
file changes nothing until a line is uncommented and cannot drift from the schema: a new
field shows up here as soon as it exists. Tables the app cannot hold by default
(``[providers.NAME]``, ``[agents.NAME]``, ``[teams.NAME]``, ``[mcp.servers.NAME]``) are
written as commented examples, header included.
"""

from __future__ import annotations

import json
import re
import textwrap
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from app.config.schema import Settings

#: The example name of one entry of each table of named entries.
ENTRY_NAMES = {"providers": "openai", "agents": "coder", "teams": "review", "servers": "github"}

_WIDTH = 96

_INTRO = """\
AgentKit config file, written by `agentkit config init` (agentkit {version}).

Every key is listed with its description and default, commented out, so this file changes
nothing yet: to change a setting, remove the "# " before its key and edit the value. Tables
whose header is commented out too ([providers.openai], [agents.coder], ...) are examples:
uncomment the header and the keys you need, and name the table as you like. Environment
variables beat this file (AGENTKIT_UI__THEME=nord). `agentkit config edit` opens this file and
checks it afterwards; `agentkit config show` prints the settings in force."""


def config_template(version: str) -> str:
    """The whole commented config file, every key of the schema in it."""
    lines = [_comment(paragraph) for paragraph in _INTRO.format(version=version).split("\n\n")]
    body: list[str] = []
    _emit_model(body, Settings, (), commented=False)
    return "\n#\n".join(lines) + "\n" + "\n".join(body) + "\n"


def _emit_model(
    lines: list[str],
    model: type[BaseModel],
    path: tuple[str, ...],
    *,
    commented: bool,
    array: bool = False,
) -> None:
    """Write one table: its header (if any), its keys, then its sub-tables."""
    keys = {n: f for n, f in model.model_fields.items() if _table_kind(f) is None}
    tables = {n: f for n, f in model.model_fields.items() if _table_kind(f) is not None}
    if path:
        lines.append("")
        lines.append(_comment(_doc(model)))
        if keys:
            name = ".".join(_toml_key(part) for part in path)
            header = f"[[{name}]]" if array else f"[{name}]"
            lines.append(f"# {header}" if commented else header)
    for index, (name, field) in enumerate(keys.items()):
        if index or not path:
            lines.append("")
        lines.append(_comment(_describe(field)))
        lines.append(f"# {_toml_key(name)} = {_toml_value(_shown_value(name, field))}")
    for name, field in tables.items():
        kind, sub = _table_kind(field) or ("table", Settings)
        if kind == "table":
            _emit_model(lines, sub, (*path, name), commented=commented)
        elif kind == "entries":
            entry = ENTRY_NAMES.get(name, "NAME")
            _emit_model(lines, sub, (*path, name, entry), commented=True)
        else:
            _emit_model(lines, sub, (*path, name), commented=True, array=True)


def _table_kind(field: FieldInfo) -> tuple[str, type[BaseModel]] | None:
    """How a field is written: ``table`` (a section), ``entries`` (named tables), ``array``
    (an array of tables), or ``None`` for a key with a value."""
    annotation = _without_none(field.annotation)
    if _is_model(annotation):
        return "table", annotation
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict and _is_model(args[1]):
        return "entries", args[1]
    if origin is list and _is_model(args[0]):
        return "array", args[0]
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _without_none(annotation: Any) -> Any:
    """``X | None`` → ``X`` (other unions stay as they are)."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _choices(field: FieldInfo) -> tuple[Any, ...]:
    """The allowed values of a ``Literal`` field (empty for any other)."""
    annotation = _without_none(field.annotation)
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def _default(field: FieldInfo) -> Any:
    """The field's default (``None`` when it has none or its default is absent)."""
    if field.is_required():
        return None
    return field.get_default(call_default_factory=True)


def _shown_value(name: str, field: FieldInfo) -> Any:
    """The value written after ``key =``: the example, else the default, else the first
    choice. A field with none of them has no value to show: that is a schema bug."""
    if field.examples:
        return field.examples[0]
    default = _default(field)
    if default is not None:
        return default
    if _choices(field):
        return _choices(field)[0]
    raise ValueError(f"{name} needs a default or examples=[...] to appear in the template")


def _describe(field: FieldInfo) -> str:
    """The comment above a key: what it is, its choices, and its default if not shown."""
    text = _plain(field.description or "")
    choices = _choices(field)
    if choices and not all(str(choice) in text for choice in choices):
        text += f" One of: {', '.join(str(choice) for choice in choices)}."
    default = _default(field)
    if field.is_required():
        text += " (required)"
    elif field.examples or default is None:
        shown = "not set" if default is None or default in ({}, []) else _toml_value(default)
        shown = "empty" if default == "" else shown
        text += f" (default: {shown})"
    return text.strip()


def _doc(model: type[BaseModel]) -> str:
    """The first paragraph of a model's docstring, as plain text."""
    return _plain((model.__doc__ or model.__name__).strip().split("\n\n")[0])


def _plain(text: str) -> str:
    """Docstring markup (``code``) as the README writes it (`code`), on one line."""
    return " ".join(text.replace("``", "`").split())


def _comment(text: str) -> str:
    """``text`` as ``#`` lines at most the template's width."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        wrapped = textwrap.wrap(paragraph, width=_WIDTH, break_on_hyphens=False)
        lines += [f"# {line}" for line in wrapped] or ["#"]
    return "\n".join(lines)


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_\-]+$", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    """A value as TOML: strings, numbers, booleans, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    return json.dumps(str(value), ensure_ascii=False)
