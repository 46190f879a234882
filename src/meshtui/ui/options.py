"""The app's options: the command line over the config file (meshtui/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from meshtui.settings import Settings


@dataclass
class Options:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    admin: str | None = None
    interval: float = 1.0
    read_only: bool = False
    stats_filter: str = ""
    istio_namespace: str = "istio-system"  # where istiod runs (pods labelled app=istiod)
    jaeger_url: str | None = None  # a Jaeger query URL reachable directly
    jaeger_service: str | None = None  # NS/NAME of Jaeger's query service (istio-system/tracing)
    prometheus: str | None = None  # a Prometheus URL reachable directly (the Mesh place)
    prometheus_service: str = "istio-system/prometheus:9090"  # else this Service, forwarded
    record: str | None = None  # a folder the Events place appends its entries to (JSON lines)
    ssh: str | None = None  # [user@]host[:port]: reach the API server through this SSH host
    ssh_accept_new: bool = False
    theme: str | None = None  # one of Textual's themes
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> key(s), the config's [keys]
    config_problem: str | None = None  # one line about a bad config file, shown once started
    notice: str | None = None  # said once the app is up (the demo: where its kubectl examples are)
    export_dir: str | None = None  # where exports and screenshots go (default: the current dir)


def options_from(args: Any, settings: Settings, problem: str | None = None) -> Options:
    """The command line over the config file over the defaults.

    A flag whose argparse dest is an Options field name is taken as it is (so a new flag
    needs no line here); the lines below are the ones the config file can also set.
    """
    given = {f.name: getattr(args, f.name) for f in fields(Options) if hasattr(args, f.name)}
    interval = getattr(args, "interval", None)
    return replace(
        Options(**{k: v for k, v in given.items() if v is not None}),
        namespace=getattr(args, "namespace", None) or settings.namespace,
        interval=interval if interval is not None else (settings.interval or 1.0),
        read_only=bool(getattr(args, "read_only", False) or settings.read_only),
        stats_filter=getattr(args, "filter", None) or "",
        theme=getattr(args, "theme", None) or settings.theme,
        keys=dict(settings.keys),
        config_problem=problem,
        export_dir=settings.export_dir,
    )
