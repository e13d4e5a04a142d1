"""``agentkit config path|show|init|edit``: where files are, the effective config with
secrets hidden, and writing or editing the config file.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.cli import config_file
from app.cli.context import Context, json_flag
from app.config import WorkspaceRules, read_workspace_rules, redacted, to_toml
from app.paths import workspace_config_file
from app.textsafe import one_line


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``config path``, ``show``, ``init`` and ``edit`` to the ``agentkit`` parser."""
    config = commands.add_parser(
        "config", help="where files are, the effective config; write or edit the file"
    )
    add_common(config)
    config.set_defaults(handler=cmd_config_path, json=False)
    config_actions = config.add_subparsers(title="config commands", metavar="ACTION")
    path = config_actions.add_parser("path", help="where config, data, database and log live")
    json_flag(path)
    add_common(path)
    path.set_defaults(handler=cmd_config_path)
    show_config = config_actions.add_parser("show", help="the effective config, secrets hidden")
    show_config.add_argument(
        "--workspace", type=Path, help="whose .agentkit/config.toml rules to show (default .)"
    )
    json_flag(show_config)
    add_common(show_config)
    show_config.set_defaults(handler=cmd_config_show)
    init = config_actions.add_parser(
        "init", help="write a commented config file with every key (never over one)"
    )
    init.add_argument(
        "--force", action="store_true", help="replace an existing file, keeping it as a backup"
    )
    add_common(init)
    init.set_defaults(handler=config_file.cmd_config_init, load_config=False)
    edit = config_actions.add_parser(
        "edit", help="open the config file in $VISUAL or $EDITOR, then check it"
    )
    add_common(edit)
    edit.set_defaults(handler=config_file.cmd_config_edit, load_config=False)


async def cmd_config_path(ctx: Context) -> int:
    """``agentkit config path``: where every file is."""
    entries = {
        "config_file": str(ctx.paths.config_file),
        "config_exists": ctx.paths.config_file.exists(),
        "database": str(ctx.db_path),
        "database_exists": ctx.db_path.exists(),
        "data_dir": str(ctx.paths.data_dir),
        "skills_dir": str(ctx.paths.skills_dir),
        "log_file": str(ctx.log_file),
        "log_level": logging.getLevelName(ctx.log_level or logging.WARNING).lower(),
    }
    if ctx.args.json:
        ctx.print_json(entries)
        return 0
    config_note = "" if entries["config_exists"] else "  (not created yet)"
    db_note = "" if entries["database_exists"] else "  (not created yet)"
    ctx.print(f"config file  {entries['config_file']}{config_note}")
    ctx.print(f"database     {entries['database']}{db_note}")
    ctx.print(f"data dir     {entries['data_dir']}")
    ctx.print(f"skills dir   {entries['skills_dir']}")
    ctx.print(f"log file     {entries['log_file']}  (level {entries['log_level']})")
    return 0


async def cmd_config_show(ctx: Context) -> int:
    """``agentkit config show``: the effective settings, secrets hidden, and the workspace's
    own rules with whether its allow rules are trusted."""
    data = redacted(ctx.settings)
    workspace = (ctx.args.workspace or Path.cwd()).resolve()
    rules = read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    if ctx.args.json:
        ctx.print_json({**data, "workspace_rules": _rules_state(rules)})
        return 0
    ctx.print(f"# Effective AgentKit config (file: {ctx.paths.config_file}; env overrides applied)")
    ctx.out.write(to_toml(data))
    ctx.print()
    if rules is None:
        ctx.print(f"# Workspace rules: none ({workspace_config_file(workspace)} does not exist)")
        return 0
    ctx.print(f"# Workspace rules: {rules.file} ({rules.digest})")
    ctx.print(f"#   {_trust_state(rules)}")
    for kind in ("allow", "ask", "deny"):
        for rule in getattr(rules, kind):
            ignored = " (ignored: not trusted)" if kind == "allow" and not rules.trusted else ""
            ctx.print(f"#   {kind} {one_line(rule, 200)}{ignored}")
    return 0


def _trust_state(rules: WorkspaceRules) -> str:
    """Whether the workspace file's allow rules apply, in words."""
    if rules.trusted:
        return "trusted: its allow rules apply"
    if not rules.allow:
        return "no allow rules (deny and ask rules apply without trust)"
    if rules.changed:
        return "changed since you trusted it: its allow rules are ignored until trusted again"
    return "not trusted: its allow rules are ignored until you trust the file"


def _rules_state(rules: WorkspaceRules | None) -> dict[str, Any] | None:
    """The workspace rules and their trust state as plain data (``None``: no file)."""
    if rules is None:
        return None
    return {
        "file": str(rules.file),
        "digest": rules.digest,
        "trusted": rules.trusted,
        "state": _trust_state(rules),
        "allow": list(rules.allow),
        "ask": list(rules.ask),
        "deny": list(rules.deny),
    }
