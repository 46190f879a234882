"""A view's one-line state: what it shows (`678 of 678 stats from catalog:15000`) or why
not (`stale since 17:05:32: ..., retrying`, in the theme's error colour). Every pane has
one. The text is shown as it is, never as markup: an error line quotes Envoy, istiod or
the API server, whose words may hold brackets.

An error takes up to three lines (wrapped), and beyond that is shortened in its middle,
never at its end: the cause is at the end of the chain (`port-forward ... failed:
kubelet: ... connection refused`), what failed at its start."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StateLine(Static):
    DEFAULT_CSS = """
    StateLine { height: 1; color: $text-muted; padding: 0 1; }
    StateLine.error { color: $error; text-style: bold; height: auto; max-height: 3; }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(Text(text), id=id)
        self.text = text

    def say(self, text: str, error: bool = False) -> None:
        if text != self.text or error != self.has_class("error"):
            self.text = text
            self.set_class(error, "error")
            self._show()

    def _show(self) -> None:
        width = self.content_region.width if self.is_mounted else 0
        text = self.text
        if self.has_class("error") and width and len(text) > ERROR_LINES * width:
            # a word-wrapped line ends before the edge: leave a little room for that
            text = keep_both_ends(text, ERROR_LINES * width - width // 2)
        # a fixed one-line height (the default) needs no new layout for new words
        self.update(Text(text), layout=self.styles.height is None or not self.styles.height.is_cells)

    def on_resize(self) -> None:
        self._show()


ERROR_LINES = 3


def keep_both_ends(text: str, width: int) -> str:
    """The start (what failed) and as much of the end (why) as fits, `…` between."""
    head = min(max(width // 3, 1), 40)
    return text[:head] + "…" + text[-(width - head - 1) :] if width > head + 1 else text[:width]
