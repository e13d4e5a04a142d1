"""What the clients of the engine (the TUI, the server) use of the layers below it, so they
never reach into ``app.tools`` or ``app.llm`` themselves: rule errors, which earlier calls a
rule would match, trusting a workspace's rules file, the demo model's notice, and the
report ``agentkit models`` prints (loaded on first use: it needs the HTTP client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.llm.demo import DEMO_NOTICE
from app.tools.rules import RuleError, matching_calls, trust_rules_file

if TYPE_CHECKING:
    from app.config import Settings
    from app.llm.describe import ModelsReport

__all__ = [
    "DEMO_NOTICE",
    "RuleError",
    "describe_models",
    "matching_calls",
    "trust_rules_file",
]


async def describe_models(settings: Settings) -> ModelsReport:
    """Which providers are usable, their models and windows, and the default (probes them)."""
    from app.llm.describe import describe_models as describe

    return await describe(settings)
