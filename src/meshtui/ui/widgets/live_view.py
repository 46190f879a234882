"""What every live view shares: the one worker that runs its feed (meshtui/live.py) and
posts each update as a message, polling only while the view is shown, and the phrase the
status line shows for it. The Stats and Clusters tabs, the Control plane and the Traces
place are LiveViews; each says how an update becomes its message (`updated`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.message import Message
from textual.widget import Widget

from meshtui.live import Freshness, LiveFeed
from meshtui.ui.messages import RefreshStateChanged
from meshtui.ui.views import ViewStatus


class LiveView(Widget):
    status_name: ClassVar[str] = ""  # how the status line names the view: `stats live every 1s`

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.feed: LiveFeed[Any] | None = None
        self.shown = False
        self.freshness = Freshness()  # of the last update on screen
        self.answered = False  # the current feed has said something (data or a failure)

    # -- what a subclass says ----------------------------------------------------------

    async def updated(self, update: Any) -> Message:
        """The message that carries one update to the view (built off the event loop if big)."""
        raise NotImplementedError

    def polls(self) -> bool:
        """Whether the feed reads its source now: while shown (a view may add its own pause)."""
        return self.shown

    # -- the feed ----------------------------------------------------------------------

    def start_feed(self, feed: LiveFeed[Any]) -> None:
        """Read this feed from now on; the previous feed's worker is cancelled (exclusive)."""
        self.feed, self.freshness, self.answered = feed, Freshness(), False
        feed.paused = not self.polls()
        self._run_feed(feed)

    def stop_feed(self) -> None:
        self.workers.cancel_group(self, "live-feed")
        self.feed, self.freshness, self.answered = None, Freshness(), False
        self.post_message(RefreshStateChanged())  # the status line stops saying "live"

    def polling_changed(self) -> None:
        """Shown, hidden, paused or resumed: the feed follows, the status line says so at once."""
        if self.feed is not None:
            self.feed.set_paused(not self.polls())
        self.post_message(RefreshStateChanged())

    def action_refresh_now(self) -> None:
        """`r` (widgets/keys.py refresh_key): poll now, without waiting for the interval."""
        if self.feed is not None:
            self.feed.poll_now()

    @work(exclusive=True, group="live-feed", exit_on_error=False)
    async def _run_feed(self, feed: LiveFeed[Any]) -> None:
        async for update in feed.updates():
            message = await self.updated(update)
            self.freshness, self.answered = update.freshness, True
            self.post_message(message)

    # -- the view protocol (meshtui/ui/views.py) ---------------------------------------

    def set_shown(self, shown: bool) -> None:
        self.shown = shown
        self.polling_changed()

    def status(self) -> ViewStatus:
        name, feed, fresh = self.status_name, self.feed, self.freshness
        if feed is None:
            return ViewStatus()
        if fresh.stale:
            since = fresh.since_text()
            return ViewStatus(f"{name} stale since {since}, retrying ({fresh.failures})", problem=True)
        if not self.answered:
            return ViewStatus(f"{name} connecting ...")
        if feed.interval is None:
            return ViewStatus(f"{name} read on demand")
        return ViewStatus(f"{name} live every {feed.interval:g}s")
