"""The span tree of one trace, as Jaeger UI draws its waterfall, and trace summaries.

A span hangs from its first same-trace CHILD_OF reference, else its first reference
(FOLLOWS_FROM included), as jaeger-ui's `getTraceSpanIdsAsTree` does; siblings are
ordered by start time. A span whose parent is not in the trace stays visible: it is
attached at the root and marked. Clock skew is corrected the way Jaeger's ClockSkew
adjuster does it (jaegertracing/jaeger
cmd/jaeger/internal/extension/jaegerquery/internal/adjuster/clockskew.go): a CHILD_OF
span from another service that does not fit inside its parent is shifted into it, and
its same-service descendants move with it -- so no offset is negative and no bar
leaves the trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from meshtui.jaeger.model import CHILD_OF, Trace, TraceSpan, norm_id


class SpanNode(NamedTuple):
    span: TraceSpan
    key: str  # unique in the trace: the span id, `#n` added to a duplicate
    parent: str | None  # key of the span it hangs from; None at the root level
    ref_type: str | None  # CHILD_OF or FOLLOWS_FROM: how it hangs from `parent`
    missing_parent: str | None  # the span id it references that the trace does not have
    depth: int
    offset_us: int  # start after skew correction, from the trace's start; never negative
    duration_us: int
    skew_us: int  # how far the clock-skew correction moved it
    children: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TraceTree:
    trace_id: str
    start_us: int
    duration_us: int
    nodes: tuple[SpanNode, ...]  # depth-first, the waterfall's order
    index: dict[str, int]  # key -> position in `nodes`

    def node(self, key: str) -> SpanNode:
        return self.nodes[self.index[key]]


@dataclass(frozen=True, slots=True)
class TraceSummary:
    trace_id: str
    start_us: int
    duration_us: int
    root_service: str
    root_operation: str
    span_count: int
    services: tuple[tuple[str, int], ...]  # (service, spans), most spans first
    error_count: int


def _parent_ref(span: TraceSpan, ids: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """(parent key, ref type, missing span id) for one span."""
    refs = span.references
    if not refs:
        return None, None, None
    if len(refs) == 1:  # the common case: no search for the CHILD_OF one
        ref = refs[0]
    else:
        tid = norm_id(span.trace_id)
        ref = next((r for r in refs if r.ref_type == CHILD_OF and norm_id(r.trace_id) == tid), refs[0])
    key = ids.get(norm_id(ref.span_id))
    if key is None:
        return None, ref.ref_type, ref.span_id
    return key, ref.ref_type, None


def build_tree(trace: Trace) -> TraceTree:
    spans: dict[str, TraceSpan] = {}
    ids: dict[str, str] = {}  # normalized span id -> key of its first span
    for span in trace.spans:
        nid = norm_id(span.span_id)
        key = nid if nid not in spans else f"{nid}#{len(spans)}"
        spans[key] = span
        ids.setdefault(nid, key)
    parent: dict[str, str | None] = {}
    ref_type: dict[str, str | None] = {}
    missing: dict[str, str | None] = {}
    for key, span in spans.items():
        p, rt, miss = _parent_ref(span, ids)
        if p == key:  # a span referencing itself hangs at the root
            p, miss = None, span.span_id
        parent[key], ref_type[key], missing[key] = p, rt, miss
    children: dict[str | None, list[str]] = {}
    for key in spans:
        children.setdefault(parent[key], []).append(key)
    for kids in children.values():
        kids.sort(key=lambda k: (spans[k].start_us, k))

    order: list[tuple[str, int]] = []
    seen: set[str] = set()

    def walk(root: str) -> None:
        stack = [(root, 0)]
        while stack:
            key, depth = stack.pop()
            seen.add(key)
            order.append((key, depth))
            stack.extend((k, depth + 1) for k in reversed(children.get(key, [])))

    for key in children.get(None, []):
        walk(key)
    while len(seen) < len(spans):  # reference cycles: break each at its earliest span
        loose = min((k for k in spans if k not in seen), key=lambda k: (spans[k].start_us, k))
        old = parent[loose]
        children[old].remove(loose)
        parent[loose], missing[loose] = None, spans[loose].references[0].span_id
        children.setdefault(None, []).append(loose)
        walk(loose)

    start: dict[str, int] = {}
    skew: dict[str, int] = {}
    for key, _ in order:
        span, p = spans[key], parent[key]
        delta = skew[p] if p is not None and spans[p].service == span.service else 0
        s = span.start_us + delta
        if p is not None and ref_type[key] == CHILD_OF and spans[p].service != span.service:
            ps, pd = start[p], spans[p].duration_us
            if s < ps or s + span.duration_us > ps + pd:
                fitted = ps if span.duration_us >= pd else min(max(s, ps), ps + pd - span.duration_us)
                delta += fitted - s
                s = fitted
        start[key], skew[key] = s, delta
    t0 = min(start.values(), default=0)
    t1 = max((start[k] + spans[k].duration_us for k in spans), default=0)
    no_children: tuple[str, ...] = ()
    nodes = tuple(
        [
            SpanNode(  # positional: 5,000 of these per big trace
                spans[key],
                key,
                parent[key],
                ref_type[key],
                missing[key],
                depth,
                start[key] - t0,
                spans[key].duration_us,
                skew[key],
                tuple(children[key]) if key in children else no_children,
            )
            for key, depth in order
        ]
    )
    return TraceTree(trace.trace_id, t0, t1 - t0, nodes, {n.key: i for i, n in enumerate(nodes)})


def summarize(trace: Trace, tree: TraceTree | None = None) -> TraceSummary:
    """`tree`: the trace's built tree, if at hand (else it is built here for its times)."""
    spans = trace.spans
    if not spans:
        return TraceSummary(trace.trace_id, 0, 0, "", "", 0, (), 0)
    # start and duration as the waterfall has them: earliest start to latest end after the
    # clock-skew adjustment, as Jaeger UI computes them from the adjusted spans the query
    # service returns (jaegertracing/jaeger-ui packages/jaeger-ui/src/model/transform-trace-data.tsx)
    tree = tree if tree is not None else build_tree(trace)
    # Jaeger UI names a trace after its root: the span without references, else the earliest
    root = next((s for s in spans if not s.references), None) or min(spans, key=lambda s: s.start_us)
    counts: dict[str, int] = {}
    for s in spans:
        counts[s.service] = counts.get(s.service, 0) + 1
    return TraceSummary(
        trace_id=trace.trace_id,
        start_us=tree.start_us,
        duration_us=tree.duration_us,
        root_service=root.service,
        root_operation=root.operation,
        span_count=len(spans),
        services=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        error_count=sum(1 for s in spans if s.is_error),
    )
