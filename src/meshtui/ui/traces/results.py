"""The Traces place's results table: one keyed row per trace found."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from meshtui.jaeger.text import fmt_start, fmt_us
from meshtui.ui.traces.messages import Found
from meshtui.ui.widgets.table import Table

# the 32-character trace id comes last: at 80 columns it pushed Errors off the screen (Jaeger
# UI too puts the id after the trace's name); the trace's title shows it in full
COLUMNS = (
    ("Start", "start"),
    ("Duration", "duration"),
    ("Spans", "spans"),
    ("Errors", "errors"),
    ("Root", "root"),
    ("Services", "services"),
    ("Trace", "trace"),
)


def add_result_columns(table: DataTable) -> None:
    for label, key in COLUMNS:
        table.add_column(label, key=key)


def fill_results(table: Table, found: dict[str, Found], sort_by: str) -> None:
    """Keyed rows: new traces added, gone ones removed, kept ones updated in place."""
    table.sync({tid: _cells(tid, f) for tid, f in found.items()})
    if sort_by == "duration":
        table.sort("trace", key=lambda tid: -found[tid].summary.duration_us)
    else:
        table.sort("trace", key=lambda tid: -found[tid].summary.start_us)


def _cells(tid: str, found: Found) -> tuple[object, ...]:
    s = found.summary
    errors = Text(str(s.error_count), style="bold red") if s.error_count else Text("0")
    return (
        fmt_start(s.start_us),
        fmt_us(s.duration_us),
        str(s.span_count),
        errors,
        f"{s.root_service}: {s.root_operation}",
        " ".join(f"{name}({n})" for name, n in s.services),
        tid,
    )
