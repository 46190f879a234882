"""The Traces place's inputs: the search form, the trace id / x-request-id lookup, and
the force-trace request. Widgets only: the pane reads them and runs the workers."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from meshtui.jaeger.force import DEFAULT_HOST, DEFAULT_PATH
from meshtui.jaeger.query import QueryError, TraceQuery, parse_tag, unknown_service
from meshtui.ui.textual_compat import OrderedInput
from meshtui.ui.widgets.keys import into_box

# columns: below this the forms drop their borders and the search takes 2 lines (at 80
# columns 7 bordered inputs showed 7 characters each: `p.ist` of a service name); the
# `-narrow` rules are in styles/meshtui.tcss next to the place's other rules
NARROW = 120


# the keys that put the focus in the forms (into_box: the keys typed after them reach the box)
SEARCH_KEY = into_box(
    Binding(
        "slash",
        "focus_search",
        "Search",
        tooltip="Edit the search (service, tags, durations)",
        id="focus_search",
    )
)
LOOKUP_KEY = into_box(
    Binding("o", "focus_lookup", "Open id", tooltip="Open a trace by id or x-request-id", id="focus_lookup")
)


class NarrowForm(Horizontal):
    """Toggles `-narrow` with its width, so a small terminal keeps the values readable."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")


class SearchForm(NarrowForm):
    """service, operation, tags (k=v k=v), min/max duration, lookback, limit: enter searches."""

    services: list[str] = []  # what Jaeger lists, once it answered

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
        self.services = services
        self.query_one("#tr-service", Input).suggester = SuggestFromList(services, case_sensitive=False)

    def _service(self) -> str:
        """The service as Jaeger names it: the one completion of what was typed (the box
        shows it greyed; enter takes it), or QueryError naming the services meant."""
        typed = self.value("service")
        known = self.services
        if not typed or not known or typed in known:
            return typed
        starting = [s for s in known if s.lower().startswith(typed.lower())]
        if len(starting) == 1:
            self.query_one("#tr-service", Input).value = starting[0]
            return starting[0]
        raise QueryError(unknown_service(typed, known))

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
            service=self._service(),
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
