"""The Textual private hooks meshtui relies on (ui/textual_compat.py) still exist with the
shape it uses: a Textual release that renames or reshapes one fails here, by name, rather
than as a slower key or a blank export somewhere else."""

from __future__ import annotations

import inspect

from textual.app import App
from textual.screen import Screen
from textual.widgets import Footer, Input

from helpers.wait import until
from meshtui.ui import textual_compat
from meshtui.ui.keymap import binding_id, known_ids
from meshtui.ui.textual_compat import FOOTER_HOOKS, ORDERED_KEYS, PAINT_HOOKS, KeysFooter


def test_the_screen_paints_through_the_hooks_the_pacer_overrides():
    assert PAINT_HOOKS, "Screen._update_timer / Screen._on_timer_update changed: see ui/textual_compat.py"
    source = inspect.getsource(Screen)
    # Textual resumes and pauses the timer through the property, not the attribute behind it
    assert "self._update_timer.resume()" in source and "self._update_timer.pause()" in source
    assert not inspect.signature(Screen._on_timer_update).parameters.keys() - {"self"}
    assert callable(getattr(App, "_handle_exception", None))


def test_an_inputs_own_bindings_can_run_as_its_keys_arrive():
    # BindingsMap.key_to_bindings and apply_keymap: OrderedInput runs ctrl+u, backspace and
    # the arrows in the order typed (tests/external/test_tmux_keys.py sends them in one burst)
    assert ORDERED_KEYS, "BindingsMap changed: see ui/textual_compat.py (4.)"


def test_input_grows_its_virtual_width_in_watch_value():
    source = inspect.getsource(Input._watch_value)
    assert "virtual_size" in source, "Input._watch_value no longer sets the width the filter box quiets"


def test_the_compositor_renders_the_whole_screen_for_exports():
    from textual._compositor import Compositor

    parameters = inspect.signature(Compositor.render_update).parameters
    assert {"full", "screen_stack"} <= set(parameters)
    assert isinstance(App._background_screens, property)
    assert callable(textual_compat.screen_render)


def test_every_binding_spells_out_its_id_by_the_rule():
    """Explicit ids (as posting does): the config file's [keys] names, in the README, hold."""
    import meshtui.ui.app  # noqa: F401  every widget module with bindings
    from meshtui.ui.keymap import _meshtui_classes
    from meshtui.ui.options import Options
    from meshtui.ui.views import PLACES, POD_TABS

    for view in (*POD_TABS, *PLACES):  # the lazily imported widgets too
        if view.make is not None:
            view.make(Options())
    missing, off_rule = [], []
    for cls in _meshtui_classes():
        for b in cls.__dict__.get("BINDINGS", ()):
            if not b.id:
                missing.append(f"{cls.__name__}: {b.key}")
            elif b.id != binding_id(b.action):
                off_rule.append(f"{cls.__name__}: {b.id} for {b.action}")
    assert not missing and not off_rule, (missing, off_rule)
    assert {"help", "quit", "toggle_pause", "place.istiod"} <= known_ids()


def test_the_footer_is_rebuilt_only_when_the_keys_it_shows_change():
    # Footer.bindings_changed (the screen signal's callback) and Footer._bindings_ready:
    # KeysFooter replaces the first and sets the second (5.)
    assert FOOTER_HOOKS, "Footer.bindings_changed / _bindings_ready changed: see ui/textual_compat.py (5.)"
    assert "self._bindings_ready = True" in inspect.getsource(Footer.bindings_changed)


async def test_a_focus_change_that_keeps_the_keys_does_not_rebuild_the_footer():
    from textual.binding import Binding
    from textual.widgets import Static

    class Box(Static, can_focus=True):
        BINDINGS = [Binding("x", "noop", "Ex", id="noop")]

        def action_noop(self) -> None:
            pass

    class Other(Box):
        BINDINGS = [Binding("y", "other", "Why", id="other")]

        def action_other(self) -> None:
            pass

    builds: list[int] = []

    class CountingFooter(KeysFooter):
        async def recompose(self) -> None:
            builds.append(1)
            await super().recompose()

    class Two(App[None]):
        def compose(self):
            yield Box("a", id="a")
            yield Box("b", id="b")
            yield Other("c", id="c")
            yield CountingFooter()

    app = Two()
    async with app.run_test() as pilot:
        app.set_focus(app.query_one("#a"))
        await until(lambda: "Ex" in _footer_text(app), 5, "the footer's keys")
        before = len(builds)
        app.set_focus(app.query_one("#b"))  # the same keys shown
        await pilot.pause()
        await pilot.pause()
        assert len(builds) == before
        app.set_focus(app.query_one("#c"))  # a key more: rebuilt, once
        await until(lambda: "Why" in _footer_text(app), 5, "the other key in the footer")
        assert len(builds) == before + 1


def _footer_text(app: App[None]) -> str:
    from textual.widgets._footer import FooterKey

    return " ".join(k.description for k in app.query(FooterKey))


async def test_the_apps_own_keys_are_in_the_footer_from_its_first_compose():
    from textual.binding import Binding

    composed: list[str] = []

    class Probe(KeysFooter):
        def compose(self):
            children = list(super().compose())
            composed.append(" ".join(getattr(c, "description", "") for c in children))
            yield from children

    class One(App[None]):
        BINDINGS = [Binding("q", "quit", "Quit", id="quit")]

        def compose(self):
            yield Probe()

    async with One().run_test():
        assert composed and "Quit" in composed[0]  # not an empty bar first, keys a refresh later
