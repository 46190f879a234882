"""Number and name formatting shared by the widgets."""

from __future__ import annotations


def middle_truncate(text: str, width: int) -> str:
    """Keep both ends of a long stat name: the cluster at the front, the stat at the back."""
    if len(text) <= width:
        return text
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
    typed, that prefix goes first ("…" stands for it): the rest is what tells rows apart."""
    if len(name) > width and len(typed_prefix) > 8 and name.startswith(typed_prefix):
        return "…" + name[-(width - 1) :] if width > 1 else name[:width]
    return middle_truncate(name, width)


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int) -> str:
    """One character per sample, scaled from 0 (not from the minimum: steady is flat, not noise)."""
    values = values[-width:] if width > 0 else []
    top = max(values, default=0.0)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(int(max(v, 0.0) / top * (len(BARS) - 1) + 0.5), len(BARS) - 1)] for v in values)
