"""The status line: context, namespace, port-forwards and their state, refresh state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from meshtui.kube.forward_status import ForwardState, ForwardStatus
from meshtui.ui.format import short_pod_name

POD_W = 16

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

    def on_resize(self) -> None:
        self.update(self.render_text(), layout=False)

    def render_text(self) -> Text:
        """The line, with whole pod names where they fit and shortened ones otherwise."""
        whole = self._line(short=False)
        width = self.content_region.width if self.is_mounted else 0
        return self._line(short=True, width=width) if width and whole.cell_len > width else whole

    def _line(self, *, short: bool, width: int = 0) -> Text:
        """State before detail, so a narrow terminal cuts the detail: a problem with the
        cluster, the view's refresh state, the forwards in trouble with their reason, then
        the forwards that are up, then the context and namespace."""
        t = Text(no_wrap=True, overflow="ellipsis")

        def part(*pieces: tuple[str, str]) -> None:
            if t.plain:
                t.append("  ")
            for text, style in pieces:
                t.append(text, style)

        if self.problem:
            part(("✗ ", "red bold"), (self.problem, "red"))
        if self.refresh_state:
            part((self.refresh_state, "dim"))
        for f in self.forwards:
            if f.state != ForwardState.UP:
                reason = f" ({f.reason})" if f.reason else ""
                part(
                    ("fwd ", "dim"),
                    (f"{_label(f, short)} ", ""),
                    (f.state.value + reason, _STATE_STYLE[f.state]),
                )
        up = [f for f in self.forwards if f.state == ForwardState.UP]
        if up:
            part(("fwd ", "dim"))
            for i, f in enumerate(up):
                piece = (", " if i else "") + f"{_label(f, short)}→:{f.local_port} {f.state.value}"
                more = f" +{len(up) - i} more"
                if i and width and t.cell_len + len(piece) + len(" +9 more") > width:
                    t.append(more, "dim")  # counted, not cut off after a comma
                    break
                t.append(piece[: -len(f.state.value)])
                t.append(f.state.value, _STATE_STYLE[f.state])
        if self.context:
            part(("ctx ", "dim"), (self.context, "bold"), ("  ns ", "dim"), (self.namespace or "all", ""))
        return t


def _label(f: ForwardStatus, short: bool) -> str:
    # shortened, the pod's own suffix is kept (replicas differ there)
    return f"{short_pod_name(f.pod, POD_W) if short else f.pod}:{f.port}"
