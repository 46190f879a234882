"""The status line: context, namespace, port-forwards and their state, refresh state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from meshtui.kube.forward_status import ForwardState, ForwardStatus

_STATE_STYLE = {
    ForwardState.UP: "green",
    ForwardState.STARTING: "yellow",
    ForwardState.RECONNECTING: "yellow",
    ForwardState.FAILED: "red",
    ForwardState.CLOSED: "dim",
}


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.context = ""
        self.namespace = ""
        self.forwards: tuple[ForwardStatus, ...] = ()
        self.refresh_state = ""
        self.problem: str | None = None

    def set(self, **fields: object) -> None:
        for k, v in fields.items():
            setattr(self, k, v)
        # one line high across the screen (DEFAULT_CSS): a layout would repaint every widget
        self.update(self.render_text(), layout=False)

    def render_text(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.context:
            t.append("ctx ", "dim").append(self.context, "bold")
            t.append("  ns ", "dim").append(self.namespace or "all")
        if self.problem:
            t.append("  ✗ ", "red bold").append(self.problem, "red")
        if self.forwards:
            t.append("  fwd ", "dim")
            for i, f in enumerate(self.forwards):
                if i:
                    t.append(", ")
                t.append(f"{f.label}→:{f.local_port} ")
                label = f.state.value + (f" ({f.reason})" if f.reason and f.state != ForwardState.UP else "")
                t.append(label, _STATE_STYLE[f.state])
        if self.refresh_state:
            t.append("  ").append(self.refresh_state, "dim")
        return t
