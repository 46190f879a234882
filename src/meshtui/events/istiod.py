"""istiod's side of the timeline, from the same polls as the Control plane place
(istiod/live.py): pushes with their triggers and counts (`pilot_xds_pushes`,
`pilot_push_triggers`), proxies that connected or went, and per proxy each xDS type
istiod sent again (a new nonce in syncz), whether the proxy acked it, a NACK (its
message, or the reject gauge's gRPC code) and its recovery.

The first answer is the baseline. A poll that failed says nothing here: the next answered
one is compared with the last answered one, so what happened meanwhile still shows,
summed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.events.model import MeshEvent
from meshtui.istiod.live import IstiodUpdate
from meshtui.istiod.summary import Counter
from meshtui.istiod.syncz import SYNCED, XDS_COLUMNS, ProxySync

ISTIOD = "istiod"


def _grown(cur: dict[str, Counter], prev: dict[str, Counter]) -> dict[str, int]:
    out = {}
    for name, c in cur.items():
        before = prev.get(name)
        delta = c.value - (before.value if before is not None else 0.0)  # a new series: from 0
        if delta > 0:
            out[name] = round(delta)
    return out


def _counts(found: dict[str, int]) -> str:
    return ", ".join(f"{name} x{n}" for name, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass
class IstiodTimeline:
    pushes: dict[str, Counter] = field(default_factory=dict)
    triggers: dict[str, Counter] = field(default_factory=dict)
    proxies: dict[str, ProxySync] = field(default_factory=dict)
    synced: bool = False
    joining: set[str] = field(default_factory=set)

    def apply(self, update: IstiodUpdate, now: float) -> list[MeshEvent]:
        if update.error or update.total is None:
            return []
        out: list[MeshEvent] = []
        pushes, triggers = dict(update.total.pushes), dict(update.total.push_triggers)
        proxies = {p.proxy: p for p in update.proxies}
        if self.synced:
            out += self._pushes(pushes, triggers, now)
            for proxy in sorted(set(self.proxies) | set(proxies)):
                old, new = self.proxies.get(proxy), proxies.get(proxy)
                out += proxy_changes(old, new, now)
                if new is not None and old is not None and proxy in self.joining and full_sync(new):
                    line = f"first full sync ({' '.join(CORE)} acked)"
                    detail = {"proxy": proxy, "namespace": new.namespace, "pod": new.pod}
                    out.append(MeshEvent(now, "Proxy", proxy, line, detail, ISTIOD))
            # proxies connected since the baseline, until their first full sync
            self.joining = {p for p, row in proxies.items() if p in self.joining or p not in self.proxies}
            self.joining -= {p for p, row in proxies.items() if full_sync(row)}
        else:  # the baseline: what follows are changes from here
            line = f"watching {len(proxies)} connected proxies: pushes, syncs and NACKs from now on"
            out.append(MeshEvent(now, "istiod", ISTIOD, line, {"proxies": len(proxies)}, ISTIOD))
        self.pushes, self.triggers, self.proxies, self.synced = pushes, triggers, proxies, True
        return out

    def _pushes(
        self, pushes: dict[str, Counter], triggers: dict[str, Counter], now: float
    ) -> list[MeshEvent]:
        sent = _grown(pushes, self.pushes)
        if not sent:
            return []
        why = _grown(triggers, self.triggers)
        line = f"pushed {_counts(sent)}" + (f" (triggers: {_counts(why)})" if why else "")
        detail: dict[str, Any] = {"pushes": sent, "triggers": why}
        return [MeshEvent(now, "Push", ISTIOD, line, detail, ISTIOD)]


CORE = ("CDS", "LDS", "EDS", "RDS")  # what every sidecar subscribes to (ECDS only with extensions)


def full_sync(row: ProxySync) -> bool:
    """Every core type sent and acked: the proxy holds a whole config."""
    by_col = dict(zip(XDS_COLUMNS, row.statuses, strict=True))
    return all(by_col[c].status == SYNCED for c in CORE)


def proxy_changes(old: ProxySync | None, new: ProxySync | None, now: float) -> list[MeshEvent]:
    """One proxy's sync between two polls: connected, gone, each type sent, acked, NACKed."""
    row = new or old
    if row is None:
        return []
    detail: dict[str, Any] = {"proxy": row.proxy, "namespace": row.namespace, "pod": row.pod}
    if new is None:
        return [MeshEvent(now, "Proxy", row.proxy, "disconnected from istiod", detail, ISTIOD)]
    out = []
    if old is None:
        synced = [col for col, s in zip(XDS_COLUMNS, new.statuses, strict=True) if s.status == SYNCED]
        line = f"connected ({new.version or 'version unknown'}); " + (
            f"first full sync ({' '.join(CORE)} acked)"
            if full_sync(new)
            else f"synced {' '.join(synced) or 'nothing yet'}"
        )
        out.append(MeshEvent(now, "Proxy", new.proxy, line, {**detail, "synced": synced}, ISTIOD))
        return out
    sent: dict[str, list[str]] = {}  # "acked" / the status -> the types istiod sent again
    acked: list[str] = []
    for col, was, cur in zip(XDS_COLUMNS, old.statuses, new.statuses, strict=True):
        if cur.nack and cur.nack != was.nack:
            line = f"{col} NACK: {cur.nack}"
            out.append(
                MeshEvent(now, "xDS", new.proxy, line, {**detail, "type": col, "nack": cur.nack}, ISTIOD)
            )
        elif was.nack and not cur.nack and cur.status == SYNCED:
            line = f"{col} accepted again (the NACK is over)"
            out.append(MeshEvent(now, "xDS", new.proxy, line, {**detail, "type": col}, ISTIOD))
        elif cur.sent and cur.sent != was.sent:
            sent.setdefault("acked" if cur.status == SYNCED else cur.status, []).append(col)
        elif cur.status == SYNCED and was.status != SYNCED and was.sent:
            acked.append(col)
    # one line per proxy and outcome: a push sends every type to every proxy
    for outcome, cols in sent.items():
        said = "acked" if outcome == "acked" else f"not acked yet ({outcome})"
        line = f"new {' '.join(cols)} sent, {said}"
        out.append(
            MeshEvent(now, "xDS", new.proxy, line, {**detail, "types": cols, "status": outcome}, ISTIOD)
        )
    if acked:
        line = f"{' '.join(acked)} acked"
        out.append(
            MeshEvent(now, "xDS", new.proxy, line, {**detail, "types": acked, "status": SYNCED}, ISTIOD)
        )
    return out
