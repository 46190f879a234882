"""The app's options, from the command line (and later a config file)."""

from __future__ import annotations

from dataclasses import dataclass


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
    ssh: str | None = None  # [user@]host[:port]: reach the API server through this SSH host
    ssh_accept_new: bool = False
