"""RowsView repaints only the lines whose content changed (`repaint_changed`), and never
leaves a changed line unpainted: after any sequence of new rows, new values, cursor moves
and scrolls, the terminal shows exactly what a full repaint would."""

from __future__ import annotations

import random

from rich.segment import Segment
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App, ComposeResult

from meshtui.ui.widgets.rows_view import RowsView

KEYS = [f"stat.{i:03d}" for i in range(200)]


class Numbers(RowsView):
    def __init__(self) -> None:
        super().__init__(id="numbers")
        self.values: dict[str, int] = {}
        self.painted_lines: list[int] = []

    def header_text(self, width: int) -> str:
        return f"NAME ({len(self.rows)} rows)"

    def row_segments(self, key: str, width: int) -> list[Segment]:
        return [Segment(f"{key:<12}"), Segment(f"{self.values.get(key, 0):>8}")]

    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        self.painted_lines.append(y)
        return super().render_line(y)

    def set_value(self, key: str, value: int) -> None:
        self.values[key] = value
        self.repaint_changed()


class RowsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Numbers()


class Terminal:
    """Each cell's character and background, as the updates Textual sends leave them."""

    def __init__(self, app: App[None]) -> None:
        self.cells = [[(" ", None)] * app.size.width for _ in range(app.size.height)]
        display = app._display

        def capture(screen, update) -> None:  # type: ignore[no-untyped-def]
            if isinstance(update, LayoutUpdate):
                for dy, line in enumerate(update.strips):
                    segments = [seg for strip in line for seg in strip]
                    self.put(update.region.x, update.region.y + dy, segments, 0, 10**6)
            elif isinstance(update, ChopsUpdate):
                for y, x1, x2 in update.spans:
                    for x, strip in update.chops[y].items():
                        if strip is not None:
                            self.put(x, y, strip, x1, x2)
            display(screen, update)

        app._display = capture  # type: ignore[method-assign]

    def put(self, x: int, y: int, segments, x1: int, x2: int) -> None:  # type: ignore[no-untyped-def]
        for seg in segments:
            for ch in seg.text:
                if x1 <= x < min(x2, len(self.cells[y])):
                    self.cells[y][x] = (ch, seg.style.bgcolor if seg.style else None)
                x += 1


def expected(view: Numbers) -> tuple[list[str], int | None]:
    """The view's lines worked out from its rows, values, scroll and cursor alone, and the
    line the cursor is on."""
    width = view.scrollable_content_region.width
    top = int(view.scroll_y)
    lines = [f"NAME ({len(view.rows)} rows)".ljust(width)[:width]]
    cursor_line = None
    for y in range(1, view.size.height):
        index = top + y - 1
        if index < len(view.rows):
            key = view.rows[index]
            lines.append(f"{key:<12}{view.values.get(key, 0):>8}".ljust(width))
            if index == view.cursor:
                cursor_line = y
        else:
            lines.append(" " * width)
    return lines, cursor_line


def on_screen(term: Terminal, view: Numbers) -> tuple[list[str], list[object]]:
    r = view.scrollable_content_region
    rows = term.cells[r.y : r.bottom]
    return ["".join(c for c, _ in row[r.x : r.right]) for row in rows], [row[r.x][1] for row in rows]


async def test_the_screen_always_shows_what_a_full_repaint_would() -> None:
    rng = random.Random(11)
    app = RowsApp()
    async with app.run_test(size=(40, 14)) as pilot:
        term = Terminal(app)
        view = app.query_one(Numbers)
        view.focus()
        view.set_rows(KEYS[:50])
        await pilot.pause()
        did: list[str] = []
        for step in range(150):
            op = rng.choice(["rows", "value", "value", "cursor", "page", "scroll", "jump"])
            if op == "rows":
                view.set_rows(sorted(rng.sample(KEYS, rng.choice([0, 3, 12, 40, 120]))))
            elif op == "value":
                view.set_value(rng.choice(list(view.rows) or KEYS), rng.randrange(1000))
            elif op == "cursor":
                view.action_cursor(rng.choice([-1, 1]))
            elif op == "page":
                view.action_page(rng.choice([-1, 1]))
            elif op == "jump":
                view.action_jump(rng.choice([0, -1]))
            else:
                view.scroll_to(y=rng.randrange(max(len(view.rows) - 5, 1)), animate=False)
            did.append(op)
            await pilot.pause()
            await pilot.pause()
            want, cursor_line = expected(view)
            got, backgrounds = on_screen(term, view)
            assert got == want, f"step {step}, after {did[-4:]}"
            if cursor_line is not None:
                cursor_bg = backgrounds[cursor_line]
                rows = [y for y in range(1, len(got)) if y != cursor_line and got[y].strip()]
                others = [backgrounds[y] for y in rows]
                assert cursor_bg is not None and cursor_bg not in others, f"step {step}: the cursor's line"


async def test_a_value_change_repaints_its_line_only() -> None:
    app = RowsApp()
    async with app.run_test(size=(40, 14)) as pilot:
        view = app.query_one(Numbers)
        view.set_rows(KEYS[:50])
        await pilot.pause()
        await pilot.pause()
        view.painted_lines.clear()
        view.set_value(KEYS[3], 42)  # on line 4 (the header is line 0)
        await pilot.pause()
        await pilot.pause()
        assert view.painted_lines == [4]
        view.painted_lines.clear()
        view.set_value(KEYS[45], 7)  # below the fold: nothing to paint
        await pilot.pause()
        assert view.painted_lines == []


async def test_a_narrower_selection_with_the_same_first_rows_repaints_the_header_only() -> None:
    # what a filter key mostly does: a longer prefix, the same names on screen
    app = RowsApp()
    async with app.run_test(size=(40, 14)) as pilot:
        view = app.query_one(Numbers)
        view.set_rows(KEYS[:100])  # a scrollbar comes, the rows get narrower
        await pilot.pause()
        await pilot.pause()
        view.painted_lines.clear()
        view.set_rows(KEYS[:60])
        await pilot.pause()
        await pilot.pause()
        assert view.painted_lines == [0]
