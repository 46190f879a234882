"""`enter` on a route or a cluster in the Config tab: the VirtualService or DestinationRule
that produced it, as the Kubernetes API has it now (YAML, as `kubectl get -o yaml` shows)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.markup import escape
from rich.syntax import Syntax
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from meshtui.kube.istio_objects import ConfigRef, ObjectError


class ConfigObjectScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", tooltip="Close the object", id="dismiss")]
    DEFAULT_CSS = """
    ConfigObjectScreen { align: center middle; }
    ConfigObjectScreen > VerticalScroll {
        width: 90%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    ConfigObjectScreen #object-title { text-style: bold; }
    ConfigObjectScreen #object-state.error { color: $error; text-style: bold; }
    """

    def __init__(self, ref: ConfigRef, read: Callable[[], dict[str, Any]], made: str) -> None:
        """`read` fetches the object (blocking, in a thread); `made` says what it produced."""
        super().__init__()
        self.ref, self.read, self.made = ref, read, made
        self.found: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(escape(f"{self.ref.shown}  (made {self.made})"), id="object-title")
            yield Static(
                f"reading it from the Kubernetes API ... ({escape(self.ref.kubectl)})", id="object-state"
            )
            yield Static("", id="object-body")

    def on_mount(self) -> None:
        self._read()

    @work(exclusive=True, exit_on_error=False)
    async def _read(self) -> None:
        state = self.query_one("#object-state", Static)
        try:
            found = await asyncio.to_thread(self.read)
        except ObjectError as exc:
            state.update(escape(f"{exc}  (the same read: {self.ref.kubectl})"))
            state.add_class("error")
            return
        import yaml  # a dependency of the kubernetes client, loaded only for this screen

        self.found = found
        version = found.get("metadata", {}).get("resourceVersion", "?")
        state.update(f"resourceVersion {escape(str(version))}, read now: esc closes")
        text = yaml.safe_dump(found, sort_keys=False, default_flow_style=False)
        self.query_one("#object-body", Static).update(Syntax(text, "yaml", theme="ansi_dark", word_wrap=True))
