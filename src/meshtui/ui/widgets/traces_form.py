"""The Traces place's inputs: the search form, the trace id / x-request-id lookup, and
the force-trace request. Widgets only: the pane reads them and runs the workers."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from meshtui.jaeger.force import DEFAULT_HOST, DEFAULT_PATH
from meshtui.jaeger.query import QueryError, TraceQuery, parse_tag
from meshtui.ui.textual_compat import OrderedInput

# columns: below this the forms drop their borders and the search takes 2 lines (at 80
# columns 7 bordered inputs showed 7 characters each: `p.ist` of a service name); the
# `-narrow` rules are in styles/meshtui.tcss next to the place's other rules
NARROW = 120


class NarrowForm(Horizontal):
    """Toggles `-narrow` with its width, so a small terminal keeps the values readable."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")


class SearchForm(NarrowForm):
    """service, operation, tags (k=v k=v), min/max duration, lookback, limit: enter searches."""

    def compose(self) -> ComposeResult:
        yield OrderedInput(placeholder="service", id="tr-service")
        yield OrderedInput(placeholder="operation", id="tr-operation")
        yield OrderedInput(placeholder="tags k=v k=v", id="tr-tags")
        yield OrderedInput(placeholder="min 100ms", id="tr-min")
        yield OrderedInput(placeholder="max", id="tr-max")
        yield OrderedInput(value="1h", placeholder="lookback", id="tr-lookback")
        yield OrderedInput(value="20", placeholder="limit", id="tr-limit", type="integer")

    def value(self, name: str) -> str:
        return self.query_one(f"#tr-{name}", Input).value.strip()

    def set_services(self, services: list[str]) -> None:
        self.query_one("#tr-service", Input).suggester = SuggestFromList(services, case_sensitive=False)

    def fill(self, service: str | None = None, tags: tuple[tuple[str, str], ...] = ()) -> None:
        if service is not None:
            self.query_one("#tr-service", Input).value = service
        self.query_one("#tr-tags", Input).value = " ".join(f"{k}={v}" for k, v in tags)

    def trace_query(self) -> TraceQuery:
        """The search as typed; QueryError says what is wrong with it."""
        limit = self.value("limit") or "20"
        if not limit.isdigit():
            raise QueryError("limit is a number")
        return TraceQuery(
            service=self.value("service"),
            operation=self.value("operation"),
            tags=tuple(parse_tag(t) for t in self.value("tags").split()),
            min_duration=self.value("min"),
            max_duration=self.value("max"),
            lookback=self.value("lookback") or "1h",
            limit=int(limit),
        ).check()


class LookupForm(NarrowForm):
    """A trace id or an x-request-id (enter opens it), and force-trace's path or URL + Host."""

    def compose(self) -> ComposeResult:
        yield Label("open", classes="tr-label")
        yield OrderedInput(placeholder="trace id or x-request-id (paste)", id="tr-lookup")
        yield Label("force-trace", classes="tr-label")
        yield OrderedInput(
            value=DEFAULT_PATH, placeholder="path via the ingress gateway, or http://URL", id="tr-url"
        )
        yield OrderedInput(value=DEFAULT_HOST, placeholder="Host header", id="tr-host")
