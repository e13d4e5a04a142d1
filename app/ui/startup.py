"""What the app settles at start-up: the collector once the first frame is drawn, and, before
the engine is made, what the person must decide.

Dialogs only answer (STYLE rule 6); the remembering happens here."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path
from typing import Any

from textual.app import App

from app.config import WorkspaceRules
from app.ui.dialogs.trust import TrustDialog


def resume_collector() -> None:
    """Keep what start-up built out of the cyclic collector's passes (``gc.freeze``), and
    turn the collector back on if ``agentkit`` paused it for start-up (``app.cli.main``):
    once the engine is up, or when start-up waits for the person.

    All of it lives as long as the app; scanning it again in every full pass paused the
    screen for 100-150 ms during busy turns."""
    gc.freeze()
    gc.enable()


async def settle_trust(
    app: App[Any], rules: WorkspaceRules | None, user_config_file: Path
) -> WorkspaceRules | None:
    """Ask (from a worker, at start-up) whether to trust a workspace file that has allow
    rules nobody trusted yet; a yes is remembered in the user's config file."""
    if rules is None or not rules.needs_trust:
        return rules
    resume_collector()  # waiting for a person: start-up is no longer in a hurry
    if not await app.push_screen_wait(TrustDialog(rules)):
        return rules
    from app.engine.clients import RuleError, trust_rules_file  # the tools' rules: not at start

    try:
        trust_rules_file(user_config_file, rules.file, rules.digest)
    except (RuleError, OSError) as exc:
        app.notify(f"Trusted for now, but not remembered: {exc}", severity="warning", markup=False)
    return dataclasses.replace(rules, trusted=True, changed=False)
