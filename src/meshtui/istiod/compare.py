"""`d` on a proxy: istiod's view of its config against what its Envoy holds (both fetched here)."""

from __future__ import annotations

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.live import AdminEndpoint
from meshtui.istiod.client import MonitoringClient
from meshtui.istiod.config_diff import TypeDiff, diff_config
from meshtui.istiod.metrics import IstiodError


async def compare_proxy(istiod_url: str, proxy_id: str, envoy: AdminEndpoint) -> tuple[TypeDiff, ...]:
    """istiod's /debug/config_dump?proxyID= against the Envoy's /config_dump, per type."""
    client = MonitoringClient(istiod_url, timeout=10.0)
    try:
        sent = await client.config_dump(proxy_id)
    finally:
        await client.aclose()
    try:
        admin = EnvoyAdmin(await envoy.url(), timeout=10.0)
        try:
            held = await admin.config_dump()
        finally:
            await admin.aclose()
    except AdminError as exc:
        raise IstiodError(envoy.explain(str(exc))) from exc
    finally:
        await envoy.close()
    return diff_config(sent, held)
