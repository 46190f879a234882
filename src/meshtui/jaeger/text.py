"""Traces as plain text and JSON records: the headless commands print these, and the
pane uses the same duration and time formats."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from meshtui.jaeger.tree import SpanNode, TraceSummary, TraceTree


def fmt_us(us: float) -> str:
    """Durations as Jaeger UI prints them: 850µs, 12.34ms, 1.5s."""
    if us < 1000:
        return f"{us:.0f}µs"
    if us < 1_000_000:
        return f"{us / 1000:.2f}ms"
    if us < 60_000_000:
        return f"{us / 1e6:.2f}s"
    return f"{us / 60e6:.1f}m"


def fmt_start(us: int, local: bool = True) -> str:
    try:
        t = datetime.fromtimestamp(us / 1e6, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return "?"
    return (t.astimezone() if local else t).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def iso(us: int) -> str:
    try:
        return datetime.fromtimestamp(us / 1e6, timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return ""


def relation(node: SpanNode) -> str:
    """How a span hangs in the tree, in words, for the detail and the headless waterfall."""
    if node.missing_parent:
        return f"parent {node.missing_parent} is not in the trace"
    if node.parent is None:
        return ""
    parent_id = node.parent.split("#")[0]
    return ("follows from " if node.ref_type == "FOLLOWS_FROM" else "child of ") + parent_id


def span_record(tree: TraceTree, node: SpanNode) -> dict[str, Any]:
    parent = tree.node(node.parent).span.span_id if node.parent else None
    return {
        "spanID": node.span.span_id,
        "parentSpanID": parent,
        "refType": node.ref_type if parent else None,
        "missingParent": node.missing_parent,
        "depth": node.depth,
        "service": node.span.service,
        "operation": node.span.operation,
        "offsetUs": node.offset_us,
        "durationUs": node.duration_us,
        "error": node.span.is_error,
    }


def summary_record(summary: TraceSummary, tree: TraceTree) -> dict[str, Any]:
    return {
        "traceID": summary.trace_id,
        "start": iso(summary.start_us),
        "startUs": summary.start_us,
        "durationUs": summary.duration_us,
        "rootService": summary.root_service,
        "rootOperation": summary.root_operation,
        "spanCount": summary.span_count,
        "errorCount": summary.error_count,
        "services": dict(summary.services),
        "spans": [span_record(tree, n) for n in tree.nodes],
    }


def waterfall_lines(tree: TraceTree, summary: TraceSummary) -> list[str]:
    """One line per span, indented by depth, with its offset from the trace start and
    its duration: `meshtui trace`'s output."""
    head = (
        f"trace {summary.trace_id}  {fmt_start(summary.start_us)}  {fmt_us(tree.duration_us)}  "
        f"{summary.span_count} spans  {summary.error_count} errors"
    )
    lines = [head, f"{'OFFSET':>10}  {'DURATION':>10}  SPAN"]
    for n in tree.nodes:
        rel = relation(n)
        mark = " !error" if n.span.is_error else ""
        lines.append(
            f"{fmt_us(n.offset_us):>10}  {fmt_us(n.duration_us):>10}  {'  ' * n.depth}"
            f"{n.span.service}: {n.span.operation} [{n.span.span_id}]{mark}" + (f" ({rel})" if rel else "")
        )
    return lines
