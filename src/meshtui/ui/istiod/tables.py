"""What the Control plane pane draws: the summary text, the proxy sync table, the metric browser."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from meshtui.envoy.filter import FilterError, StatFilter
from meshtui.istiod.browser import MetricRow, fmt_number
from meshtui.istiod.live import ReplicaState
from meshtui.istiod.summary import Counter, Percentiles, Summary
from meshtui.istiod.syncz import ERROR, NOT_SENT, STALE, SYNCED, XDS_COLUMNS, ProxySync
from meshtui.ui.format import middle_truncate, short_pod_name
from meshtui.ui.widgets.columns import GiveWay, fit_columns
from meshtui.ui.widgets.rows_view import RowsView


def _ms(values: tuple[float, float, float] | None, scale: float = 1000.0, unit: str = "ms") -> str:
    if values is None:
        return "-"
    return "/".join("-" if math.isnan(v) else f"{v * scale:.4g}" for v in values) + f" {unit}"


def _bound(value: float, scale: float) -> str:
    return "+Inf" if math.isinf(value) else f"{value * scale:.4g}"


def _p(p: Percentiles | None, scale: float = 1000.0, unit: str = "ms") -> list[str]:
    if p is None:
        return ["-"]
    items = [f"P50/P90/P99 {_ms(p.lifetime, scale, unit)} over {p.count:g};"]
    bucket = p.one_bucket
    if bucket is not None:
        # Prometheus interpolates inside the bucket (50/90/99 of its width): say so, or the
        # round figures read as invented
        low, high = (_bound(b, scale) for b in bucket)
        where = f"≤ {high} {unit}" if bucket[0] == 0 else f"{low} to {high} {unit}"
        items[0] = items[0].removesuffix(";") + f" (all in one bucket: {where});"
    if p.interval is not None:
        items.append(f"last interval {_ms(p.interval, scale, unit)} over {p.interval_count or 0:g}")
    else:
        items[0] = items[0].removesuffix(";")
    return items


def _c(c: Counter | None) -> str:
    if c is None:
        return "-"
    return f"{c.value:g}" + (f" ({c.rate:+.3g}/s)" if c.rate else "")


def _counters(cs: Mapping[str, Counter]) -> list[str]:
    return [f"{k} {_c(c)}" for k, c in cs.items()] or ["-"]


def _line(t: Text, label: str, items: list[str], width: int, style: Style | str = "") -> None:
    """`label item  item  ...`, wrapped between items (never inside one, so a number stays
    beside its name) when a line would pass `width` (0: no limit)."""
    t.append(label + " ", Style(bold=True))
    column = len(label) + 1
    for i, item in enumerate(items):
        sep = "  " if i else ""
        if width and i and column + len(sep) + len(item) > width:
            t.append("\n  ")
            column, sep = 2, ""
        t.append(sep + item, style)
        column += len(sep) + len(item)
    t.append("\n")


def summary_text(total: Summary, replicas: Sequence[ReplicaState], width: int = 0) -> Text:
    t = Text()
    label = Style(bold=True)
    proxies = ", ".join(f"{v:g} on {k}" for k, v in total.connected.items()) or "none"
    up = f" · up {total.uptime / 3600:.1f} h" if total.uptime else ""
    version = f"{total.version} · " if total.version else ""
    t.append("istiod ", label).append(f"{version}{len(replicas)} replica(s){up}\n")
    t.append("proxies ", label).append(f"{total.connected_total:g} ({proxies})   ")
    t.append("services ", label).append(f"{fmt_number(total.services)}   ")
    t.append("virtual services ", label).append(f"{fmt_number(total.virtual_services)}\n")
    _line(t, "pushes", _counters(total.pushes), width)
    _line(t, "triggers", _counters(total.push_triggers), width)
    _line(t, "convergence", _p(total.convergence), width)
    _line(t, "queue time", _p(total.queue_time), width)
    _line(t, "push time", _p(total.push_time), width)
    _line(t, "config size", _p(total.config_size, 1 / 1024, "KiB"), width)
    rejects = _counters(total.rejects) if total.rejects else [f"{total.rejects_total:g}"]
    _line(t, "rejects", rejects, width, Style(color="red", bold=True) if total.rejects_total else "")
    t.append("push context errors ", label).append(_c(total.push_context_errors))
    t.append("   write timeouts ", label).append(_c(total.write_timeouts) + "\n")
    t.append("CSRs ", label).append(_c(total.csrs)).append("   certs issued ", label)
    t.append(_c(total.certs_issued)).append("   root cert ", label)
    cert = total.root_cert
    if cert is None:
        t.append("-\n")
    else:
        warn = Style(color="red", bold=True) if cert.warning else Style()
        t.append(f"expires {cert.iso} ({cert.days_left:.0f} days left)", warn)
        t.append("  WARNING: under 30 days\n" if cert.warning else "\n", warn)
    failed = ", ".join(f"{k} {v:g}" for k, v in total.validation_failed_by.items())
    t.append("validation ", label).append(f"passed {_c(total.validation_passed)}  failed ")
    t.append(_c(total.validation_failed) + (f" ({failed})" if failed else ""))
    if len(replicas) > 1:
        for r in replicas:
            s = r.summary
            if s is None:
                t.append(f"\n{r.name}: {r.error}", Style(color="red"))
                continue
            p99 = s.convergence.lifetime[2] if s.convergence else math.nan
            t.append(f"\n{r.name}: ", label).append(
                f"proxies {s.connected_total:g}  pushes/s {fmt_number(s.pushes_rate)}  "
                f"convergence P99 {fmt_number(p99 * 1000)} ms  rejects {s.rejects_total:g}"
            )
    return t


STATUS_W = len(NOT_SENT)  # istioctl's longest word; a NACK's "!" follows the shorter ones
ISTIOD, VERSION = 2 + len(XDS_COLUMNS), 3 + len(XDS_COLUMNS)
POD_MIN = 16

STATUS_CLASS = {
    SYNCED: "rows-view--good",
    STALE: "rows-view--bad",
    ERROR: "rows-view--bad",
    NOT_SENT: "rows-view--dim",
}


class SyncTable(RowsView):
    """Every proxy's sync status, STALE first, keyed by proxy id and istiod replica."""

    # bound here, not on the pane, so the footer offers them only where they act on a row
    BINDINGS = [
        Binding(
            "enter",
            "act('show_pod')",
            "Pod stats",
            tooltip="Select the proxy's pod and show its stats",
            id="act.show_pod",
        ),
        Binding(
            "d",
            "act('diff')",
            "Diff",
            tooltip="What istiod sent this proxy against what its Envoy holds",
            id="act.diff",
        ),
    ]

    class Act(Message):
        """enter or d on the highlighted proxy; the pane does the work."""

        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.by_key: dict[str, ProxySync] = {}
        self._layout: tuple[tuple[int, int], list[int]] | None = None

    def action_act(self, action: str) -> None:
        self.post_message(self.Act(action))

    @staticmethod
    def key(row: ProxySync) -> str:
        return f"{row.proxy}@{row.istiod}"

    def show(self, rows: Sequence[ProxySync]) -> None:
        self.by_key = {self.key(r): r for r in rows}
        self._layout = None
        self.set_rows(list(self.by_key))

    def _widths(self, width: int) -> list[int]:
        """Sized to the rows, fitted to the pane: ISTIOD and VERSION go first where every row
        says the same (the summary names them), then the namespace is shortened, so the
        pod's own suffix -- what tells replicas apart -- and the five statuses stay whole."""
        if self._layout is not None and self._layout[0] == (width, len(self.by_key)):
            return self._layout[1]
        rows = self.by_key.values()
        istiods = {r.istiod or "-" for r in rows}
        versions = {r.version or "-" for r in rows}
        wants = [
            max([4, *(len(r.pod) for r in rows)]),
            max([9, *(len(r.namespace) for r in rows)]),
            *[STATUS_W] * len(XDS_COLUMNS),
            max([6, *map(len, istiods)]),
            max([7, *map(len, versions)]),
        ]
        steps = [
            *([GiveWay(ISTIOD, 0, for_whole=True)] if len(istiods) == 1 else []),
            *([GiveWay(VERSION, 0, for_whole=True)] if len(versions) == 1 else []),
            GiveWay(1, 9),  # the namespace, shortened in its middle
            GiveWay(VERSION, 0),
            GiveWay(ISTIOD, 0),
        ]
        widths = fit_columns(width, wants, steps, flex=0, flex_min=POD_MIN)
        self._layout = ((width, len(self.by_key)), widths)
        return widths

    def header_text(self, width: int) -> str:
        cols = ("NAME", "NAMESPACE", *XDS_COLUMNS, "ISTIOD", "VERSION")
        return " ".join(c.ljust(w)[:w] for c, w in zip(cols, self._widths(width), strict=True) if w)

    def row_segments(self, key: str, width: int) -> list[Segment]:
        row = self.by_key.get(key)
        if row is None:
            return []
        widths = self._widths(width)
        out = [
            Segment(short_pod_name(row.pod, widths[0]).ljust(widths[0]) + " "),
            Segment(middle_truncate(row.namespace, widths[1]).ljust(widths[1]) + " "),
        ]
        for s, w in zip(row.statuses, widths[2:ISTIOD], strict=True):
            text = s.status + ("!" if s.nack else "")
            style = self.style_of(STATUS_CLASS.get(s.status, "rows-view--dim"), partial=True)
            out.append(Segment(text[:w].ljust(w) + " ", style))
        for text, w in ((row.istiod or "-", widths[ISTIOD]), (row.version or "-", widths[VERSION])):
            if w:
                out.append(Segment(text[:w].ljust(w) + " "))
        return out


SORTS = ("name", "rate", "value")


class MetricTable(RowsView):
    """Every istiod series: name{labels}, kind, value, rate; histograms as P50/P90/P99."""

    WIDTHS = (None, 9, 12, 11, 26)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metrics: Mapping[str, MetricRow] = {}
        self.filter = StatFilter("")
        self.sort = "name"
        self.problem = ""

    def show(self, metrics: Mapping[str, MetricRow] | None = None) -> None:
        if metrics is not None:
            self.metrics = metrics
        try:
            keys = self.filter.select(list(self.metrics))
            self.problem = ""
        except FilterError as exc:
            keys, self.problem = [], str(exc)
        if self.sort == "name":
            keys.sort()
        elif self.sort == "rate":
            keys.sort(key=lambda k: (-(self.metrics[k].rate or 0.0), k))
        else:
            keys.sort(key=lambda k: (-_finite(self.metrics[k].value), k))
        self.set_rows(keys)

    def _widths(self, width: int) -> list[int]:
        """SERIES sized to the longest shown; on a narrow screen the percentiles, then KIND
        give way before a series is shortened (at 80 columns two rows read
        `pilot_push_triggers{` when it was cut to 20)."""
        longest = max(map(len, self.rows), default=20)
        wants = [max(longest, 20), *(w or 0 for w in self.WIDTHS[1:])]
        steps = [GiveWay(4, 0, for_whole=True), GiveWay(1, 0, for_whole=True)]
        return fit_columns(width, wants, steps, flex=0, flex_min=30)

    def header_text(self, width: int) -> str:
        cols = (f"SERIES (sort: {self.sort})", "KIND", "VALUE", "RATE/S", "P50 / P90 / P99")
        return " ".join(c.ljust(w)[:w] for c, w in zip(cols, self._widths(width), strict=True) if w)

    def row_segments(self, key: str, width: int) -> list[Segment]:
        m = self.metrics.get(key)
        if m is None:
            return []
        w = self._widths(width)
        q = " / ".join(fmt_number(v) for v in m.quantiles) if m.quantiles else ""
        rate = "" if m.rate is None else f"{m.rate:.3g}"
        style = self.style_of("rows-view--good", partial=True) if m.rate else Style()
        cells = [
            Segment(shown_series(key, w[0]).ljust(w[0]) + " "),
            Segment(m.kind[: w[1]].ljust(w[1]) + " ", self.style_of("rows-view--dim", partial=True)),
            Segment(fmt_number(m.value)[: w[2]].rjust(w[2]) + " "),
            Segment(rate[: w[3]].rjust(w[3]) + " ", style),
            Segment(q[: w[4]].ljust(w[4])),
        ]
        return [cell for cell, width in zip(cells, w, strict=True) if width]


def shown_series(key: str, width: int) -> str:
    """`name{labels}` in `width`: the labels (what tells a metric's series apart) whole
    when they fit, the name shortened before them."""
    if len(key) <= width:
        return key
    name, brace, labels = key.partition("{")
    if brace and len(labels) + 1 + 6 <= width:
        return name[: width - len(labels) - 2] + "…{" + labels
    return middle_truncate(key, width)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def trend(values: Sequence[float]) -> list[float]:
    """Sparkline data: a missing point (NaN) is drawn as zero."""
    return [v if math.isfinite(v) else 0.0 for v in values] or [0.0]
