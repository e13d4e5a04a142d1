"""What the app settles with the person at start-up, before the engine is made.

Dialogs only answer (STYLE rule 6); the remembering happens here."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.app import App

from app.config import WorkspaceRules
from app.engine.clients import RuleError, trust_rules_file
from app.ui.dialogs.trust import TrustDialog


async def settle_trust(
    app: App[Any], rules: WorkspaceRules | None, user_config_file: Path
) -> WorkspaceRules | None:
    """Ask (from a worker, at start-up) whether to trust a workspace file that has allow
    rules nobody trusted yet; a yes is remembered in the user's config file."""
    if rules is None or not rules.needs_trust:
        return rules
    if not await app.push_screen_wait(TrustDialog(rules)):
        return rules
    try:
        trust_rules_file(user_config_file, rules.file, rules.digest)
    except (RuleError, OSError) as exc:
        app.notify(f"Trusted for now, but not remembered: {exc}", severity="warning", markup=False)
    return dataclasses.replace(rules, trusted=True, changed=False)
