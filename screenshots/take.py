"""Take the README's screenshots of the real app on the demo mesh (real Envoys).

Run: `.venv/bin/python screenshots/take.py` (about 30 s). Writes SVGs next to this file.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from meshtui.demo.run import start_mesh
from meshtui.ui.app import MeshtuiApp, Options

HERE = Path(__file__).parent
RQ_TOTAL = "cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_total"


async def until(cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the app did not get there")


async def shoot(kubeconfig: str, size: tuple[int, int], name: str, help_screen: bool = False) -> None:
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=size) as pilot:
        await until(lambda: any("webapp" in k for k in app.pods._shown))
        key = next(k for k in app.pods._shown if "webapp" in k)
        app.pods.table.move_cursor(row=app.pods.table.get_row_index(key))
        app.pods.table.focus()
        await pilot.press("enter")
        await until(lambda: app.stats.table.rows and "webapp" in app.stats.endpoint_label)
        app.stats.table.focus()
        await pilot.press("slash", *"cluster.outbound|80||catalog", "enter", "o")
        await until(lambda: app.stats.table.snapshot and RQ_TOTAL in app.stats.table.snapshot.rates)
        table = app.stats.table
        table._move_to(table.rows.index(RQ_TOTAL))
        await asyncio.sleep(8)  # a few polls, so the sparkline has a shape
        if help_screen:
            await pilot.press("question_mark")
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)


def main() -> int:
    with start_mesh(rate=4.0) as mesh:
        asyncio.run(shoot(mesh.kubeconfig, (160, 48), "main-160x48.svg"))
        asyncio.run(shoot(mesh.kubeconfig, (80, 24), "main-80x24.svg"))
        asyncio.run(shoot(mesh.kubeconfig, (120, 40), "help-120x40.svg", help_screen=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
