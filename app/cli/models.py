"""``agentkit models``: which models are available, and the default."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from app.cli.context import Context


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``models`` to the ``agentkit`` parser."""
    models = commands.add_parser("models", help="which models are available, and the default")
    models.add_argument("--json", action="store_true", help="print JSON for machines")
    add_common(models)
    models.set_defaults(handler=cmd_models)


async def cmd_models(ctx: Context) -> int:
    """``agentkit models``: providers, their models, and which is the default and why."""
    from app.llm.describe import describe_models, format_report

    report = await describe_models(ctx.settings)
    if ctx.args.json:
        ctx.print_json(report.model_dump(mode="json"))
    else:
        ctx.print(format_report(report))
    return 0
