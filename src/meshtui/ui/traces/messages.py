"""The Traces place's messages: what its workers post back to the pane (immutable),
and the helpers that build them in a worker's thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from meshtui.jaeger.live import TraceSearch
from meshtui.jaeger.locate import JaegerLink
from meshtui.jaeger.model import Trace
from meshtui.jaeger.tree import TraceSummary, TraceTree, build_tree, summarize
from meshtui.ui.messages import LiveUpdate


@dataclass(frozen=True)
class Found:
    summary: TraceSummary
    trace: Trace
    tree: TraceTree | None = None  # built in the search worker's thread: enter only draws


def found_with_trees(traces: list[Trace]) -> tuple[Found, ...]:
    def one(trace: Trace) -> Found:
        tree = build_tree(trace)  # once: the summary's times are the tree's
        return Found(summarize(trace, tree), trace, tree)

    return tuple(one(t) for t in traces)


class JaegerReady(Message):
    def __init__(self, link: JaegerLink | None, error: str = "", services: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.link, self.error, self.services = link, error, services


class TracesFound(LiveUpdate):
    """A search's answer (or why there is none), with the traces' trees built."""

    def __init__(self, update: TraceSearch, found: tuple[Found, ...]) -> None:
        super().__init__()
        self.update, self.found = update, found


class TraceOpened(Message):
    def __init__(self, tree: TraceTree, summary: TraceSummary, note: str = "") -> None:
        super().__init__()
        self.trace_tree, self.summary, self.note = tree, summary, note


class Progress(Message):
    """A one-line state for the pane (countdowns, errors); never a traceback."""

    def __init__(self, text: str, error: bool = False) -> None:
        super().__init__()
        self.text, self.error = text, error

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress)


def opened(trace: Trace, note: str = "") -> TraceOpened:
    tree = build_tree(trace)
    return TraceOpened(tree, summarize(trace, tree), note)
