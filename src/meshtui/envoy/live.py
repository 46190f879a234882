"""Where an Envoy admin API is reached, and the live feed base for its views.

`AdminFeed` is `meshtui.live.LiveFeed` with an `EnvoyAdmin` client: opened lazily at the
endpoint's URL (a port-forward is started then), dropped after a failure so the next
poll opens a fresh one, and the endpoint released when the view leaves the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeVar

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.live import LiveFeed

U = TypeVar("U")


class AdminEndpoint(Protocol):
    """Where an Envoy admin API is reached: a URL, or a port-forward to a pod's 15000."""

    @property
    def label(self) -> str: ...

    async def url(self) -> str: ...

    def explain(self, error: str) -> str: ...

    async def close(self) -> None: ...


@dataclass
class DirectEndpoint:
    """`--admin URL`: no Kubernetes, no forward."""

    base_url: str
    name: str = ""  # what to call it on screen; the URL by default

    @property
    def label(self) -> str:
        return self.name or self.base_url

    async def url(self) -> str:
        return self.base_url

    def explain(self, error: str) -> str:
        return error

    async def close(self) -> None:
        return None


class AdminFeed(LiveFeed[U]):
    """A live view of one Envoy: subclasses say what one `read` of its admin API gives."""

    errors: ClassVar[tuple[type[Exception], ...]] = (AdminError, ValueError, OSError)
    interval: float  # a sidecar is always polled on a clock

    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        super().__init__(interval)
        self.endpoint = endpoint
        self.timeout = timeout
        self._admin: EnvoyAdmin | None = None

    async def read(self, admin: EnvoyAdmin, started: float) -> U | None:
        raise NotImplementedError

    async def poll(self, started: float) -> U | None:
        if self._admin is None:
            self._admin = EnvoyAdmin(await self.endpoint.url(), timeout=self.timeout)
        return await self.read(self._admin, started)

    def explain(self, error: str) -> str:
        return self.endpoint.explain(error)

    async def disconnect(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            await admin.aclose()

    async def close(self) -> None:
        await self.endpoint.close()
