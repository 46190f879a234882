"""The `meshtui` command: the TUI, `meshtui demo`, and headless commands.

Imports stay lazy so `--help` and the first frame do not wait for the kubernetes client.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meshtui import __version__
from meshtui.cli_checks import (
    OneLineParser,
    check_sources,
    http_url,
    load_loop_rate,
    percent,
    positive_int,
    positive_interval,
    positive_rate,
)

EPILOG = """\
commands:
  meshtui                         the TUI on the current kubeconfig context
  meshtui --ssh [USER@]HOST[:PORT]  the TUI on a remote host's cluster, through one SSH connection
  meshtui --admin URL             the TUI on one Envoy admin endpoint, no Kubernetes
  meshtui demo [--no-tui]         a local mesh of real Envoys, and the TUI on it
  meshtui stats --file PATH       parse a saved /stats body (text or ?format=json)
  meshtui stats POD -n NS         one live /stats read through a port-forward
  meshtui stats --admin URL       one live /stats read from an Envoy admin URL
  meshtui clusters (--file PATH | POD -n NS | --admin URL)   clusters and endpoint health
  meshtui config --section S (--file PATH | POD -n NS | --admin URL)
                                  clusters|listeners|routes|endpoints|secrets|ecds|bootstrap
                                  |all|tracing, with istioctl proxy-config's rows
  meshtui istiod (--file PATH | live) [--json]   istiod's pushes, convergence, proxies, certs
  meshtui syncz (--file PATH | live) [--json]    every proxy's xDS sync status (istioctl ps)
  meshtui traces (--file PATH | --service S [--lookback 15m] [--tag k=v])
                                  trace summaries from Jaeger (or a saved /api/traces body)
  meshtui trace (TRACE_ID | --request-id ID | --file PATH)
                                  one trace as a waterfall: a line per span, offset, duration
  meshtui load (URL | PATH --to svc/NS/NAME:PORT) [--rate R --duration S --host H -H 'K: V']
                                  open-loop HTTP load: codes, errors, latency P50/P90/P99/max
  meshtui stats deploy/NAME -n NS [--filter P]   every replica's stats side by side
  meshtui mesh [--window 1m] [--json]            each service's and edge's rate, errors, latency
                                                 from Prometheus

Headless commands exit 2 with one line on stderr when something is wrong.
Keys in the TUI: press ? for the help screen.
"""


HEADLESS = ("stats", "clusters", "config", "istiod", "syncz", "traces", "trace", "load", "mesh")
HEADLESS_MODULE = {"trace": "traces"}  # both trace commands live in headless/traces.py
ISTIO_NAMESPACE = "istio-system"


def _kube_options(p: argparse.ArgumentParser, *, namespace_help: str) -> None:
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


def _headless(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str, file_: str, json_: str
) -> argparse.ArgumentParser:
    """A headless command: --file PATH, or POD -n NS through a port-forward, or --admin URL."""
    s = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".")
    s.add_argument("pod", nargs="?", metavar="POD", help="pod whose sidecar to read (needs -n)")
    _kube_options(s, namespace_help="the pod's namespace")
    s.add_argument("--file", metavar="PATH", help=file_)
    s.add_argument("--admin", metavar="URL", type=http_url, help="an Envoy admin URL instead of a pod")
    s.add_argument("--json", action="store_true", help=json_)
    return s


class _LiveWord(argparse.Action):
    """The optional `live` word. argparse's own "argument live: invalid choice: '3'" reads as
    nonsense when the stray word is an unknown option's value (`--rate 3`): say what was expected."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *_: Any
    ) -> None:
        if values not in (None, "live"):
            command = parser.prog.split()[-1]
            parser.error(f"{command}: expected 'live' or --file PATH, got {values!r}")
        setattr(namespace, self.dest, values)


def _istiod_headless(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str, file_: str, json_: str
) -> None:
    """A command on istiod's monitoring port: --file PATH, or `live` through port-forwards."""
    s = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".")
    s.add_argument("live", nargs="?", action=_LiveWord, help="read every istiod replica now")
    s.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    s.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    s.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="reach the API server through this SSH host")
    s.add_argument("--ssh-accept-new", action="store_true", help="trust an SSH host key never seen before")
    _istio_namespace(s)
    s.add_argument("--file", metavar="PATH", help=file_)
    s.add_argument("--json", action="store_true", help=json_)


def _istio_namespace(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--istio-namespace",
        metavar="NS",
        default=ISTIO_NAMESPACE,
        help=f"where istiod runs (pods labelled app=istiod; default {ISTIO_NAMESPACE})",
    )


def _jaeger_options(p: argparse.ArgumentParser, *, suppress: bool = False) -> None:
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


def _trace_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser(
        "traces",
        help="print trace summaries from Jaeger (search), or from a saved /api/traces body",
        description="Trace summaries: start, root service and operation, duration, spans, errors.",
    )
    _kube_options(t, namespace_help="(unused: Jaeger is found by --jaeger-service)")
    _jaeger_options(t)
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
    _kube_options(w, namespace_help="(unused: Jaeger is found by --jaeger-service)")
    _jaeger_options(w)
    w.add_argument("--file", metavar="PATH", help="a saved /api/traces/{id} or /api/v3 body")
    w.add_argument("--request-id", metavar="ID", help="find the trace by its x-request-id")
    w.add_argument("--lookback", default="1h", metavar="L", help="how far back --request-id looks")
    w.add_argument("--json", action="store_true", help="JSON: the trace's spans, parents, offsets")


def _load_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    _kube_options(g, namespace_help="(unused: --to names the namespace)")


def _prometheus_options(p: argparse.ArgumentParser, *, suppress: bool = False) -> None:
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


def _mesh_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    _prometheus_options(m)
    _kube_options(m, namespace_help="(unused: the whole mesh is read)")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="meshtui",
        description="Live debugging of an Istio service mesh: pods, sidecar Envoy stats, port-forwards.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"meshtui {__version__}")
    _kube_options(p, namespace_help="only this namespace (default: all namespaces)")
    p.add_argument(
        "--admin",
        metavar="URL",
        type=http_url,
        help="attach to one Envoy admin endpoint (http://HOST:PORT), no Kubernetes",
    )
    p.add_argument(
        "--interval",
        type=positive_interval,
        default=None,  # then the config file's, then 1
        metavar="SECONDS",
        help="stats refresh interval (default 1, at least 0.2)",
    )
    p.add_argument("--theme", metavar="NAME", help="a Textual theme (textual-dark, nord, gruvbox, ...)")
    p.add_argument(
        "--filter", metavar="P", default="", help="start with this stats filter (a name prefix, or re:REGEX)"
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every call that changes a proxy (log levels, reset counters)",
    )
    _istio_namespace(p)
    _jaeger_options(p)
    _prometheus_options(p)
    sub: Any = p.add_subparsers(dest="command", metavar="COMMAND")

    s = _headless(
        sub,
        "stats",
        "print a sidecar's Envoy stats once (file, pod or admin URL), or every replica's of a "
        "workload side by side (deploy/NAME or -l SELECTOR)",
        "a saved /stats body, plain text or ?format=json",
        'JSON list of {"name", "kind", "value"}; for a workload '
        '{"pods": {POD: {STAT: value}}, "total": {...}}',
    )
    s.add_argument(
        "--prefix",
        "--filter",
        dest="prefix",
        metavar="P",
        help="keep stats whose name starts with P (re:REGEX for a regex)",
    )
    s.add_argument(
        "-l",
        "--selector",
        metavar="SELECTOR",
        help="every running pod this label selector matches (-n), side by side, as for deploy/NAME",
    )
    _headless(
        sub,
        "clusters",
        "print a sidecar's clusters and endpoint health once (like istioctl pc cluster/endpoint)",
        "a saved /clusters?format=json body",
        "JSON list of clusters, each with its endpoints",
    )

    c = _headless(
        sub,
        "config",
        "print one section of a sidecar's /config_dump (like istioctl proxy-config)",
        "a saved /config_dump body",
        "JSON list of the section's rows",
    )
    c.add_argument(
        "--section",
        required=True,
        choices=[
            "clusters",
            "listeners",
            "routes",
            "endpoints",
            "secrets",
            "ecds",
            "bootstrap",
            "all",
            "tracing",
        ],
        help="the part of the config to show (all: all but tracing, as istioctl proxy-config all)",
    )
    # istioctl proxy-config endpoint's filters
    c.add_argument("--address", metavar="IP:PORT", help="endpoints at this address (--section endpoints|all)")
    c.add_argument("--port", metavar="N", type=int, help="endpoints on this port (--section endpoints|all)")
    c.add_argument(
        "--status",
        metavar="S",
        help="endpoints in this health status: HEALTHY, UNHEALTHY, ... (endpoints|all)",
    )
    c.add_argument("--cluster", metavar="NAME", help="endpoints of this cluster (--section endpoints|all)")

    _istiod_headless(
        sub,
        "istiod",
        "print istiod's own health once: proxies, pushes, convergence, certificates",
        "a saved istiod /metrics body (Prometheus text)",
        "JSON: the summary summed over replicas, and per replica",
    )
    _istiod_headless(
        sub,
        "syncz",
        "print every proxy's xDS sync status once (like istioctl proxy-status)",
        "a saved /debug/syncz body, or istioctl's xDS ClientConfig answer",
        "JSON list, one object per proxy with CDS/LDS/EDS/RDS/ECDS",
    )
    _trace_commands(sub)
    _load_command(sub)
    _mesh_command(sub)

    d = sub.add_parser(
        "demo",
        help="start a local mesh of real Envoy processes and the TUI on it",
        description="A local mesh (webapp -> catalog, ingress gateway) on real Envoy, "
        "with a simulated Kubernetes API server and a load loop. No cluster needed.",
    )
    d.add_argument("--no-tui", action="store_true", help="keep the mesh up and print its kubeconfig path")
    # the TUI's own options, accepted after `demo` too (SUPPRESS: no default overrides them)
    d.add_argument(
        "--interval",
        type=positive_interval,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="stats refresh interval (default 1, at least 0.2)",
    )
    d.add_argument("--filter", metavar="P", default=argparse.SUPPRESS, help="start with this stats filter")
    d.add_argument("--theme", metavar="NAME", default=argparse.SUPPRESS, help="a Textual theme")
    d.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="refuse every call that changes a proxy",
    )
    d.add_argument(
        "--rate",
        type=load_loop_rate,
        default=3.0,
        help="load loop requests per second (default 3; 0: none, so that meshtui load's "
        "requests are the gateway's only ones)",
    )
    d.add_argument(
        "--broken-tracing",
        metavar="WORKLOAD",
        choices=["webapp", "catalog", "istio-ingressgateway"],
        help="give this proxy the scenario's broken tracing bootstrap",
    )
    d.add_argument(
        "--sampling",
        type=percent,
        default=10.0,
        metavar="PERCENT",
        help="percent of requests the demo's Envoys trace (default 10, as Istio's mesh config)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in HEADLESS and (clash := check_sources(args)):
        parser.error(clash)
    if args.command in HEADLESS:
        import importlib

        from meshtui.headless import CommandError

        name = HEADLESS_MODULE.get(args.command, args.command)
        module = importlib.import_module(f"meshtui.headless.{name}")
        try:
            return int(getattr(module, f"{args.command}_command")(args))
        except CommandError as exc:
            print(f"meshtui: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130
    if args.command == "demo":
        return _demo(args)
    gc.disable()  # until the first frame (the app's on_mount): see ui/app.py
    from meshtui.ui.app import run_app

    return run_app(args)


def _demo(args: argparse.Namespace) -> int:
    if args.no_tui:
        from meshtui.demo import mesh

        extra = ["--broken-tracing", args.broken_tracing] if args.broken_tracing else []
        return mesh.main(["--rate", str(args.rate), "--sampling", str(args.sampling), *extra])
    from meshtui.demo.run import DemoError, start_mesh

    print("meshtui demo: starting the mesh (real Envoys, simulated API server) ...", file=sys.stderr)
    try:
        mesh_process = start_mesh(rate=args.rate, broken_tracing=args.broken_tracing, sampling=args.sampling)
    except DemoError as exc:
        print(f"meshtui: {exc}", file=sys.stderr)
        return 2
    with mesh_process:
        from meshtui.ui.app import run_app

        args.ssh = None  # the demo mesh is local
        # the TUI covers the terminal: the examples go to a file, and the app says where
        examples = Path(mesh_process.kubeconfig).parent / "try-kubectl.txt"
        examples.write_text("\n".join(mesh_process.info["try"]) + "\n")
        args.notice = f"demo mesh up. In another terminal, kubectl examples: cat {examples}"

        args.kubeconfig, args.context, args.namespace, args.admin = (
            mesh_process.kubeconfig,
            None,
            None,
            None,
        )
        return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
