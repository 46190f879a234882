"""A Summary as plain JSON-ready data (headless `meshtui istiod --json`); NaN becomes null."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from meshtui.istiod.summary import Counter, Percentiles, Summary


def _num(value: float | None) -> float | int | None:
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return None
    return int(value) if value == int(value) and abs(value) < 2**53 else value


def _counter(c: Counter | None) -> dict[str, Any] | None:
    return None if c is None else {"value": _num(c.value), "rate": _num(c.rate)}


def _counters(cs: Mapping[str, Counter]) -> dict[str, Any]:
    return {k: _counter(c) for k, c in cs.items()}


def _p(values: tuple[float, float, float] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {name: _num(_round(v)) for name, v in zip(("P50", "P90", "P99"), values, strict=True)}


def _round(value: float) -> float:
    """A percentile to 12 significant digits: the bucket interpolation's float noise
    (0.09000000000000001) is not precision anyone measured."""
    return float(f"{value:.12g}")


def percentiles_record(p: Percentiles | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "count": _num(p.count),
        "lifetime": _p(p.lifetime),
        "interval": _p(p.interval),
        "interval_count": _num(p.interval_count),
        # the bucket each lifetime percentile lies in: its resolution ([lower, upper], null
        # for +Inf), as histogram_quantile interpolates inside it
        "lifetime_buckets": [None if b is None else [_num(b[0]), _num(b[1])] for b in p.buckets] or None,
    }


def summary_record(s: Summary) -> dict[str, Any]:
    cert = s.root_cert
    return {
        "replica": s.replica,
        "version": s.version,
        "uptime_seconds": _num(s.uptime),
        "connected_proxies": {k: _num(v) for k, v in s.connected.items()},
        "connected_proxies_total": _num(s.connected_total),
        "pushes": _counters(s.pushes),
        "push_triggers": _counters(s.push_triggers),
        "proxy_convergence_seconds": percentiles_record(s.convergence),
        "proxy_queue_seconds": percentiles_record(s.queue_time),
        "push_time_seconds": percentiles_record(s.push_time),
        "push_time_seconds_by_type": {k: percentiles_record(p) for k, p in s.push_time_by_type.items()},
        "config_size_bytes": percentiles_record(s.config_size),
        "config_size_bytes_by_type": {k: percentiles_record(p) for k, p in s.config_size_by_type.items()},
        "services": _num(s.services),
        "virtual_services": _num(s.virtual_services),
        "rejects": _counters(s.rejects),
        "rejects_by_proxy": [
            {"type": r.xds_type, "proxy": r.node, "err": r.err, "count": _num(r.count)}
            for r in s.reject_series
        ],
        "push_context_errors": _counter(s.push_context_errors),
        "write_timeouts": _counter(s.write_timeouts),
        "internal_errors": _counter(s.internal_errors),
        "csrs": _counter(s.csrs),
        "certs_issued": _counter(s.certs_issued),
        "root_cert_expiry": None
        if cert is None
        else {
            "timestamp": _num(cert.expiry),
            "utc": cert.iso,
            "days_left": round(cert.days_left, 1),
            "warning": cert.warning,
        },
        "validation_passed": _counter(s.validation_passed),
        "validation_failed": _counter(s.validation_failed),
        "validation_failed_by_reason": {k: _num(v) for k, v in s.validation_failed_by.items()},
        "interval_seconds": _num(s.interval),
    }
