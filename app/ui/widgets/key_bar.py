"""KeyBar: the line of keys at the bottom of the main screen.

Textual's ``Footer`` builds one widget per key and rebuilds them all whenever the bindings
change (every focus change); on this screen that was ~60 widgets styled one by one during
start-up, a third of the time to the first frame, and 30-100 ms per focus change after it.
KeyBar is a single widget that draws the same keys as one line of text: a change of
bindings costs one repaint. Clicking a key presses it; hovering shows its tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

from app.ui.keys import is_pinned


@dataclass(frozen=True, slots=True)
class KeyItem:
    """One key as shown: where it sits on the line and what pressing it does."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    #: Kept on the line when others have to go (the action table says which).
    pinned: bool = False
    start: int = 0
    end: int = 0


class KeyBar(Widget, can_focus=False):
    """The screen's shown bindings, drawn as one line; the palette key sits on the right."""

    COMPONENT_CLASSES = {  # noqa: RUF012 (Textual API)
        "key-bar--key",
        "key-bar--description",
        "key-bar--hover",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[KeyItem] = []
        self._palette: KeyItem | None = None
        self._placed: list[KeyItem] = []  # what the last render drew, with its columns
        self._hover: str | None = None  # the key under the mouse

    # ------------------------------------------------------------------ bindings

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._collect()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._collect()

    def _collect(self) -> None:
        """Read the screen's active bindings: one item per action, in binding order."""
        items: list[KeyItem] = []
        seen: set[str] = set()
        palette: KeyItem | None = None
        palette_key = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            item = KeyItem(
                key=binding.key,
                display=self.app.get_key_display(binding),
                description=binding.description,
                enabled=enabled,
                tooltip=tooltip or binding.tooltip or binding.description,
                pinned=is_pinned(binding.id),
            )
            if key == palette_key:
                palette = item
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                items.append(item)
        if items != self._items or palette != self._palette:
            self._items, self._palette = items, palette
            self._hover = None
            self.refresh()

    # ------------------------------------------------------------------ drawing

    def _piece(self, item: KeyItem) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        piece = Text.assemble(
            (f" {item.display} ", key_style),
            (f"{item.description} " if item.description else "", text_style),
        )
        if not item.enabled:
            piece.stylize("dim")
        if item.key == self._hover:
            piece.stylize(self.get_component_rich_style("key-bar--hover"))
        return piece

    def render(self) -> Text:
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop", end="")
        placed: list[KeyItem] = []
        palette = self._piece(self._palette) if self._palette else None
        room = width - (palette.cell_len + 1 if palette is not None else 0)
        pieces = [(item, self._piece(item)) for item in self._items]
        reserved = sum(piece.cell_len for item, piece in pieces if item.pinned)
        full = False  # once a key did not fit, only pinned keys follow
        for item, piece in pieces:
            if item.pinned:
                reserved -= piece.cell_len
            elif full or line.cell_len + piece.cell_len + reserved > room:
                full = True  # what does not fit is left out whole, never cut in half
                continue
            if line.cell_len + piece.cell_len > room:
                continue
            start = line.cell_len
            line.append_text(piece)
            placed.append(replace(item, start=start, end=start + piece.cell_len))
        if palette is not None and self._palette is not None:
            start = max(width - palette.cell_len, line.cell_len + 1)
            line.pad_right(start - 1 - line.cell_len)
            line.append("▏", "dim")
            line.append_text(palette)
            placed.append(replace(self._palette, start=start, end=start + palette.cell_len))
        self._placed = placed
        return line

    @property
    def placed(self) -> list[KeyItem]:
        """The keys the last render drew, with their columns."""
        return list(self._placed)

    # ------------------------------------------------------------------ mouse

    def _item_at(self, x: int) -> KeyItem | None:
        return next((item for item in self._placed if item.start <= x < item.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        item = self._item_at(event.x)
        key = item.key if item is not None else None
        if key != self._hover:
            self._hover = key
            self.tooltip = item.tooltip if item is not None else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        item = self._item_at(event.x)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
