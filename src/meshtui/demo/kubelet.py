"""What the kubelet does when a pod's sidecar dies: report it, restart it, with back-off.

The demo's `istio-proxy` container is its Envoy process. When that process exits (killed,
crashed, `/quitquitquit`), it is reaped at once (no zombie) and the pod's status says what
a kubelet's would: the container `terminated` (exit code 137 after SIGKILL, reason
`Error`; `Completed` for a clean exit) and not ready, so the pod reads READY 1/2 and its
endpoint leaves EDS. The container is then started again as pkg/kubelet/kuberuntime
`doBackOff` decides: the first death restarts at once, a death within the back-off
window waits in `CrashLoopBackOff` ("back-off 2s restarting failed container=..."), the
window doubling up to a cap (client-go util/flowcontrol/backoff.go). The restarted
container counts in `restartCount`, keeps the death in `lastState`, and is ready once
its Envoy (started by pilot-agent a moment later) has its listeners again: what Istio's
readiness probe on 15021 checks. Back-off times are a tenth of the kubelet's (10 s
doubling to 300 s), so a demo shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from meshtui.demo.envoy_proc import EnvoyStartError
from meshtui.demo.simpod import Container

if TYPE_CHECKING:
    from meshtui.demo.apiserver import SimApiServer
    from meshtui.demo.pods import RunningPod

SIDECAR = "istio-proxy"
INITIAL_BACKOFF = 1.0  # the kubelet's backOffPeriod (10 s), a tenth
MAX_BACKOFF = 30.0  # MaxContainerBackOff (300 s), a tenth
RELIST = 0.1  # how often a death is looked for (the kubelet's PLEG relists every second)
# the runtime makes and starts the new container (the pod reads `Error` meanwhile), whose
# pilot-agent starts Envoy once it has its certificates and bootstrap: on a cluster a
# second or two without an Envoy
CONTAINER_START = 0.5
AGENT_START = 1.0


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _go_duration(seconds: float) -> str:
    """As Go prints a time.Duration of whole seconds: 2s, 1m4s."""
    s = int(seconds)
    return f"{s // 60}m{s % 60}s" if s >= 60 else f"{s}s"


class Backoff:
    """client-go flowcontrol.Backoff without jitter: per key, the window after a death."""

    def __init__(self, initial: float, maximum: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.initial, self.maximum, self.clock = initial, maximum, clock
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (backoff, last update)

    def _expired(self, event_time: float, last_update: float) -> bool:
        return event_time - last_update > 2 * self.maximum  # stable for twice the cap: forgotten

    def get(self, key: str) -> float:
        return self._entries.get(key, (0.0, 0.0))[0]

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry[1]):
            return False
        return self.clock() - event_time < entry[0]

    def next(self, key: str, event_time: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry[1]):
            backoff = self.initial
        else:
            backoff = min(entry[0] * 2, self.maximum)
        self._entries[key] = (backoff, self.clock())


class Kubelet:
    """Watches each running pod's Envoy and restarts it when it dies."""

    def __init__(self, api: SimApiServer, endpoints_changed: Callable[[], None]) -> None:
        self.api, self.endpoints_changed = api, endpoints_changed
        self.backoff = Backoff(INITIAL_BACKOFF, MAX_BACKOFF)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def watch(self, running: RunningPod) -> None:
        self._tasks[running.pod.name] = asyncio.ensure_future(self._supervise(running))

    async def forget(self, name: str) -> None:
        """The pod is being stopped on purpose: its Envoy's exit is no death."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _supervise(self, running: RunningPod) -> None:
        pod, envoy = running.pod, running.envoy
        container = next((c for c in pod.containers if c.name == SIDECAR), None)
        if container is None:
            return
        key = f"{pod.uid}/{SIDECAR}"
        same_port = True  # until a start fails (its admin port may have been taken meanwhile)
        while True:
            assert envoy.proc is not None
            while (code := envoy.proc.poll()) is None:  # poll() reaps it: no zombie
                await asyncio.sleep(RELIST)
            finished, finished_mono = time.time(), time.monotonic()
            dead = {
                # the runtime reports a signal's death as 128 + its number (SIGKILL: 137)
                "exitCode": 128 - code if code < 0 else code,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": _ts(container.started or pod.created),
                "finishedAt": _ts(finished),
            }
            await self._report(running, container, state={"terminated": dead}, ready=False)
            if self.backoff.in_backoff_since(key, finished_mono):
                delay = self.backoff.get(key)
                waiting = {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {_go_duration(delay)} restarting failed "
                    f"container={SIDECAR} pod={pod.name}_{pod.namespace}({pod.uid})",
                }
                await self._report(running, container, state={"waiting": waiting}, ready=False)
                await asyncio.sleep(max(0.0, finished_mono + delay - time.monotonic()))
            self.backoff.next(key, finished_mono)
            await asyncio.sleep(CONTAINER_START)
            container.last_state = {"terminated": dead}
            container.restarts += 1
            container.started = time.time()
            await self._report(running, container, state=None, ready=False)
            await asyncio.sleep(AGENT_START)
            try:
                envoy.respawn(same_admin_port=same_port)
            except (OSError, EnvoyStartError):
                same_port = False
                continue  # a death at start: the back-off applies
            try:
                await envoy.wait_ready(running.listeners)
            except EnvoyStartError:
                same_port = False  # it died starting (or never got ready and was stopped)
                continue
            same_port = True
            pod.forwards[15000] = envoy.admin_port
            await self._report(running, container, state=None, ready=True)

    async def _report(
        self, running: RunningPod, container: Container, state: dict[str, object] | None, ready: bool
    ) -> None:
        container.state, container.ready = state, ready
        if running.proxy.ready != ready:
            running.proxy.ready = ready  # a pod that is not ready leaves EDS
            self.endpoints_changed()
        await self.api.pod_status_changed(running.pod)
