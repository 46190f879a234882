"""Why a stat is missing: the bootstrap's `stats_config.stats_matcher`.

On an Istio sidecar most of Envoy's stats are never created: the bootstrap keeps an
inclusion list, widened per pod by the `proxy.istio.io/config` annotation's
`proxyStatsMatcher` (inclusionPrefixes / inclusionSuffixes / inclusionRegexps, Istio's
ProxyConfig). A filter that matches nothing there is no bug in the filter; this module
says which list is active and which annotation would let the stat through.
Envoy's StatsMatcher (envoy/config/metrics/v3/stats.proto): reject_all, or an
inclusion_list or exclusion_list of StringMatchers (exact, prefix, suffix, contains,
safe_regex).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ANNOTATION = "proxy.istio.io/config"


@dataclass(frozen=True, slots=True)
class StatsMatcher:
    mode: str  # "all" (no matcher), "reject_all", "inclusion", "exclusion"
    patterns: tuple[tuple[str, str], ...] = ()  # (kind, text): ("prefix", "cluster_manager"), ...

    @classmethod
    def from_bootstrap(cls, bootstrap: dict[str, Any]) -> StatsMatcher:
        stats_config = bootstrap.get("stats_config")
        matcher = stats_config.get("stats_matcher") if isinstance(stats_config, dict) else None
        if not isinstance(matcher, dict) or not matcher:
            return cls("all")
        if matcher.get("reject_all"):
            return cls("reject_all")
        for mode in ("inclusion", "exclusion"):
            listed = matcher.get(f"{mode}_list")
            if isinstance(listed, dict):
                return cls(mode, tuple(_patterns(listed.get("patterns"))))
        return cls("all")

    def listing(self, limit: int = 12) -> str:
        shown = [f"{kind} {text!r}" if kind != "prefix" else text for kind, text in self.patterns[:limit]]
        more = f" (+{len(self.patterns) - limit} more)" if len(self.patterns) > limit else ""
        return ", ".join(shown) + more

    def excludes(self, prefix: str) -> bool:
        """True only when no stat whose name starts with `prefix` can pass the matcher."""
        if self.mode == "reject_all":
            return True
        if self.mode == "exclusion":
            return any(kind == "prefix" and prefix.startswith(text) for kind, text in self.patterns)
        if self.mode != "inclusion":
            return False
        for kind, text in self.patterns:
            if kind == "prefix" and (text.startswith(prefix) or prefix.startswith(text)):
                return False
            if kind == "exact" and text.startswith(prefix):
                return False
            if kind not in ("prefix", "exact"):
                return False  # a suffix, contains or regex pattern may let some through
        return True


def _patterns(raw: object) -> list[tuple[str, str]]:
    out = []
    for p in raw if isinstance(raw, list) else []:
        if not isinstance(p, dict):
            continue
        for kind in ("prefix", "exact", "suffix", "contains"):
            if isinstance(p.get(kind), str):
                out.append((kind, p[kind]))
        regex = p.get("safe_regex")
        if isinstance(regex, dict) and isinstance(regex.get("regex"), str):
            out.append(("regex", regex["regex"]))
    return out


def annotation_for(filter_text: str) -> str:
    """The pod annotation that makes Istio include these stats, one line, ready to paste
    under `metadata.annotations` (the pod must be restarted for a new bootstrap)."""
    if filter_text.startswith("re:"):
        field, value = "inclusionRegexps", filter_text[3:]
    else:
        field, value = "inclusionPrefixes", filter_text
    config = json.dumps({"proxyStatsMatcher": {field: [value]}}, separators=(",", ":"))
    return f"{ANNOTATION}: '{config}'"
