"""How long the demo takes to come up: `start_mesh()` until ready, and until the API server lists a pod.

    .venv/bin/python bench/demo_startup.py [RUNS]

Run it on two checkouts (e.g. before and after a demo change), interleaved, to compare.
"""

from __future__ import annotations

import statistics
import sys
import time

from kubernetes import client, config

from meshtui.demo.run import start_mesh


def once() -> tuple[float, float]:
    t0 = time.monotonic()
    with start_mesh(rate=3) as mesh:
        up = time.monotonic() - t0
        api = client.ApiClient(config.new_client_from_config(mesh.kubeconfig).configuration)
        core = client.CoreV1Api(api)
        while not core.list_pod_for_all_namespaces().items:
            time.sleep(0.01)
        return up, time.monotonic() - t0


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = [once() for _ in range(runs)]
    ups, pods = [r[0] for r in results], [r[1] for r in results]
    for what, xs in (("mesh up:", ups), ("first pod listed:", pods)):
        print(f"{what:<18}median {statistics.median(xs):.2f} s  (min {min(xs):.2f}, max {max(xs):.2f})")


if __name__ == "__main__":
    main()
