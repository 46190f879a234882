"""Number and name formatting shared by the widgets."""

from __future__ import annotations

import re


def middle_truncate(text: str, width: int) -> str:
    """Keep both ends of a long stat name: the cluster at the front, the stat at the back."""
    if len(text) <= width:
        return text
    if width <= 0:
        return ""
    if width <= 1:
        return text[:width]
    head = max(1, (width - 1) // 2)
    tail = width - 1 - head
    return text[:head] + "…" + text[-tail:]


SELECTED = "▶ "


def short_pod_name(name: str, width: int) -> str:
    """A pod name in `width` columns, keeping its last segment (the pod's own suffix, which
    tells replicas apart) and as much of its start (the workload) as fits."""
    if len(name) <= width:
        return name
    marked = name.startswith(SELECTED)  # the pods list's mark of the pod whose views are shown
    body = name.removeprefix(SELECTED) if marked else name
    room = width - (len(SELECTED) if marked else 0)
    dash = body.rfind("-")
    tail = body[dash:] if dash > 0 and len(body) - dash <= room // 2 else ""
    if not tail:
        head = max(1, (room - 1) // 2)
        kept = body[:head] + "…" + body[len(body) - (room - 1 - head) :] if room > 1 else body[:room]
    else:
        kept = body[: max(room - 1 - len(tail), 0)] + "…" + tail
    return (SELECTED if marked else "") + kept


def fit_number(raw: str, width: int) -> str:
    """A number in `width` columns. An integer is always whole (Envoy's counters and gauges
    are 64-bit integers, up to 20 characters: exact, as /stats prints them); a longer
    float goes to scientific notation."""
    if len(raw) <= width or raw.lstrip("-").isdigit():
        return raw
    try:
        return f"{float(raw):.{max(width - 7, 1)}e}"
    except ValueError:
        return raw[: width - 1] + "…"


def rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}/s"
    if value >= 10:
        return f"{value:.1f}/s"
    return f"{value:.2f}/s"


def delta(value: int) -> str:
    return f"{value:+,}" if value else ""


def number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def shown_name(name: str, width: int, typed_prefix: str = "") -> str:
    """A stat name cut to `width`. When it does not fit and starts with the prefix the user
    typed, that prefix goes first ("…" stands for it): the rest is what tells rows apart.
    An Istio cluster's stat keeps its direction, port and subset and the stat's own name,
    and gives up the service's FQDN (`.svc.cluster.local` first, then its middle)."""
    if len(name) <= width:
        return name
    if len(typed_prefix) > 8 and name.startswith(typed_prefix):
        return "…" + name[-(width - 1) :] if width > 1 else name[:width]
    parts = _istio_cluster_stat(name)
    if parts is not None:
        head, fqdn, stat = parts
        if len(head) + len(fqdn) + len(stat) > width:
            fqdn = fqdn.removesuffix(MESH_SUFFIX)  # what every in-mesh service ends with
        if len(head) + len(fqdn) + len(stat) > width:
            head = "…" + head.removeprefix("cluster.")  # what every such row starts with
        room = width - len(head) - len(stat)
        if fqdn and room < 4:  # the service's first letters at least: an empty one reads as inbound
            stat = middle_truncate(stat, max(len(stat) - (4 - room), 6))
            room = width - len(head) - len(stat)
        if room >= (4 if fqdn else 0):
            # the service's name (its first label) before its namespace
            return head + (fqdn if len(fqdn) <= room else fqdn[: room - 1] + "…") + stat
        if width > len(head) + 8 and not fqdn:
            return head + middle_truncate(stat, width - len(head))
    return middle_truncate(name, width)


MESH_SUFFIX = ".svc.cluster.local"
# cluster.<direction>|<port>|<subset>|<fqdn>.<stat>: Istio's cluster names (the fqdn may
# be empty, as in inbound|8080||, or a service name ending in .svc.cluster.local)
_CLUSTER = re.compile(r"^(cluster\.[^|]*\|\d+\|[^|]*\|)(.*)$")


def _istio_cluster_stat(name: str) -> tuple[str, str, str] | None:
    """(`cluster.outbound|80||`, `catalog.istioinaction.svc.cluster.local`, `.upstream_rq_2xx`)"""
    m = _CLUSTER.match(name)
    if m is None:
        return None
    head, rest = m.groups()
    if rest.startswith("."):
        return head, "", rest
    end = rest.find(MESH_SUFFIX + ".")
    if end < 0:
        return None  # where a non-mesh FQDN ends and the stat begins cannot be told
    end += len(MESH_SUFFIX)
    return head, rest[:end], rest[end:]


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int) -> str:
    """One character per sample, scaled from 0 (not from the minimum: steady is flat, not noise)."""
    values = values[-width:] if width > 0 else []
    top = max(values, default=0.0)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(int(max(v, 0.0) / top * (len(BARS) - 1) + 0.5), len(BARS) - 1)] for v in values)
