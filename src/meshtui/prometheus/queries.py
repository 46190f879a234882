"""Every PromQL the Mesh place and `meshtui mesh` send, in one place (and in the help), so
a user can paste any of them into Prometheus and get the same numbers.

As Kiali's graph and the Istio dashboards ask (kiali/kiali graph/telemetry/istio/istio.go
and appender/response_time.go; istio/istio manifests/addons/dashboards/*.json, both read at
their current heads): a service's own figures from what its sidecars report
(`reporter="destination"`, the Service dashboard's "server" panels), an edge's from the
caller's (`reporter="source"`, Kiali's outgoing edges, the Workload dashboard's outbound
panels); `rate` over the window (Kiali's graph, the Mesh dashboard); latency as
`histogram_quantile` over the buckets' rates, in milliseconds (Kiali, the Mesh dashboard's
workloads table). Errors: 5xx as the dashboards' success rate counts them (`5..`), 4xx
apart (Kiali counts both as errors; here they are two columns).

`queries()` are the figures as one would ask for them, each a query to paste into
Prometheus; what meshtui shows equals Prometheus's answer to them (tests/mesh asks a real
one). A share reads `100 * (sum by (G) (rate(errors)) or 0 * sum by (G) (rate(all))) /
sum by (G) (rate(all))`: 0 for a service with no 5xx rather than no answer.

`refresh()` is what one refresh sends, cheaper for the same numbers. At 10,000 edges every
answer is ~1.7 MB of JSON, and parsing is most of the app's CPU, so it asks:
- the error *rates* instead of the shares: only the series that ever had a 5xx (or 4xx)
  answer, and the share is worked out as Prometheus does it, `100 * part / whole` in
  float64 (0 without a part, NaN over no requests): the same bits (feed.share);
- the edges' latency only for the edges on screen (`histogram_quantile` per group does
  not change when the selector keeps fewer groups, so the figures are the same as the
  full query's): the place asks for the rows it draws, the rest show `·`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

WINDOWS = ("1m", "5m", "15m")
SERVICE = ("destination_service",)
EDGE = ("source_workload", "source_workload_namespace", "destination_service")
REPORTER = {SERVICE: "destination", EDGE: "source"}
FIGURES = ("rps", "error_pct", "client_error_pct", "p50_ms", "p90_ms", "p99_ms")


@dataclass(frozen=True)
class Query:
    figure: str  # one of FIGURES, or a part of a share (ERROR_CODES)
    by: tuple[str, ...]  # SERVICE or EDGE
    expr: str


def _sel(by: tuple[str, ...], extra: str = "") -> str:
    return f'istio_requests_total{{reporter="{REPORTER[by]}"{extra}}}'


def _sum(by: tuple[str, ...], selector: str, window: str) -> str:
    return f"sum by ({', '.join(by)}) (rate({selector}[{window}]))"


def _share(by: tuple[str, ...], codes: str, window: str) -> str:
    part = _sum(by, _sel(by, f',response_code=~"{codes}"'), window)
    whole = _sum(by, _sel(by), window)
    return f"100 * ({part} or 0 * {whole}) / {whole}"


def _quantile(q: float, by: tuple[str, ...], window: str, extra: str = "") -> str:
    selector = f'istio_request_duration_milliseconds_bucket{{reporter="{REPORTER[by]}"{extra}}}'
    return f"histogram_quantile({q}, sum by ({', '.join(by)}, le) (rate({selector}[{window}])))"


ERROR_RPS = {"error_pct": "5xx_rps", "client_error_pct": "4xx_rps"}  # share -> its part
ERROR_CODES = {"5xx_rps": "5..", "4xx_rps": "4.."}
LATENCY = ("p50_ms", "p90_ms", "p99_ms")
QUANTILES = {"p50_ms": 0.5, "p90_ms": 0.9, "p99_ms": 0.99}
Edge = tuple[str, str, str]  # source_workload, source_workload_namespace, destination_service
META = frozenset("\\.+*?()|[]{}^$")  # RE2's metacharacters


def queries(window: str) -> list[Query]:
    """The twelve queries of one refresh: six figures, for the services and the edges."""
    out = []
    for by in (SERVICE, EDGE):
        out += [
            Query("rps", by, _sum(by, _sel(by), window)),
            Query("error_pct", by, _share(by, "5..", window)),
            Query("client_error_pct", by, _share(by, "4..", window)),
            *(Query(f, by, _quantile(QUANTILES[f], by, window)) for f in LATENCY),
        ]
    return out


def refresh(window: str, latency_for: Collection[Edge] | None = None) -> list[Query]:
    """What one refresh sends: per service and per edge the rate and the 5xx and 4xx rates;
    the services' latency; the edges' latency for `latency_for` (None: every edge)."""
    out = []
    for by in (SERVICE, EDGE):
        out.append(Query("rps", by, _sum(by, _sel(by), window)))
        for part, codes in ERROR_CODES.items():
            out.append(Query(part, by, _sum(by, _sel(by, f',response_code=~"{codes}"'), window)))
    out += (Query(f, SERVICE, _quantile(QUANTILES[f], SERVICE, window)) for f in LATENCY)
    if latency_for is None or latency_for:
        out += latency(window, latency_for)
    return out


def latency(window: str, edges: Collection[Edge] | None) -> list[Query]:
    """The edges' P50/P90/P99, for `edges` (None: all). A selector on the three labels the
    edges are grouped by keeps every listed edge's group whole: its quantile is the same;
    the cross product may answer a few more edges, all as true."""
    extra = ""
    if edges is not None:
        for i, label in enumerate(EDGE):
            values = sorted({e[i] for e in edges})
            extra += f',{label}=~"{"|".join(_re2_literal(v) for v in values)}"'
    return [Query(f, EDGE, _quantile(QUANTILES[f], EDGE, window, extra)) for f in LATENCY]


def _re2_literal(value: str) -> str:
    """`value` as an RE2 literal inside a PromQL double-quoted string: a regex metacharacter
    gets a backslash, and every backslash and quote is escaped again for the string."""
    regex = "".join("\\" + c if c in META else c for c in value)
    return regex.replace("\\", "\\\\").replace('"', '\\"')
