"""Config tab budget: a real Envoy with 2,000 clusters of 3 endpoints each (a gateway's size),
its Endpoints section (6,000 rows) answering keys in under 50 ms, key event to repainted screen.

Keys: cursor moves (which also redraw the JSON tree of the row), filter typing, and the
section keys `[` `]` from Endpoints to its neighbours and back, each timed from posting the
Key event to the next screen update after the app handled it (bench/timing.py).
Run: `.venv/bin/python bench/config_keys.py` (about a minute).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import TabbedContent, Tabs

sys.path.insert(0, str(Path(__file__).parent))
from clusters_keys import N_CLUSTERS, N_ENDPOINTS, run_on_big_envoy, type_filter
from meshtui.ui.app import MeshtuiApp, Options
from timing import key_figures, timed_key

BUDGET_MS = 50
PROFILE = "--profile" in sys.argv  # section keys under cProfile, to /tmp/config_keys.prof


async def measure(admin_url: str) -> dict[str, object]:
    app = MeshtuiApp(Options(admin=admin_url, interval=1.0))
    out: dict[str, list[float]] = {"cursor": [], "filter": [], "section": []}
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.query_one(TabbedContent).active = "tab-config"
        pane = app.config
        for _ in range(1200):
            if pane.doc is not None:
                break
            await asyncio.sleep(0.05)
        pane.query_one(Tabs).active = "section-endpoints"
        for _ in range(200):
            if pane.section == "endpoints" and len(pane.table.rows):
                break
            await asyncio.sleep(0.05)
        rows = len(pane.table.rows)
        pane.table.focus()
        await pilot.pause()
        for _ in range(20):
            before = pane.table.cursor
            out["cursor"].append(
                await timed_key(app, "down", None, lambda b=before: pane.table.cursor == b + 1)
            )
            await asyncio.sleep(0.1)
        for key, char in (
            ("right_square_bracket", "]"),
            ("left_square_bracket", "["),
            ("left_square_bracket", "["),
            ("right_square_bracket", "]"),
        ):
            before = pane.section
            out["section"].append(await timed_key(app, key, char, lambda b=before: pane.section != b))
            await asyncio.sleep(0.2)
        assert pane.section == "endpoints", pane.section
        if PROFILE:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            for key, char in (("left_square_bracket", "["), ("right_square_bracket", "]")) * 3:
                before = pane.section
                await timed_key(app, key, char, lambda b=before: pane.section != b)
                await asyncio.sleep(0.2)
            prof.disable()
        if PROFILE:
            prof.enable()
        out["filter"] = await type_filter(app, pane, "#config-filter", "svc-19")
        if PROFILE:
            prof.disable()
            prof.dump_stats("/tmp/config_keys.prof")
    return {
        "clusters": N_CLUSTERS,
        "endpoints_per_cluster": N_ENDPOINTS,
        "endpoint_rows": rows,
        **key_figures(out),
        "section_keys_ms": [round(ms, 1) for ms in out["section"]],  # secrets, endpoints, routes, endpoints
        "filter_keys_ms": [round(ms, 1) for ms in out["filter"]],
    }


def main() -> int:
    return run_on_big_envoy(measure, BUDGET_MS)


if __name__ == "__main__":
    sys.exit(main())
