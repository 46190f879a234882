"""The Load place: `meshtui load` in the app. A form (path or URL, where through, Host, rate),
`s` starts or stops the run, `+` `-` change its rate while it runs, and the figures each
second: sent, achieved rate, in flight, status codes, errors by kind, latency P50/P90/P99/max
over the last 10 s and over the run, with sparklines of rate, P99 and error %.

The run belongs to this place, not to the screen: it goes on while you look at the proxies'
stats and clusters (which show its effect), until `s` or quitting.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Sparkline, Static

from meshtui.kube.access import MeshAccess
from meshtui.kube.pod_port import ForwardTarget, TargetError, forwarded, where_to
from meshtui.load.generator import ERROR_KINDS, LoadGenerator, LoadSnapshot, LoadSpec
from meshtui.load.latency import Percentiles
from meshtui.ui.load.messages import LoadUpdated
from meshtui.ui.messages import Acted, OpenPlace
from meshtui.ui.options import Options
from meshtui.ui.textual_compat import OrderedInput
from meshtui.ui.views import ViewStatus
from meshtui.ui.widgets.state_line import StateLine

# the seed's load loop: the catalog through the ingress gateway, with the gateway's Host
DEFAULT_PATH = "/api/catalog"
DEFAULT_TO = "svc/istio-system/istio-ingressgateway:80"
DEFAULT_HOST = "webapp.istioinaction.io"
RATE_STEP = 1.25  # + and -: a quarter more, a fifth less
TREND_S = 60  # seconds the sparklines show


class LoadFigures(Static, can_focus=True):
    """The run's figures; holds the focus so the place's keys (s, +, -) reach the pane."""


class LoadPane(Widget):
    # here, not in styles/meshtui.tcss: parsed when the place is made, after the first frame
    DEFAULT_CSS = """
    LoadPane { height: 1fr; }
    LoadPane #load-form { height: 3; }
    LoadPane #load-form Input { width: 1fr; }
    LoadPane #load-form #load-to { width: 2fr; }
    LoadPane #load-form #load-rate { width: 12; }
    LoadPane #load-form #load-trace { width: 10; }
    LoadPane #load-state { height: auto; max-height: 3; }
    LoadPane #load-figures { height: auto; padding: 0 1; }
    LoadPane #load-figures:focus { background: $boost; }
    LoadPane #load-trends { height: 8; }
    LoadPane .load-trend { width: 1fr; padding: 0 1; }
    LoadPane .load-trend Sparkline { height: 1fr; }
    LoadPane.-narrow #load-form { height: 1; }
    LoadPane.-narrow #load-form Input { border: none; height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding(
            "s",
            "toggle_run",
            "Start/stop",
            tooltip="Start the load as the form says, or stop it",
            id="toggle_run",
        ),
        Binding(
            "plus,equals_sign", "rate(1)", "Rate +", tooltip="A quarter more requests per second", id="rate.1"
        ),
        Binding("minus", "rate(-1)", "Rate -", tooltip="A fifth fewer requests per second", id="rate.-1"),
        Binding(
            "slash", "focus_form", "Edit", tooltip="Edit the target, Host, rate or trace %", id="focus_form"
        ),
        Binding(
            "t",
            "open_traced",
            "Open trace",
            show=False,
            tooltip="The last force-traced request's trace, in Traces (trace % in the form)",
            id="open_traced",
        ),
    ]

    def __init__(self, options: Options, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = options
        self.access: MeshAccess | None = None
        self.generator: LoadGenerator | None = None
        self.last: LoadSnapshot | None = None
        self.shown = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="load-form"):
            yield OrderedInput(value=DEFAULT_PATH, placeholder="path, or http://URL", id="load-target")
            yield OrderedInput(
                value=DEFAULT_TO, placeholder="through svc|deploy|pod/NS/NAME:PORT", id="load-to"
            )
            yield OrderedInput(value=DEFAULT_HOST, placeholder="Host header", id="load-host")
            yield OrderedInput(value="10", placeholder="rate/s", id="load-rate")
            yield OrderedInput(value="0", placeholder="trace %", id="load-trace")
        yield StateLine("s starts the load the form describes; / edits it", id="load-state")
        yield LoadFigures("", id="load-figures")
        with Horizontal(id="load-trends"):
            for key, title in (
                ("rate", "sent/s"),
                ("p99_ms", "P99 ms (last 10 s)"),
                ("error_pct", "errors %"),
            ):
                with Vertical(classes="load-trend"):
                    yield Label(title, id=f"load-{key}-label")
                    yield Sparkline([0.0], id=f"load-spark-{key}")

    def on_mount(self) -> None:
        self.query_one(LoadFigures).update(figures_text(None))

    def on_resize(self) -> None:
        # below 120 columns the form loses its borders: at 80 the bordered boxes showed
        # a few characters of each value
        self.set_class(self.size.width < 120, "-narrow")

    # -- the view protocol (ui/views.py) -----------------------------------------------

    def set_shown(self, shown: bool) -> None:
        self.shown = shown  # the run goes on either way: its effect shows in the other views

    def status(self) -> ViewStatus:
        s = self.last
        if self.generator is None or s is None or not s.running:
            return ViewStatus("load stopped (s starts)" if s is not None else "load idle (s starts)")
        return ViewStatus(f"load {s.rate:g}/s running, {s.sent} sent", ongoing=True)

    def connect(self, access: MeshAccess | None) -> None:
        self.access = access

    def on_place_opened(self, **arguments: object) -> None:
        for key in ("target", "to", "host", "rate", "trace"):
            if key in arguments:
                self.query_one(f"#load-{key}", Input).value = str(arguments[key] or "")
        self.query_one(LoadFigures).focus()

    # -- keys ----------------------------------------------------------------------------

    def action_focus_form(self) -> None:
        self.query_one("#load-target", Input).focus()

    def action_toggle_run(self) -> None:
        if self.generator is not None:
            self.generator.stop()
            self._state("stopping: waiting for the answers still due ...")
            return
        self._start()

    def action_open_traced(self) -> None:
        traced = self.last.traced if self.last is not None else ()
        if not traced:
            self.notify("no force-traced request yet: set the form's trace % (x-envoy-force-trace) and start")
            return
        self.post_message(OpenPlace("traces", {"request_id": traced[-1].request_id}))

    def action_rate(self, step: int) -> None:
        box = self.query_one("#load-rate", Input)
        try:
            rate = float(box.value)
        except ValueError:
            rate = 10.0
        rate = max(0.1, float(f"{rate * RATE_STEP if step > 0 else rate / RATE_STEP:.2g}"))
        box.value = f"{rate:g}"
        if self.generator is not None:
            self.generator.set_rate(rate)
            self._state(f"sending {rate:g}/s to {self.generator.spec.url}")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.query_one(LoadFigures).focus()
        if self.generator is None:
            self._start()

    # -- the run -------------------------------------------------------------------------

    def _form(self, name: str) -> str:
        return self.query_one(f"#load-{name}", Input).value.strip()

    def _start(self) -> None:
        try:
            rate = float(self._form("rate") or "10")
            if not rate > 0 or rate != rate:
                raise ValueError
        except ValueError:
            self._state(f"rate {self._form('rate')!r}: a number of requests per second above 0", error=True)
            return
        target, to_text = self._form("target"), self._form("to")
        if target.startswith(("http://", "https://")):
            to_text = ""  # a full URL is reached as it is
        try:
            to = where_to(target, to_text)
        except TargetError as exc:
            self._state(str(exc), error=True)
            return
        if to is not None and self.access is None:
            self._state(
                "--to needs a Kubernetes cluster (started with --admin): give a full http:// URL", error=True
            )
            return
        try:
            trace_pct = float(self._form("trace") or "0")
            if not 0 <= trace_pct <= 100:
                raise ValueError
        except ValueError:
            self._state(f"trace % {self._form('trace')!r}: a share of requests from 0 to 100", error=True)
            return
        spec = LoadSpec(url=target, rate=rate, host=self._form("host") or None, force_trace_pct=trace_pct)
        # each second of the run, its figures as a message (the generator's own clock)
        self.generator = LoadGenerator(spec, on_second=self._second)
        self._run(self.generator, to)

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _run(self, generator: LoadGenerator, to: ForwardTarget | None) -> None:
        from meshtui.http import load_session

        try:
            async with self._base_url(to) as base:
                spec = generator.spec
                generator.spec = dataclasses.replace(spec, url=base + spec.url)
                self._state(
                    f"sending {generator.rate:g}/s to {generator.spec.url}"
                    + (f" (Host {spec.host})" if spec.host else "")
                )
                what = spec.url if to is None else f"{to.shown}{spec.url}"
                self.post_message(Acted("load", f"load started: {generator.rate:g}/s to {what}", url=what))
                async with load_session(generator.spec.url, spec.timeout, spec.max_in_flight) as client:
                    final = await generator.run(client)
            self.post_message(LoadUpdated(final))
            self._state(f"stopped after {final.elapsed:.0f} s: s starts again")
            self.post_message(
                Acted("load", f"load stopped after {final.elapsed:.0f} s: {final.sent} sent", sent=final.sent)
            )
        except (TargetError, OSError) as exc:
            self._state(str(exc).splitlines()[0], error=True)
        finally:
            if self.generator is generator:
                self.generator = None

    @contextlib.asynccontextmanager
    async def _base_url(self, to: ForwardTarget | None) -> AsyncIterator[str]:
        if to is None:
            yield ""
            return
        assert self.access is not None  # _start checked
        self._state(f"resolving {to.shown} and forwarding to it ...")
        async with forwarded(self.access.target, self.access.manager, to) as (url, _where):
            yield url

    def _second(self, snapshot: LoadSnapshot) -> None:
        self.post_message(LoadUpdated(snapshot))

    @on(LoadUpdated)
    def _updated(self, message: LoadUpdated) -> None:
        s = self.last = message.update
        self.query_one(LoadFigures).update(figures_text(s))
        for key in ("rate", "p99_ms", "error_pct"):
            # the last minute, growing from the right: a run's first seconds are not stretched
            # over the whole width
            values = list(s.series.get(key, ()))[-TREND_S:]
            self.query_one(f"#load-spark-{key}", Sparkline).data = [0.0] * (TREND_S - len(values)) + values
        last = {k: (v[-1] if v else None) for k, v in s.series.items()}
        for key, title, unit in (
            ("rate", "sent/s", ""),
            ("p99_ms", "P99 (last 10 s)", " ms"),
            ("error_pct", "errors", "%"),
        ):
            now = last.get(key)
            self.query_one(f"#load-{key}-label", Label).update(
                f"{title}  now {'-' if now is None else f'{now:.3g}{unit}'}"
            )

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#load-state", StateLine).say(escape(text), error)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _latency(p: Percentiles) -> str:
    return f"P50 {_ms(p.p50)}  P90 {_ms(p.p90)}  P99 {_ms(p.p99)}  max {_ms(p.max)} ms"


def figures_text(s: LoadSnapshot | None) -> str:
    """The figures as lines of markup; the same lines before the first run, with dashes."""
    if s is None:
        return "\n".join(
            [
                "sent -   achieved -/s   in flight -",
                "codes -",
                "errors " + "  ".join(f"{k} -" for k in ERROR_KINDS),
                "latency, last 10 s  -",
                "latency, whole run  -",
            ]
        )
    codes = "  ".join(f"{c}: {n}" for c, n in sorted(s.codes.items())) or "-"
    classes = "  ".join(
        (f"[b red]{k}: {v}[/]" if k == "5xx" and v else f"{k}: {v}") for k, v in s.classes().items()
    )
    errors = "  ".join(
        (f"[b red]{k} {s.errors.get(k, 0)}[/]" if s.errors.get(k) else f"{k} 0") for k in ERROR_KINDS
    )
    state = "running" if s.running else "stopped"
    sent = s.series.get("rate") or ()
    now = f"{sent[-1]:g}" if sent else "-"
    return "\n".join(
        [
            f"[b]{state}[/]  {s.elapsed:.0f} s  sent {s.sent}   {now}/s now,"
            f" {s.rate_achieved:.1f}/s over the run (asked {s.rate:g}/s)   in flight {s.in_flight}",
            f"codes {escape(codes)}   {classes}",
            f"errors {errors}",
            f"latency, last 10 s  {_latency(s.window)}",
            f"latency, whole run  {_latency(s.run)}   scheduling lag P99 {_ms(s.lag_p99_ms)} ms",
            *([f"force-traced {len(s.traced)}: t opens the last one's trace"] if s.traced else []),
        ]
    )
