"""`d` on a proxy: istiod's config against the Envoy's, per resource type, like istioctl ps POD."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from meshtui.istiod.config_diff import TypeDiff


def diff_text(proxy: str, diffs: Sequence[TypeDiff]) -> Text:
    t = Text()
    t.append(f"{proxy}: what istiod sent against what the Envoy holds\n\n", "bold")
    for d in diffs:
        if d.matches:
            t.append(f"{d.kind} Match\n", "green")
            continue
        t.append(f"{d.kind} Don't Match\n", "bold red")
        for line in d.lines:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            if line.startswith("@@"):
                style = "cyan"
            t.append(line + "\n", style)
        t.append("\n")
    return t


class ConfigDiffScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,d", "dismiss", "Close", tooltip="Close the diff", id="dismiss")]
    DEFAULT_CSS = """
    ConfigDiffScreen { align: center middle; }
    ConfigDiffScreen > VerticalScroll {
        width: 90%; height: 90%; border: round $primary; background: $surface;
    }
    """

    def __init__(self, proxy: str, diffs: Sequence[TypeDiff]) -> None:
        super().__init__()
        self.proxy = proxy
        self.diffs = tuple(diffs)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(diff_text(self.proxy, self.diffs), id="config-diff")
