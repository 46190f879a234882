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
from meshtui.ui.widgets.rows_view import RowsView


def _ms(values: tuple[float, float, float] | None, scale: float = 1000.0, unit: str = "ms") -> str:
    if values is None:
        return "-"
    return "/".join("-" if math.isnan(v) else f"{v * scale:.4g}" for v in values) + f" {unit}"


def _p(p: Percentiles | None, scale: float = 1000.0, unit: str = "ms") -> str:
    if p is None:
        return "-"
    text = f"P50/P90/P99 {_ms(p.lifetime, scale, unit)} over {p.count:g}"
    if p.interval is not None:
        text += f"; last interval {_ms(p.interval, scale, unit)} over {p.interval_count or 0:g}"
    return text


def _c(c: Counter | None) -> str:
    if c is None:
        return "-"
    return f"{c.value:g}" + (f" ({c.rate:+.3g}/s)" if c.rate else "")


def _counters(cs: Mapping[str, Counter]) -> str:
    return "  ".join(f"{k} {_c(c)}" for k, c in cs.items()) or "-"


def summary_text(total: Summary, replicas: Sequence[ReplicaState]) -> Text:
    t = Text()
    label = Style(bold=True)
    proxies = ", ".join(f"{v:g} on {k}" for k, v in total.connected.items()) or "none"
    up = f" · up {total.uptime / 3600:.1f} h" if total.uptime else ""
    version = f"{total.version} · " if total.version else ""
    t.append("istiod ", label).append(f"{version}{len(replicas)} replica(s){up}\n")
    t.append("proxies ", label).append(f"{total.connected_total:g} ({proxies})   ")
    t.append("services ", label).append(f"{fmt_number(total.services)}   ")
    t.append("virtual services ", label).append(f"{fmt_number(total.virtual_services)}\n")
    t.append("pushes ", label).append(_counters(total.pushes) + "\n")
    t.append("triggers ", label).append(_counters(total.push_triggers) + "\n")
    t.append("convergence ", label).append(_p(total.convergence) + "\n")
    t.append("queue time ", label).append(_p(total.queue_time) + "\n")
    t.append("push time ", label).append(_p(total.push_time) + "\n")
    t.append("config size ", label).append(_p(total.config_size, 1 / 1024, "KiB") + "\n")
    rejects = _counters(total.rejects) if total.rejects else f"{total.rejects_total:g}"
    t.append("rejects ", label).append(rejects, Style(color="red", bold=True) if total.rejects_total else "")
    t.append("   push context errors ", label).append(_c(total.push_context_errors))
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
    WIDTHS = (None, 16, 9, 9, 9, 9, 9, 22, 9)

    class Act(Message):
        """enter or d on the highlighted proxy; the pane does the work."""

        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.by_key: dict[str, ProxySync] = {}

    def action_act(self, action: str) -> None:
        self.post_message(self.Act(action))

    @staticmethod
    def key(row: ProxySync) -> str:
        return f"{row.proxy}@{row.istiod}"

    def show(self, rows: Sequence[ProxySync]) -> None:
        self.by_key = {self.key(r): r for r in rows}
        self.set_rows(list(self.by_key))

    def _widths(self, width: int) -> list[int]:
        fixed = sum(w for w in self.WIDTHS if w) + len(self.WIDTHS)
        return [w or max(width - fixed, 16) for w in self.WIDTHS]

    def header_text(self, width: int) -> str:
        cols = ("NAME", "NAMESPACE", *XDS_COLUMNS, "ISTIOD", "VERSION")
        return " ".join(c.ljust(w)[:w] for c, w in zip(cols, self._widths(width), strict=True))

    def row_segments(self, key: str, width: int) -> list[Segment]:
        row = self.by_key.get(key)
        if row is None:
            return []
        widths = self._widths(width)
        cells = [row.pod, row.namespace]
        out = [Segment(c[:w].ljust(w) + " ") for c, w in zip(cells, widths, strict=False)]
        for s, w in zip(row.statuses, widths[2:7], strict=True):
            text = s.status + ("!" if s.nack else "")
            style = self.style_of(STATUS_CLASS.get(s.status, "rows-view--dim"), partial=True)
            out.append(Segment(text[:w].ljust(w) + " ", style))
        out.append(Segment((row.istiod or "-")[: widths[7]].ljust(widths[7]) + " "))
        out.append(Segment((row.version or "-")[: widths[8]].ljust(widths[8])))
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
        fixed = sum(w for w in self.WIDTHS if w) + len(self.WIDTHS)
        return [w or max(width - fixed, 20) for w in self.WIDTHS]

    def header_text(self, width: int) -> str:
        cols = (f"SERIES (sort: {self.sort})", "KIND", "VALUE", "RATE/S", "P50 / P90 / P99")
        return " ".join(c.ljust(w)[:w] for c, w in zip(cols, self._widths(width), strict=True))

    def row_segments(self, key: str, width: int) -> list[Segment]:
        m = self.metrics.get(key)
        if m is None:
            return []
        w = self._widths(width)
        q = " / ".join(fmt_number(v) for v in m.quantiles) if m.quantiles else ""
        rate = "" if m.rate is None else f"{m.rate:.3g}"
        style = self.style_of("rows-view--good", partial=True) if m.rate else Style()
        return [
            Segment(key[: w[0]].ljust(w[0]) + " "),
            Segment(
                m.kind[: w[1]].ljust(w[1]) + " ",
                self.style_of("rows-view--dim", partial=True),
            ),
            Segment(fmt_number(m.value)[: w[2]].rjust(w[2]) + " "),
            Segment(rate[: w[3]].rjust(w[3]) + " ", style),
            Segment(q[: w[4]].ljust(w[4])),
        ]


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def trend(values: Sequence[float]) -> list[float]:
    """Sparkline data: a missing point (NaN) is drawn as zero."""
    return [v if math.isfinite(v) else 0.0 for v in values] or [0.0]
