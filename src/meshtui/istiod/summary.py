"""What istiod says about itself, from one or two scrapes of /metrics.

Counters carry a rate (the increase between two scrapes over their distance, resets
counted as rate() counts them); histograms carry P50/P90/P99 over istiod's life and over
the last interval (the per-bucket increase, as histogram_quantile(q, rate(..[interval]))
would see it). Metric names are Istio's: pilot/pkg/xds/monitoring.go,
security/pkg/server/ca/monitoring.go, pkg/config/validation (galley_validation_*).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from meshtui.istiod.metrics import Histogram, IstiodFormatError, Scrape, merge
from meshtui.istiod.quantile import bucket_increase, bucket_quantile, increase, quantile_bucket

QUANTILES = (0.5, 0.9, 0.99)
CERT_WARNING_DAYS = 30
XDS_TYPES = ("cds", "lds", "eds", "rds")  # the pilot_xds_<t>_reject gauges Istio 1.17 keeps


@dataclass(frozen=True, slots=True)
class Counter:
    value: float
    rate: float | None = None  # per second over the last interval; None after one scrape


@dataclass(frozen=True, slots=True)
class Percentiles:
    """P50/P90/P99 over istiod's life and over the last interval (NaN: no observation)."""

    count: float
    lifetime: tuple[float, float, float]
    interval: tuple[float, float, float] | None = None
    interval_count: float | None = None
    # the bucket each lifetime percentile lies in (quantile.quantile_bucket): when all three
    # share one, the figures are Prometheus's interpolation inside it, not measurements
    buckets: tuple[tuple[float, float] | None, ...] = ()

    @property
    def one_bucket(self) -> tuple[float, float] | None:
        """The bucket every lifetime percentile lies in, when they share one."""
        first = self.buckets[0] if self.buckets else None
        return first if first is not None and all(b == first for b in self.buckets) else None


@dataclass(frozen=True, slots=True)
class RootCert:
    expiry: float  # unix seconds, citadel_server_root_cert_expiry_timestamp
    days_left: float

    @property
    def iso(self) -> str:
        return datetime.fromtimestamp(self.expiry, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def warning(self) -> bool:
        return self.days_left < CERT_WARNING_DAYS


@dataclass(frozen=True, slots=True)
class Reject:
    """One pilot_xds_<type>_reject series: the proxy and the NACK's gRPC code (`err`)."""

    xds_type: str
    node: str
    err: str
    count: float


@dataclass(frozen=True)
class Summary:
    replica: str
    version: str = ""
    uptime: float | None = None
    connected: Mapping[str, float] = field(default_factory=dict)  # pilot_xds by version
    pushes: Mapping[str, Counter] = field(default_factory=dict)
    push_triggers: Mapping[str, Counter] = field(default_factory=dict)
    convergence: Percentiles | None = None
    queue_time: Percentiles | None = None
    push_time: Percentiles | None = None
    push_time_by_type: Mapping[str, Percentiles] = field(default_factory=dict)
    config_size: Percentiles | None = None
    config_size_by_type: Mapping[str, Percentiles] = field(default_factory=dict)
    services: float | None = None
    virtual_services: float | None = None
    rejects: Mapping[str, Counter] = field(default_factory=dict)  # pilot_total_xds_rejects by type
    reject_series: tuple[Reject, ...] = ()
    push_context_errors: Counter | None = None
    write_timeouts: Counter | None = None
    internal_errors: Counter | None = None
    csrs: Counter | None = None
    certs_issued: Counter | None = None
    root_cert: RootCert | None = None
    validation_passed: Counter | None = None
    validation_failed: Counter | None = None
    validation_failed_by: Mapping[str, float] = field(default_factory=dict)  # by reason
    interval: float | None = None  # seconds between the two scrapes

    @property
    def connected_total(self) -> float:
        return math.fsum(self.connected.values())

    @property
    def pushes_rate(self) -> float | None:
        rates = [c.rate for c in self.pushes.values() if c.rate is not None]
        return math.fsum(rates) if rates else None

    @property
    def rejects_total(self) -> float:
        if self.rejects:
            return math.fsum(c.value for c in self.rejects.values())
        return math.fsum(r.count for r in self.reject_series)

    def without_rates(self) -> Summary:
        """The same totals with every rate and last-interval percentile blanked: what a
        stale place shows, where nothing may look live."""

        def one(c: Counter | None) -> Counter | None:
            return None if c is None else Counter(c.value)

        def each(m: Mapping[str, Counter]) -> dict[str, Counter]:
            return {k: Counter(c.value) for k, c in m.items()}

        def life(p: Percentiles | None) -> Percentiles | None:
            return None if p is None else Percentiles(p.count, p.lifetime, buckets=p.buckets)

        def lives(m: Mapping[str, Percentiles]) -> dict[str, Percentiles]:
            return {k: Percentiles(p.count, p.lifetime, buckets=p.buckets) for k, p in m.items()}

        return dataclasses.replace(
            self,
            pushes=each(self.pushes),
            push_triggers=each(self.push_triggers),
            rejects=each(self.rejects),
            convergence=life(self.convergence),
            queue_time=life(self.queue_time),
            push_time=life(self.push_time),
            push_time_by_type=lives(self.push_time_by_type),
            config_size=life(self.config_size),
            config_size_by_type=lives(self.config_size_by_type),
            push_context_errors=one(self.push_context_errors),
            write_timeouts=one(self.write_timeouts),
            internal_errors=one(self.internal_errors),
            csrs=one(self.csrs),
            certs_issued=one(self.certs_issued),
            validation_passed=one(self.validation_passed),
            validation_failed=one(self.validation_failed),
            interval=None,
        )


def _counter(cur: Scrape, prev: Scrape | None, dt: float | None, name: str, **match: str) -> Counter | None:
    value = cur.value(name, **match)
    if value is None:
        return None
    rate = None
    if prev is not None and dt:
        before = prev.value(name, **match)
        rate = increase(value, before if before is not None else 0.0) / dt
    return Counter(value, rate)


def _counters(
    cur: Scrape, prev: Scrape | None, dt: float | None, name: str, label: str
) -> dict[str, Counter]:
    now = cur.by_label(name, label)
    before = prev.by_label(name, label) if prev is not None else {}
    out = {}
    for key, value in sorted(now.items()):
        rate = increase(value, before.get(key, 0.0)) / dt if prev is not None and dt else None
        out[key] = Counter(value, rate)
    return out


def _sum_buckets(series: Sequence[Histogram]) -> list[tuple[float, float]]:
    """`sum by (le)`: the buckets of several series added bound by bound."""
    total: dict[float, float] = {}
    for h in series:
        for bound, count in h.buckets:
            total[bound] = total.get(bound, 0.0) + count
    return sorted(total.items())


def _quantiles(buckets: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    p50, p90, p99 = (bucket_quantile(q, buckets) for q in QUANTILES)
    return p50, p90, p99


def percentiles(cur: Sequence[Histogram], prev: Sequence[Histogram] | None) -> Percentiles | None:
    if not cur:
        return None
    now = _sum_buckets(cur)
    count = now[-1][1] if now else 0.0
    interval = interval_count = None
    if prev is not None:
        delta = bucket_increase(now, _sum_buckets(prev))
        interval = _quantiles(delta)
        interval_count = delta[-1][1] if delta else 0.0
    where = tuple(quantile_bucket(q, now) for q in QUANTILES)
    return Percentiles(count, _quantiles(now), interval, interval_count, where)


def _by_label(
    cur: Scrape, prev: Scrape | None, name: str, label: str, short: bool = False
) -> dict[str, Percentiles]:
    groups: dict[str, list[Histogram]] = {}
    for h in cur.histograms(name):
        key = dict(h.labels).get(label, "")
        groups.setdefault(key.rsplit(".", 1)[-1] if short else key, []).append(h)
    before: dict[str, list[Histogram]] = {}
    for h in prev.histograms(name) if prev is not None else ():
        key = dict(h.labels).get(label, "")
        before.setdefault(key.rsplit(".", 1)[-1] if short else key, []).append(h)
    out = {}
    for key in sorted(groups):
        p = percentiles(groups[key], before.get(key, []) if prev is not None else None)
        if p is not None:
            out[key] = p
    return out


def check_istiod(scrape: Scrape) -> None:
    if not any(name.startswith("pilot_") for name in scrape.families):
        raise IstiodFormatError("Prometheus text without pilot_* metrics: not istiod's /metrics")


def summarise(cur: Scrape, prev: Scrape | None = None, *, now: float, replica: str = "") -> Summary:
    """One replica's summary; `prev` (an earlier scrape) gives rates and interval percentiles."""
    check_istiod(cur)
    dt = cur.taken_at - prev.taken_at if prev is not None else None
    if dt is not None and dt <= 0:
        prev, dt = None, None

    def hist(name: str) -> Percentiles | None:
        return percentiles(cur.histograms(name), prev.histograms(name) if prev is not None else None)

    expiry = cur.value("citadel_server_root_cert_expiry_timestamp")
    rejects = tuple(
        Reject(t, s.label("node"), s.label("err"), s.value)
        for t in XDS_TYPES
        for s in cur.samples(f"pilot_xds_{t}_reject")
        if s.value > 0
    )
    build = [s.label("tag") for s in cur.samples("istio_build") if s.label("component") == "pilot"]
    build += [s.label("version").split("-")[0] for s in cur.samples("pilot_info")]  # older istiods
    return Summary(
        replica=replica,
        version=build[0] if build else "",
        uptime=cur.value("istiod_uptime_seconds"),
        connected=dict(sorted(cur.by_label("pilot_xds", "version").items())),
        pushes=_counters(cur, prev, dt, "pilot_xds_pushes", "type"),
        push_triggers=_counters(cur, prev, dt, "pilot_push_triggers", "type"),
        convergence=hist("pilot_proxy_convergence_time"),
        queue_time=hist("pilot_proxy_queue_time"),
        push_time=hist("pilot_xds_push_time"),
        push_time_by_type=_by_label(cur, prev, "pilot_xds_push_time", "type"),
        config_size=hist("pilot_xds_config_size_bytes"),
        config_size_by_type=_by_label(cur, prev, "pilot_xds_config_size_bytes", "type", short=True),
        services=cur.value("pilot_services"),
        virtual_services=cur.value("pilot_virt_services"),
        rejects=_counters(cur, prev, dt, "pilot_total_xds_rejects", "type"),
        reject_series=rejects,
        push_context_errors=_counter(cur, prev, dt, "pilot_xds_push_context_errors"),
        write_timeouts=_counter(cur, prev, dt, "pilot_xds_write_timeout"),
        internal_errors=_counter(cur, prev, dt, "pilot_total_xds_internal_errors"),
        csrs=_counter(cur, prev, dt, "citadel_server_csr_count"),
        certs_issued=_counter(cur, prev, dt, "citadel_server_success_cert_issuance_count"),
        root_cert=RootCert(expiry, (expiry - now) / 86400) if expiry and math.isfinite(expiry) else None,
        validation_passed=_counter(cur, prev, dt, "galley_validation_passed"),
        validation_failed=_counter(cur, prev, dt, "galley_validation_failed"),
        validation_failed_by=dict(sorted(cur.by_label("galley_validation_failed", "reason").items())),
        interval=dt,
    )


def summarise_replicas(
    current: Sequence[Scrape], previous: Sequence[Scrape | None], *, now: float, names: Sequence[str]
) -> tuple[tuple[Summary, ...], Summary]:
    """Each replica's summary and all of them summed (connected proxies, counters, buckets).

    What every replica sees alike (services, virtual services, the root certificate) is
    not summed: the summed view keeps the highest count and the earliest expiry.
    """
    replicas = tuple(
        summarise(c, p, now=now, replica=n) for c, p, n in zip(current, previous, names, strict=True)
    )
    if len(replicas) == 1:  # nothing to add up
        return replicas, dataclasses.replace(replicas[0], replica="all")
    have_prev = all(p is not None for p in previous)
    merged_prev = merge(p for p in previous if p is not None) if have_prev else None
    total = summarise(merge(current), merged_prev, now=now, replica="all")
    certs = [r.root_cert for r in replicas if r.root_cert is not None]
    total = dataclasses.replace(
        total,
        version=", ".join(sorted({r.version for r in replicas if r.version})),
        uptime=_max(r.uptime for r in replicas),
        services=_max(r.services for r in replicas),
        virtual_services=_max(r.virtual_services for r in replicas),
        root_cert=min(certs, key=lambda c: c.expiry) if certs else None,
    )
    return replicas, total


def _max(values: object) -> float | None:
    found = [v for v in values if v is not None]  # type: ignore[attr-defined]
    return max(found) if found else None
