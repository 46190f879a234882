"""Every row istioctl prints from a config dump, meshtui prints, with the same values.

The inputs and golden outputs are istioctl's own unit-test data, copied unchanged into
tests/data/istioctl/ from istio/istio at 86c9f01fd735fb01d8192f5bcaf0d424afb7f14c
(istioctl/pkg/writer/envoy/configdump/testdata and istioctl/pkg/proxyconfig/testdata).
A golden table is read by its header's column offsets (tabwriter pads every cell to its
column), so empty cells and cells with spaces are read as istioctl wrote them.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import meshtui
from meshtui.envoy.config_dump import parse_config_dump, rows, versions
from meshtui.envoy.config_eds import EndpointFilter

DATA = Path(__file__).parent.parent / "data" / "istioctl"
WRITER = DATA / "writer" / "envoy" / "configdump" / "testdata"
ALL = DATA / "proxyconfig" / "testdata"
# istioctl's VALID CERT is "now within the certificate's dates": a day when the golden's
# answers hold (the workload certificates expired in 2023 and 2024, the roots last to 2033)
NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)

# istioctl's header -> meshtui's row key, per section
KEYS = {
    "clusters": {
        "NAME": "name",
        "SERVICE FQDN": "service",
        "PORT": "port",
        "SUBSET": "subset",
        "DIRECTION": "direction",
        "TYPE": "type",
        "DESTINATION RULE": "destination_rule",
    },
    "listeners": {
        "NAME": "name",
        "ADDRESSES": "addresses",
        "PORT": "port",
        "MATCH": "match",
        "DESTINATION": "destination",
    },
    "routes": {
        "NAME": "name",
        "VHOST NAME": "vhost",
        "DOMAINS": "domains",
        "MATCH": "match",
        "VIRTUAL SERVICE": "virtual_service",
    },
    "secrets": {
        "RESOURCE NAME": "name",
        "TYPE": "type",
        "STATUS": "status",
        "VALID CERT": "valid",
        "SERIAL NUMBER": "serial",
        "NOT AFTER": "not_after",
        "NOT BEFORE": "not_before",
        "TRUST DOMAIN": "trust_domain",
    },
    "endpoints": {"NAME": "name", "STATUS": "status", "LOCALITY": "locality", "CLUSTER": "cluster"},
    "ecds": {"ECDS NAME": "name", "TYPE": "type"},
}
# `proxy-config all` names each row `<kind>/<name>` (includeConfigType)
PREFIX = {
    "clusters": "cluster/",
    "listeners": "listener/",
    "routes": "route/",
    "secrets": "secret/",
    "endpoints": "endpoint/",
}


def golden_table(lines: list[str], headers: list[str]) -> list[dict[str, str]]:
    """The rows of one tabwriter table: each header's offset in the header line cuts the rows."""
    head, *body = lines
    starts, at = [], 0
    for h in headers:
        at = head.index(h, at)
        starts.append(at)
        at += len(h)
    ends = [*starts[1:], None]
    return [
        {h: line[s:e].strip() for h, s, e in zip(headers, starts, ends, strict=True)} for line in body if line
    ]


def headers_of(section: str, head: str) -> list[str]:
    """The section's headers in the order the header line has them."""
    return sorted((h for h in KEYS[section] if h in head), key=head.index)


def cell(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def assert_rows_present(
    golden: list[dict[str, str]], ours: list[dict[str, Any]], section: str, source: str
) -> None:
    keys = KEYS[section]
    have = [{h: cell(r.get(keys[h], "")) for h in golden[0]} for r in ours]
    missing = [g for g in golden if g not in have]
    assert not missing, f"{source}: istioctl rows meshtui does not print:\n" + "\n".join(map(str, missing))


def doc(path: Path) -> dict[str, Any]:
    return parse_config_dump(path.read_text())


@pytest.mark.parametrize(
    ("section", "dump", "golden", "only"),
    [
        ("ecds", "ecds/configdump.json", "ecds/output.txt", None),
        ("endpoints", "endpoint/configdump.json", "endpoint/emptyfilter_output.txt", None),
        (
            "endpoints",
            "endpoint/configdump.json",
            "endpoint/portfilter_output.txt",
            EndpointFilter(port=8080),
        ),
        ("routes", "routes/empty-gateway/configdump.json", "routes/empty-gateway/output.txt", None),
        (
            "routes",
            "routes/istio-gateway-http-route-prefix/configdump.json",
            "routes/istio-gateway-http-route-prefix/output.txt",
            None,
        ),
        (
            "routes",
            "routes/k8s-gateway-http-route-path-prefix/configdump.json",
            "routes/k8s-gateway-http-route-path-prefix/output.txt",
            None,
        ),
        ("secrets", "secret/istio/config_dump.json", "secret/istio/output", None),
        ("secrets", "secret/spire/config_dump.json", "secret/spire/output", None),
    ],
)
def test_each_golden_table(section, dump, golden, only):
    lines = (WRITER / golden).read_text().splitlines()
    table = golden_table(lines, headers_of(section, lines[0]))
    assert table, golden
    ours = rows(doc(WRITER / dump), section, endpoints=only, now=NOW)
    assert_rows_present(table, ours, section, golden)
    if only is not None:  # the filter keeps only what istioctl keeps
        assert len(ours) == len(table), [r["name"] for r in ours]


def test_version_summary():
    want = dict(
        (k.strip(), v.strip())
        for k, v in (
            line.split(":", 1) for line in (WRITER / "versionsummary.txt").read_text().splitlines() if line
        )
    )
    bootstrap = doc(WRITER / "configdump.json")["configs"][0]["bootstrap"]
    assert versions(bootstrap) == want


def _all_blocks(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`proxy-config all`: the version lines, then a table per section between blank lines."""
    blocks = [b.splitlines() for b in text.split("\n\n") if b.strip()]
    blocks = [[line for line in b if not line.startswith("------")] for b in blocks]
    blocks = [b for b in blocks if b]
    version = dict((k.strip(), v.strip()) for k, v in (line.split(":", 1) for line in blocks[0]))
    by_section = {}
    for block in blocks[1:]:
        head = block[0]
        section = next(
            s
            for s, first in (
                ("clusters", "SERVICE FQDN"),
                ("listeners", "ADDRESSES"),
                ("routes", "VHOST NAME"),
                ("secrets", "RESOURCE NAME"),
                ("endpoints", "LOCALITY"),
            )
            if first in head
        )
        by_section[section] = block
    return version, by_section


@pytest.mark.parametrize("golden", ["config_dump_summary.txt", "config_dump_summary_withheaders.txt"])
def test_proxy_config_all(golden):
    version, tables = _all_blocks((ALL / golden).read_text())
    r = meshtui("config", "--file", str(ALL / "config_dump.json"), "--section", "all", "--json")
    assert r.returncode == 0, r.stderr
    ours = json.loads(r.stdout)
    assert set(ours) == {"bootstrap", "clusters", "listeners", "routes", "secrets", "endpoints", "ecds"}
    boot = {row["key"]: row["value"] for row in ours["bootstrap"]}
    assert {k: boot[k] for k in version} == version
    assert set(tables) == {"clusters", "listeners", "routes", "secrets", "endpoints"}
    for section, lines in tables.items():
        table = golden_table(lines, headers_of(section, lines[0]))
        assert table, section
        for row in table:
            row["NAME" if "NAME" in row else "RESOURCE NAME"] = row.get(
                "NAME", row.get("RESOURCE NAME", "")
            ).removeprefix(PREFIX[section])
            # cluster.go renames a cluster to `cluster/<name>` before it prints a non-Istio name
            # as its own SERVICE FQDN: the prefix is an artefact of the `all` listing
            if section == "clusters":
                row["SERVICE FQDN"] = row["SERVICE FQDN"].removeprefix(PREFIX[section])
        if section == "secrets":  # validity is dated: the same rows, read on the golden's day
            ours[section] = rows(doc(ALL / "config_dump.json"), "secrets", now=NOW)
        assert_rows_present(table, ours[section], section, f"{golden} {section}")


def test_endpoint_filters_from_the_command_line():
    dump = str(WRITER / "endpoint" / "configdump.json")

    def endpoints(*flags: str) -> tuple[int, str]:
        r = meshtui("config", "--file", dump, "--section", "endpoints", *flags)
        return r.returncode, r.stdout

    code, out = endpoints("--port", "8080", "--json")
    assert code == 0 and sorted(e["name"] for e in json.loads(out)) == [
        "10.244.0.176:8080",
        "10.244.0.189:8080",
    ]
    code, out = endpoints("--cluster", "OUTBOUND|53||kube-dns.kube-system.svc.cluster.local")
    assert code == 0 and out.count(":53 ") == 2, out  # case-insensitive, as istioctl
    code, out = endpoints("--address", "10.244.0.8:53", "--status", "healthy")
    assert code == 0 and len(out.splitlines()) == 2, out
    r = meshtui("config", "--file", dump, "--section", "clusters", "--port", "80")
    assert r.returncode == 2 and r.stderr.strip() == (
        "meshtui: --port narrow the endpoints: use them with --section endpoints or all"
    )
