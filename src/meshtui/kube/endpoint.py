"""A pod's Envoy admin (port 15000) reached through a shared port-forward."""

from __future__ import annotations

from meshtui.kube.portforward import ForwardManager, ForwardState, PortForward

ENVOY_ADMIN_PORT = 15000


def explain_forward(forward: PortForward | None, label: str, error: str) -> str:
    """A failed read through a forward, in one line: the forward's own reason (the pod is
    gone, the kubelet refused) beats a bare 'connection dropped'."""
    if forward is None:
        return error
    status = forward.status
    if status.state in (ForwardState.RECONNECTING, ForwardState.FAILED) and status.reason:
        return f"port-forward {label} {status.state.value}: {status.reason}"
    if "dropped" in error or "connect" in error:
        return f"reconnecting to {label} ... ({error})"
    return error


class ForwardedAdmin:
    """An `AdminEndpoint` for the stats feed: acquires the forward lazily, releases on close."""

    def __init__(self, manager: ForwardManager, namespace: str, pod: str, port: int = ENVOY_ADMIN_PORT):
        self.manager = manager
        self.namespace, self.pod, self.port = namespace, pod, port
        self.label = f"{pod}:{port}"
        self._forward: PortForward | None = None

    async def url(self) -> str:
        if self._forward is None:
            self._forward = await self.manager.acquire(self.namespace, self.pod, self.port)
        return self._forward.url

    def explain(self, error: str) -> str:
        return explain_forward(self._forward, self.label, error)

    async def close(self) -> None:
        if self._forward is not None:
            forward, self._forward = self._forward, None
            await self.manager.release(forward)
