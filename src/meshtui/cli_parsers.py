"""The parts of `meshtui`'s parser that several commands share, and the commands whose
options are many (traces, load, mesh): cli.py's build_parser puts them together."""

from __future__ import annotations

import argparse
from typing import Any

from meshtui.cli_checks import (
    http_url,
    percent,
    positive_int,
    positive_interval,
    positive_rate,
)

ISTIO_NAMESPACE = "istio-system"


def kube_options(p: argparse.ArgumentParser, *, namespace_help: str) -> None:
    p.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)",
    )
    p.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    p.add_argument("-n", "--namespace", metavar="NS", help=namespace_help)
    p.add_argument(
        "--ssh",
        metavar="[USER@]HOST[:PORT]",
        help="reach the API server through this SSH host (~/.ssh/config aliases work); "
        "the kubeconfig is read there (--kubeconfig is then a remote path) unless KUBECONFIG is set",
    )
    p.add_argument(
        "--ssh-accept-new",
        action="store_true",
        help="trust and remember an SSH host key never seen before (a changed key is still refused)",
    )


def headless_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str, file_: str, json_: str
) -> argparse.ArgumentParser:
    """A headless command: --file PATH, or POD -n NS through a port-forward, or --admin URL."""
    s = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".")
    s.add_argument("pod", nargs="?", metavar="POD", help="pod whose sidecar to read (needs -n)")
    kube_options(s, namespace_help="the pod's namespace")
    s.add_argument("--file", metavar="PATH", help=file_)
    s.add_argument("--admin", metavar="URL", type=http_url, help="an Envoy admin URL instead of a pod")
    s.add_argument("--json", action="store_true", help=json_)
    return s


class LiveWord(argparse.Action):
    """The optional `live` word. argparse's own "argument live: invalid choice: '3'" reads as
    nonsense when the stray word is an unknown option's value (`--rate 3`): say what was expected."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *_: Any
    ) -> None:
        if values not in (None, "live"):
            command = parser.prog.split()[-1]
            parser.error(f"{command}: expected 'live' or --file PATH, got {values!r}")
        setattr(namespace, self.dest, values)


def istiod_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str, file_: str, json_: str
) -> None:
    """A command on istiod's monitoring port: --file PATH, or `live` through port-forwards."""
    s = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".")
    s.add_argument("live", nargs="?", action=LiveWord, help="read every istiod replica now")
    s.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    s.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    s.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="reach the API server through this SSH host")
    s.add_argument("--ssh-accept-new", action="store_true", help="trust an SSH host key never seen before")
    istio_namespace_option(s)
    s.add_argument("--file", metavar="PATH", help=file_)
    s.add_argument("--json", action="store_true", help=json_)


def istio_namespace_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--istio-namespace",
        metavar="NS",
        default=ISTIO_NAMESPACE,
        help=f"where istiod runs (pods labelled app=istiod; default {ISTIO_NAMESPACE})",
    )


def jaeger_options(p: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    default = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--jaeger-url",
        metavar="URL",
        type=http_url,
        default=default,
        help="a Jaeger query URL reachable from here (base path /jaeger or / is found)",
    )
    p.add_argument(
        "--jaeger-service",
        metavar="NS/NAME",
        default=default,
        help="the Jaeger query service to port-forward to (default istio-system/tracing)",
    )


def trace_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser(
        "traces",
        help="print trace summaries from Jaeger (search), or from a saved /api/traces body",
        description="Trace summaries: start, root service and operation, duration, spans, errors.",
    )
    kube_options(t, namespace_help="(unused: Jaeger is found by --jaeger-service)")
    jaeger_options(t)
    t.add_argument("--file", metavar="PATH", help="a saved /api/traces or /api/v3/traces body")
    t.add_argument("--service", metavar="S", help="search this service's traces")
    t.add_argument("--operation", metavar="OP", help="only this operation")
    t.add_argument("--tag", action="append", metavar="K=V", help="span tag key=value (repeatable)")
    t.add_argument("--min-duration", metavar="D", help="at least this long (100ms, 1.5s)")
    t.add_argument("--max-duration", metavar="D", help="at most this long")
    t.add_argument("--lookback", default="1h", metavar="L", help="how far back (5m, 1h, 2d; default 1h)")
    t.add_argument("--limit", type=positive_int, default=20, help="at most this many traces (default 20)")
    t.add_argument("--json", action="store_true", help="JSON: each trace with its spans, parents, offsets")
    w = sub.add_parser(
        "trace",
        help="print one trace as a waterfall (by id, by x-request-id, or from a saved body)",
        description="One line per span, indented by depth, with its offset and duration.",
    )
    w.add_argument("trace_id", nargs="?", metavar="TRACE_ID", help="the trace id (x-b3-traceid)")
    kube_options(w, namespace_help="(unused: Jaeger is found by --jaeger-service)")
    jaeger_options(w)
    w.add_argument("--file", metavar="PATH", help="a saved /api/traces/{id} or /api/v3 body")
    w.add_argument("--request-id", metavar="ID", help="find the trace by its x-request-id")
    w.add_argument("--lookback", default="1h", metavar="L", help="how far back --request-id looks")
    w.add_argument("--json", action="store_true", help="JSON: the trace's spans, parents, offsets")


def load_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser(
        "load",
        help="send HTTP requests at a fixed rate (open loop) and report codes, errors and latency",
        description="Requests leave on the clock, not after the previous answer: a slow server shows "
        "as latency, not as a lower rate (latency is measured from when a request was due).",
    )
    g.add_argument(
        "target",
        metavar="URL|PATH",
        help="http://HOST:PORT/PATH, or /PATH with --to (through a port-forward)",
    )
    g.add_argument(
        "--to",
        metavar="KIND/NS/NAME:PORT",
        help="svc/NS/NAME:PORT, deploy/NS/NAME:PORT or pod/NS/NAME:PORT, resolved as kubectl port-forward",
    )
    g.add_argument("--host", metavar="NAME", help="the Host header (e.g. webapp.istioinaction.io)")
    g.add_argument("-H", "--header", action="append", metavar="'NAME: VALUE'", help="a header (repeatable)")
    g.add_argument("--rate", type=positive_rate, default=10.0, help="requests per second (default 10)")
    g.add_argument(
        "--duration",
        type=positive_interval,
        default=10.0,
        help="seconds to run (default 10; ctrl+c ends early)",
    )
    g.add_argument(
        "--max-in-flight",
        type=positive_int,
        default=200,
        help="unanswered requests at most; over it, requests are counted as dropped (default 200)",
    )
    g.add_argument("--timeout", type=positive_interval, default=5.0, help="seconds per request (default 5)")
    g.add_argument(
        "--force-trace",
        type=percent,
        default=0.0,
        metavar="PERCENT",
        help="set x-envoy-force-trace on this share of requests and keep their x-request-ids",
    )
    g.add_argument("--quiet", action="store_true", help="no progress line a second on stderr")
    g.add_argument(
        "--json",
        action="store_true",
        help="one object: sent, completed, rate_achieved, codes, errors, latency_ms {p50, p90, p99, max}",
    )
    kube_options(g, namespace_help="(unused: --to names the namespace)")


def prometheus_options(p: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    default = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--prometheus",
        metavar="URL",
        type=http_url,
        default=default,
        help="a Prometheus reachable from here (else its Service, through a port-forward)",
    )
    p.add_argument(
        "--prometheus-service",
        metavar="NS/NAME[:PORT]",
        default=argparse.SUPPRESS if suppress else "istio-system/prometheus:9090",
        help="the Prometheus Service to port-forward to (default istio-system/prometheus:9090)",
    )


def mesh_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser(
        "mesh",
        help="each service's and edge's requests/s, 5xx and 4xx %%, P50/P90/P99 from Prometheus",
        description="Each service's (reporter=destination) and each edge's (source workload -> "
        "destination service, reporter=source) rate, error shares and latency, from Istio's standard "
        "metrics in the cluster's Prometheus, with the PromQL of Kiali's graph and the Istio dashboards.",
    )
    m.add_argument("--window", choices=("1m", "5m", "15m"), default="1m", help="the rate window (default 1m)")
    m.add_argument(
        "--time",
        type=float,
        metavar="UNIX_SECONDS",
        help="evaluate every query at this instant (default now), as Prometheus's time= parameter",
    )
    m.add_argument(
        "--json",
        action="store_true",
        help="a list of rows: source (empty on a service's own row), destination, rps, error_pct, "
        "client_error_pct, p50_ms, p90_ms, p99_ms",
    )
    prometheus_options(m)
    kube_options(m, namespace_help="(unused: the whole mesh is read)")


def events_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser(
        "events",
        help="watch what changes in the mesh: pods, Deployments, Istio config, istiod's pushes and syncs",
        description="Watch the mesh's timeline for --duration seconds: pods added, ready, restarted "
        "(with exit code), deleted; Deployments rolled out or scaled; Istio objects created, changed "
        "(which fields) and deleted; istiod's pushes with their triggers, proxies connected or gone, "
        "each proxy's xDS types sent, acked or rejected (NACK). One line per entry as it happens.",
    )
    e.add_argument(
        "--duration",
        type=positive_interval,
        metavar="SECONDS",
        default=60.0,
        help="how long to watch (default 60)",
    )
    e.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line per entry: time, kind, object, summary, detail",
    )
    e.add_argument("--record", metavar="DIR", help="also append the entries to DIR/events-YYYY-MM-DD.jsonl")
    e.add_argument(
        "--interval",
        type=positive_interval,
        metavar="SECONDS",
        default=1.0,
        help="istiod poll interval (default 1)",
    )
    istio_namespace_option(e)
    kube_options(e, namespace_help="(unused: the whole mesh is watched)")
