"""A real Prometheus (Debian's `prometheus`) on a free loopback port, scraping bodies a
tiny loopback server serves, asked over its HTTP API. Started once per test module
(about a second of start-up plus two scrapes), stopped on teardown, also on failure."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx

from helpers.loopback import loopback_http
from helpers.mesh import stop_process
from helpers.wait import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Prometheus:
    url: str

    def query(self, expr: str) -> list[dict]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5, trust_env=False)
        r.raise_for_status()
        doc = r.json()
        assert doc["status"] == "success", doc
        return list(doc["data"]["result"])

    def scalar(self, expr: str) -> float:
        (result,) = self.query(expr)
        return float(result["value"][1])  # Prometheus writes NaN as "NaN", +Inf as "+Inf"


@contextlib.contextmanager
def prometheus_scraping(bodies: dict[str, str]) -> Iterator[Prometheus]:
    """Prometheus scraping each body (one job per path) every second until it has them all."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is not installed: apt-get install prometheus (.ci/run does)")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = bodies.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with loopback_http(Handler) as target, tempfile.TemporaryDirectory(prefix="meshtui-prom-") as tmp:
        host = target.removeprefix("http://")
        jobs = "".join(
            f"  - job_name: {name}\n    metrics_path: /{name}\n"
            f"    static_configs:\n      - targets: ['{host}']\n"
            for name in bodies
        )
        config = Path(tmp) / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{jobs}"
        )
        port = free_port()
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={Path(tmp) / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            prom = Prometheus(f"http://127.0.0.1:{port}")
            started = time.monotonic()

            def scraped() -> bool:
                with contextlib.suppress(httpx.HTTPError, AssertionError, KeyError):
                    ups = prom.query("up")
                    return len(ups) == len(bodies) and all(u["value"][1] == "1" for u in ups)
                return False

            wait_for(scraped, 30, "Prometheus up and every target scraped")
            prom.startup_seconds = time.monotonic() - started  # type: ignore[attr-defined]
            yield prom
        finally:
            stop_process(proc, grace=10)
