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

A share is asked as one expression, so what the place shows is Prometheus's answer to the
query shown: `(sum by (G) (rate(errors)) or 0 * sum by (G) (rate(all))) / sum by (G)
(rate(all))` is 0 for a service with no 5xx rather than no answer.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOWS = ("1m", "5m", "15m")
SERVICE = ("destination_service",)
EDGE = ("source_workload", "source_workload_namespace", "destination_service")
REPORTER = {SERVICE: "destination", EDGE: "source"}
FIGURES = ("rps", "error_pct", "client_error_pct", "p50_ms", "p90_ms", "p99_ms")


@dataclass(frozen=True)
class Query:
    figure: str  # one of FIGURES
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


def _quantile(q: float, by: tuple[str, ...], window: str) -> str:
    selector = f'istio_request_duration_milliseconds_bucket{{reporter="{REPORTER[by]}"}}'
    return f"histogram_quantile({q}, sum by ({', '.join(by)}, le) (rate({selector}[{window}])))"


def queries(window: str) -> list[Query]:
    """The twelve queries of one refresh: six figures, for the services and the edges."""
    out = []
    for by in (SERVICE, EDGE):
        out += [
            Query("rps", by, _sum(by, _sel(by), window)),
            Query("error_pct", by, _share(by, "5..", window)),
            Query("client_error_pct", by, _share(by, "4..", window)),
            Query("p50_ms", by, _quantile(0.5, by, window)),
            Query("p90_ms", by, _quantile(0.9, by, window)),
            Query("p99_ms", by, _quantile(0.99, by, window)),
        ]
    return out
