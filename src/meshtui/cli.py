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
    positive_interval,
)
from meshtui.cli_parsers import (
    events_command,
    headless_command,
    istio_namespace_option,
    istiod_command,
    jaeger_options,
    kube_options,
    load_command,
    mesh_command,
    prometheus_options,
    trace_commands,
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


HEADLESS = ("stats", "clusters", "config", "istiod", "syncz", "traces", "trace", "load", "mesh", "events")
HEADLESS_MODULE = {"trace": "traces"}  # both trace commands live in headless/traces.py


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="meshtui",
        description="Live debugging of an Istio service mesh: pods, sidecar Envoy stats, port-forwards.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"meshtui {__version__}")
    kube_options(p, namespace_help="only this namespace (default: all namespaces)")
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
    istio_namespace_option(p)
    jaeger_options(p)
    prometheus_options(p)
    p.add_argument(
        "--record",
        metavar="DIR",
        help="append the Events place's entries to DIR/events-YYYY-MM-DD.jsonl (kept across restarts)",
    )
    sub: Any = p.add_subparsers(dest="command", metavar="COMMAND")

    s = headless_command(
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
    headless_command(
        sub,
        "clusters",
        "print a sidecar's clusters and endpoint health once (like istioctl pc cluster/endpoint)",
        "a saved /clusters?format=json body",
        "JSON list of clusters, each with its endpoints",
    )

    c = headless_command(
        sub,
        "config",
        "print one section of a sidecar's /config_dump (like istioctl proxy-config)",
        "a saved /config_dump body",
        "JSON list of the section's rows",
    )
    c.add_argument(
        "--diff",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="what changed between two saved /config_dump bodies, per resource (retries 0 -> 4)",
    )
    c.add_argument(
        "--section",
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

    istiod_command(
        sub,
        "istiod",
        "print istiod's own health once: proxies, pushes, convergence, certificates",
        "a saved istiod /metrics body (Prometheus text)",
        "JSON: the summary summed over replicas, and per replica",
    )
    istiod_command(
        sub,
        "syncz",
        "print every proxy's xDS sync status once (like istioctl proxy-status)",
        "a saved /debug/syncz body, or istioctl's xDS ClientConfig answer",
        "JSON list, one object per proxy with CDS/LDS/EDS/RDS/ECDS",
    )
    trace_commands(sub)
    load_command(sub)
    mesh_command(sub)
    events_command(sub)

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
