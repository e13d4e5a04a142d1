"""TrustDialog: whether the allow rules of a workspace's own ``.agentkit/config.toml`` count.

A cloned repository can carry that file; its deny and ask rules always apply, but its allow
rules (which let tools run without asking) only once the person trusts this exact file.
Asked once at start-up; the answer is remembered by the file's hash, so a changed file asks
again."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.config import WorkspaceRules
from app.ui.widgets.message_views import one_line


class TrustDialog(ModalScreen[bool]):
    """Lists the file's rules; returns ``True`` to trust it, ``False`` for not now (or Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "answer(True)", "Trust", id="trust.trust"),
        Binding("n", "answer(False)", "Not now", id="trust.later"),
        Binding("escape", "answer(False)", "Not now", show=False, id="trust.escape"),
    ]

    def __init__(self, rules: WorkspaceRules) -> None:
        super().__init__()
        self.rules = rules

    def compose(self) -> ComposeResult:
        rules = self.rules
        changed = " It changed since you trusted it." if rules.changed else ""
        servers = " and MCP servers" if rules.mcp_servers else ""
        what = "rules that let tools run without asking you" if rules.allow else ""
        if rules.mcp_servers:
            starts = "MCP servers (programs it would start)"
            what = f"{what}, and {starts}" if what else starts
        with Vertical(id="trust-box"):
            yield Label(f"Trust this workspace's approval rules{servers}?", id="trust-title")
            yield Static(f"{rules.file} has {what}.{changed}", id="trust-file", markup=False)
            with VerticalScroll(id="trust-rules"):
                for rule in rules.allow:
                    yield Static(
                        f"allow  {one_line(rule, 200)}", classes="trust-allow", markup=False
                    )
                for name, server in rules.mcp_servers:
                    yield Static(
                        f"mcp    {one_line(name, 40)}: {one_line(server.command_line(), 200)}",
                        classes="trust-allow",
                        markup=False,
                    )
                for kind in ("deny", "ask"):
                    for rule in getattr(rules, kind):
                        yield Static(
                            f"{kind:<5}  {one_line(rule, 200)}  (applies either way)",
                            classes="trust-other",
                            markup=False,
                        )
            yield Static(
                "Trust is remembered until the file changes. Not now: its allow rules are "
                "ignored this time (its tools ask first), and you are asked next time.",
                id="trust-help",
                markup=False,
            )
            with Horizontal(id="trust-keys"):
                yield Static("[t] trust", classes="key", markup=False)
                yield Static("[n] not now", classes="key", markup=False)

    def action_answer(self, trusted: bool) -> None:
        """Answer the question."""
        self.dismiss(trusted)
