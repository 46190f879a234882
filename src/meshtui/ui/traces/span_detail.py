"""The selected span in full: operation, service, start offset, duration, ids, how it
hangs in the tree (CHILD_OF / FOLLOWS_FROM / missing parent), tags, process tags, logs,
references and warnings; an error span says so first."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from meshtui.jaeger.model import KeyValue
from meshtui.jaeger.text import fmt_us, relation
from meshtui.jaeger.tree import SpanNode, TraceTree


def _kvs(text: Text, title: str, kvs: tuple[KeyValue, ...]) -> None:
    if not kvs:
        return
    text.append(f"\n{title}\n", style="bold")
    width = min(max(len(kv.key) for kv in kvs), 40)
    for kv in kvs:
        style = (
            "bold red" if kv.key in ("error", "otel.status_code") and kv.text() in ("true", "ERROR") else ""
        )
        text.append(f"  {kv.key:<{width}}  ", style="dim")
        text.append(kv.text() + "\n", style=style)


def span_text(tree: TraceTree, node: SpanNode) -> Text:
    s = node.span
    text = Text()
    if s.is_error:
        text.append("ERROR  ", style="bold red")
    text.append(f"{s.service}: ", style="bold")
    text.append(f"{s.operation}\n")
    text.append("start ", style="dim")
    text.append(f"+{fmt_us(node.offset_us)}")
    text.append("   duration ", style="dim")
    text.append(fmt_us(node.duration_us))
    text.append("   span ", style="dim")
    text.append(s.span_id)
    if node.skew_us:
        text.append(f"   clock skew corrected by {fmt_us(abs(node.skew_us))}", style="yellow")
    rel = relation(node)
    if rel:
        text.append("\n" + rel, style="yellow" if node.missing_parent else "")
    _kvs(text, "Tags", s.tags)
    _kvs(text, "Process", s.process_tags)
    if s.logs:
        text.append("\nLogs\n", style="bold")
        for log in s.logs:
            at = fmt_us(max(0, log.timestamp_us - tree.start_us))
            fields = "  ".join(f"{f.key}={f.text()}" for f in log.fields)
            text.append(f"  +{at}  {fields}\n")
    if s.references:
        text.append("\nReferences\n", style="bold")
        for r in s.references:
            text.append(f"  {r.ref_type}  span {r.span_id}  trace {r.trace_id}\n")
    for w in s.warnings:
        text.append(f"\nwarning: {w}", style="yellow")
    return text


class SpanDetail(VerticalScroll):
    DEFAULT_CSS = """
    SpanDetail { height: 12; max-height: 45%; border-top: solid $primary-background; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="span-detail-text")

    def show(self, tree: TraceTree | None, node: SpanNode | None) -> None:
        body = self.query_one("#span-detail-text", Static)
        body.update(span_text(tree, node) if tree and node else "")
        self.scroll_home(animate=False)
