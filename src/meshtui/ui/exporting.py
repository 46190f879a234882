"""What the focused pane shows, as text (exactly what is on screen) and as JSON records.

The text is the pane's region of the rendered screen, so it matches what the user sees.
The JSON holds every row the pane lists under its current filter and sort (not only the
visible ones), in the pane's own columns; a pane without a table gives its text lines.
"""

from __future__ import annotations

import io
import time
from typing import Any

from rich.console import Console
from textual.app import App
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, TabPane

from meshtui.ui.textual_compat import screen_render
from meshtui.ui.widgets.clusters import CLUSTER_COLUMNS, ClustersPane, cluster_row
from meshtui.ui.widgets.pods import PodsPane
from meshtui.ui.widgets.rows_view import RowsView
from meshtui.ui.widgets.stats import StatsPane


def focused_pane(app: App[Any]) -> Widget | None:
    """The pane holding the focus: the child of a tab, of the Proxies layout or of a place."""
    node = app.focused
    while node is not None:
        parent = node.parent
        if isinstance(parent, TabPane) or (isinstance(parent, Widget) and parent.has_class("place")):
            return node
        if isinstance(parent, Horizontal) and parent.id == "main":
            return node
        node = parent if isinstance(parent, Widget) else None
    return None


def pane_name(pane: Widget) -> str:
    return pane.id or type(pane).__name__.lower()


def screen_lines(app: App[Any]) -> list[str]:
    """The screen as plain text lines, rendered the way App.export_screenshot renders it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        legacy_windows=False,
        safe_box=False,
        color_system=None,
    )
    console.print(screen_render(app))
    return console.export_text(styles=False).splitlines()


def pane_text(app: App[Any], pane: Widget) -> str:
    region = pane.region
    lines = screen_lines(app)[region.y : region.y + region.height]
    return "\n".join(line[region.x : region.x + region.width].rstrip() for line in lines).rstrip() + "\n"


def pane_document(app: App[Any], pane: Widget) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "pane": pane_name(pane),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    source = getattr(pane, "endpoint_label", "")
    if source:
        doc["source"] = source
    if isinstance(pane, StatsPane):
        doc["filter"] = pane.table.filter.text if pane.table.filter else ""
        doc["rows"] = _stats_rows(pane)
    elif isinstance(pane, ClustersPane):
        doc["rows"] = _cluster_rows(pane)
        doc["endpoints"] = {"cluster": pane.current, "rows": _table_rows(pane.hosts)}
    elif isinstance(pane, PodsPane):
        doc["rows"] = [pane.table.record(key) for key in pane.table.rows]
    else:
        # any other pane: its focused table, else its first table, else the text it shows
        inside = [pane, *pane.query("*")]
        views = [v for v in inside if isinstance(v, RowsView) and v.display]
        tables = [t for t in inside if isinstance(t, DataTable) and t.display]
        focused = app.focused
        if isinstance(focused, RowsView | DataTable) and focused in [*views, *tables]:
            views, tables = ([focused], []) if isinstance(focused, RowsView) else ([], [focused])
        if views:
            doc["header"], doc["rows"] = _view_rows(views[0])
        elif tables:
            doc["rows"] = _table_rows(tables[0])
        else:
            doc["lines"] = pane_text(app, pane).splitlines()
    return doc


def selected_text(app: App[Any]) -> str | None:
    """The focused row as one line of text: a stat `name value`, a cluster, a table row."""
    focused = app.focused
    pane = focused_pane(app)
    if isinstance(focused, RowsView) and focused.current is not None:
        key = focused.current
        if isinstance(pane, StatsPane) and pane.table.snapshot is not None:
            value = pane.table.snapshot.values.get(key, "")
            return f"{key} {value}".rstrip()
        if isinstance(pane, PodsPane):
            return "\t".join(pane.table.record(key).values())
        return key
    if isinstance(focused, DataTable) and focused.row_count:
        row = focused.get_row_at(focused.cursor_row)
        return "\t".join(_plain(c) for c in row)
    return None


def _stats_rows(pane: StatsPane) -> list[dict[str, Any]]:
    snap = pane.table.snapshot
    if snap is None:
        return []
    rows = []
    for name in pane.table.rows:
        rows.append(
            {
                "name": name,
                "kind": str(getattr(snap.kind(name), "value", snap.kind(name))),
                "value": snap.values.get(name, ""),
                "delta": snap.deltas.get(name, 0),
                "rate_per_s": snap.rates.get(name),
                "reset": name in snap.resets,
            }
        )
    return rows


def _cluster_rows(pane: ClustersPane) -> list[dict[str, Any]]:
    snap = pane.table.snapshot
    if snap is None:
        return []
    out = []
    for name in pane.table.rows:
        cluster = snap.by_name(name)
        if cluster is not None:
            cells = cluster_row(cluster, snap)
            out.append({"cluster": name, **dict(zip(CLUSTER_COLUMNS, cells, strict=True))})
    return out


def _view_rows(view: RowsView) -> tuple[str, list[dict[str, str]]]:
    """A Line-API table's header and every row (not only the painted ones), as it paints them."""
    width = max(view.size.width, 80)
    rows = []
    for key in view.rows:
        text = "".join(segment.text for segment in view.row_segments(key, width)).rstrip()
        rows.append({"key": key, "text": text})
    return view.header_text(width).rstrip(), rows


def _table_rows(table: DataTable[Any]) -> list[dict[str, str]]:
    labels = [_plain(c.label) or str(key.value) for key, c in table.columns.items()]
    return [
        dict(zip(labels, (_plain(c) for c in table.get_row_at(i)), strict=True))
        for i in range(table.row_count)
    ]


def _plain(cell: object) -> str:
    return str(getattr(cell, "plain", cell))
