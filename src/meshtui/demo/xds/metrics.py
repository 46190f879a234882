"""istiod's own metrics, computed from the demo's real xDS exchange (prometheus_client).

Names, types, labels and bucket boundaries are Istio 1.17's:
- istio/istio pilot/pkg/xds/monitoring.go: pilot_xds, pilot_xds_pushes, pilot_push_triggers,
  pilot_proxy_convergence_time, pilot_proxy_queue_time, pilot_xds_push_time,
  pilot_xds_config_size_bytes, pilot_services, pilot_total_xds_rejects,
  pilot_xds_{cds,lds,rds,eds}_reject, pilot_xds_expired_nonce, pilot_xds_write_timeout
- pilot/pkg/model/push_context.go: pilot_virt_services (gauge of VirtualServices)
- security/pkg/server/ca/monitoring.go: citadel_server_csr_count,
  citadel_server_success_cert_issuance_count; security/pkg/pki/ca/ca.go publishes
  citadel_server_root_cert_expiry_timestamp (unix seconds)
- pkg/webhooks/validation/server/monitoring.go: galley_validation_passed / _failed
  ({group, version, resource[, reason]})
istiod exports through OpenCensus, which writes counters without the `_total` suffix
(see ../shared/fixtures/seed/istiod-metrics.txt); prometheus_client's text writer adds it to
a counter's HELP/TYPE lines, so `exposition()` puts those two lines back to istiod's names.
Metrics the demo cannot compute (debounce, pushcontext init, k8s events, ...) are left out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from meshtui.demo.bootstrap import ISTIO_VERSION

TIME_BUCKETS = (0.01, 0.1, 1, 3, 5, 10, 20, 30)  # pilot_xds_push_time, pilot_xds_send_time
PROXY_BUCKETS = (0.1, 0.5, 1, 3, 5, 10, 20, 30)  # convergence and queue time
SIZE_BUCKETS = (1, 10000, 1000000, 4000000, 10000000, 40000000)  # 10K, 1M, 4M, 10M, 40M

COUNTERS = {
    "pilot_xds_pushes": ("Pilot build and send errors for lds, rds, cds and eds.", ("type",)),
    "pilot_push_triggers": (
        "Total number of times a push was triggered, labeled by reason for the push.",
        ("type",),
    ),
    "pilot_total_xds_rejects": ("Total number of XDS responses from pilot rejected by proxy.", ("type",)),
    "pilot_xds_expired_nonce": ("Total number of XDS requests with an expired nonce.", ("type",)),
    "pilot_xds_write_timeout": ("Pilot XDS response write timeouts.", ()),
    "citadel_server_csr_count": ("The number of CSRs received by Citadel server.", ()),
    "citadel_server_success_cert_issuance_count": (
        "The number of certificates issuances that have succeeded.",
        (),
    ),
    "galley_validation_passed": ("Resource is valid", ("group", "version", "resource")),
    "galley_validation_failed": ("Resource validation failed", ("group", "version", "resource", "reason")),
}
_CREATED = re.compile(r"^(# (HELP|TYPE) )?\w+_created[ {]")
REJECT_GAUGES = {"cds": "CDS configs", "eds": "EDS", "lds": "LDS", "rds": "RDS"}


class _Counters(Collector):
    """Istio's Sums: counters whose samples carry the bare metric name."""

    def __init__(self) -> None:
        self.values: dict[str, dict[tuple[str, ...], float]] = defaultdict(dict)

    def inc(self, name: str, *labels: str, by: float = 1.0) -> None:
        self.values[name][labels] = self.values[name].get(labels, 0.0) + by

    def get(self, name: str, *labels: str) -> float:
        return self.values[name].get(labels, 0.0)

    def collect(self) -> Iterator[Metric]:
        for name, (doc, label_names) in COUNTERS.items():
            m = Metric(name, doc, "counter")
            for labels, value in sorted(self.values.get(name, {}).items()):
                m.add_sample(name, dict(zip(label_names, labels, strict=False)), value)
            if m.samples or not label_names:
                yield m


class IstiodMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.counters = _Counters()
        r.register(self.counters)
        self.xds = Gauge(
            "pilot_xds", "Number of endpoints connected to this pilot using XDS.", ["version"], registry=r
        )
        self.services = Gauge("pilot_services", "Total services known to pilot.", registry=r)
        # every Istio component publishes its build (pkg/version: istio_build{component,tag})
        build = Gauge("istio_build", "Istio component build info", ["component", "tag"], registry=r)
        build.labels("pilot", ISTIO_VERSION).set(1)
        self.virt_services = Gauge(
            "pilot_virt_services", "Total virtual services known to pilot.", registry=r
        )
        self.rejects = {
            short: Gauge(f"pilot_xds_{short}_reject", f"Pilot rejected {what}.", ["node", "err"], registry=r)
            for short, what in REJECT_GAUGES.items()
        }
        self.push_time = Histogram(
            "pilot_xds_push_time",
            "Total time in seconds Pilot takes to push lds, rds, cds and eds.",
            ["type"],
            buckets=TIME_BUCKETS,
            registry=r,
        )
        self.queue_time = Histogram(
            "pilot_proxy_queue_time",
            "Time in seconds, a proxy is in the push queue before being dequeued.",
            buckets=PROXY_BUCKETS,
            registry=r,
        )
        self.convergence = Histogram(
            "pilot_proxy_convergence_time",
            "Delay in seconds between config change and a proxy receiving all required configuration.",
            buckets=PROXY_BUCKETS,
            registry=r,
        )
        self.config_size = Histogram(
            "pilot_xds_config_size_bytes",
            "Distribution of configuration sizes pushed to clients",
            ["type"],
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.root_cert_expiry = Gauge(
            "citadel_server_root_cert_expiry_timestamp",
            "The unix timestamp, in seconds, when Citadel root cert will expire. "
            "A negative time indicates the cert is expired.",
            registry=r,
        )

    def exposition(self) -> bytes:
        text = generate_latest(self.registry).decode()
        # prometheus_client adds `_created` series istiod does not have
        text = "".join(line for line in text.splitlines(True) if not _CREATED.match(line))
        names = "|".join(COUNTERS)
        return re.sub(rf"^# (HELP|TYPE) ({names})_total ", r"# \1 \2 ", text, flags=re.M).encode()
