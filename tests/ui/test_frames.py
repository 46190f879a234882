"""The main screen paints through a FramePacer: at once when the last paint is a frame
old, never twice within a frame, and Textual does hand it its repaints."""

from __future__ import annotations

import asyncio

from textual._compositor import ChopsUpdate
from textual.app import App, ComposeResult
from textual.widgets import Static

from helpers.wait import until
from meshtui.ui.app import MeshtuiApp
from meshtui.ui.frames import FramePacer, PacedScreen
from meshtui.ui.options import Options

PERIOD = 0.05


async def test_a_paint_after_a_quiet_spell_comes_on_the_next_loop_turn() -> None:
    loop = asyncio.get_running_loop()
    painted: list[float] = []
    pacer = FramePacer(lambda: painted.append(loop.time()), PERIOD)
    asked = loop.time()
    pacer.resume()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(painted) == 1
    assert painted[0] - asked < PERIOD / 2  # no wait for a timer's grid point


async def test_paints_are_a_frame_apart_and_a_pending_one_is_not_doubled() -> None:
    loop = asyncio.get_running_loop()
    painted: list[float] = []
    pacer = FramePacer(lambda: painted.append(loop.time()), PERIOD)
    pacer.resume()
    await until(lambda: len(painted) == 1, 2, "the first paint")
    pacer.resume()
    pacer.resume()  # asked again before the frame: still one paint
    await until(lambda: len(painted) == 2, 2, "the second paint")
    assert painted[1] - painted[0] >= PERIOD * 0.99
    pacer.resume()
    await until(lambda: len(painted) == 3, 2, "the third paint")
    assert painted[2] - painted[1] >= PERIOD * 0.99
    assert pacer.paints == 3


async def test_pause_drops_a_pending_paint() -> None:
    loop = asyncio.get_running_loop()
    painted: list[float] = []
    pacer = FramePacer(lambda: painted.append(loop.time()), PERIOD)
    pacer.resume()
    await until(lambda: painted, 2, "the first paint")
    pacer.resume()  # due a frame later
    pacer.pause()
    resumed = loop.time()
    pacer.resume()  # and asked again: paints once, a frame after the first
    await until(lambda: len(painted) == 2, 2, "the second paint")
    assert painted[1] >= resumed
    assert pacer.paints == 2


class Counter(App[None]):
    BINDINGS = [("x", "bump", "Bump")]

    def get_default_screen(self) -> PacedScreen:
        return PacedScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Static("0", id="n")

    def action_bump(self) -> None:
        n = self.query_one("#n", Static)
        n.update(str(int(str(n.render())) + 1))


async def test_textual_paints_the_screen_through_the_pacer() -> None:
    app = Counter()
    async with app.run_test(size=(20, 3)) as pilot:
        screen = app.screen
        assert isinstance(screen, PacedScreen)
        await pilot.pause()
        shown: list[str] = []
        display = app._display

        def capture(target, update) -> None:  # type: ignore[no-untyped-def]
            if isinstance(update, ChopsUpdate):
                shown.extend(s.text.strip() for line in update.chops for s in line.values() if s)
            display(target, update)

        app._display = capture  # type: ignore[method-assign]
        before = screen.pacer.paints
        await pilot.press("x", "x", "x")
        await until(lambda: "3" in shown, 2, "the count painted")
        assert screen.pacer.paints > before


def test_meshtui_uses_the_paced_screen() -> None:
    assert isinstance(MeshtuiApp(Options()).get_default_screen(), PacedScreen)
