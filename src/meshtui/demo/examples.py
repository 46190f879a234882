"""The kubectl commands `meshtui demo` suggests once the mesh is up, and the manifests they apply.

Each shows the mesh changing while the load loop runs: a fault on catalog pushed by
istiod, retries on catalog (a VirtualService: the Events place and webapp's config
history show it), a rollout replacing webapp's pod, catalog scaled out (an EDS push), and an
EnvoyFilter webapp's Envoy rejects (a NACK, seen in /debug/syncz and pilot_total_xds_rejects).
"""

from __future__ import annotations

import shlex
from pathlib import Path

CATALOG_FAULT = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: catalog
  namespace: istioinaction
spec:
  hosts: [catalog]
  http:
  - route:
    - destination: {host: catalog}
    fault:
      abort: {httpStatus: 503, percentage: {value: 50}}
"""

CATALOG_RETRIES = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: catalog
  namespace: istioinaction
spec:
  hosts: [catalog.istioinaction.svc.cluster.local]
  http:
  - route:
    - destination: {host: catalog.istioinaction.svc.cluster.local}
    retries: {attempts: 4}
"""

BROKEN_FILTER = """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: broken-timeout
  namespace: istioinaction
spec:
  workloadSelector:
    labels: {app: webapp}
  configPatches:
  - applyTo: CLUSTER
    match:
      cluster: {name: "outbound|80||catalog.istioinaction.svc.cluster.local"}
    patch:
      operation: MERGE
      value: {connect_timeout: -1s}
"""


def write(workdir: Path, kubeconfig: Path) -> list[str]:
    """Write the manifests beside the kubeconfig; return the copy-pasteable commands."""
    fault, broken = workdir / "catalog-fault.yaml", workdir / "broken-envoyfilter.yaml"
    retries = workdir / "catalog-retries.yaml"
    fault.write_text(CATALOG_FAULT)
    broken.write_text(BROKEN_FILTER)
    retries.write_text(CATALOG_RETRIES)
    k = f"kubectl --kubeconfig {shlex.quote(str(kubeconfig))}"
    return [
        f"{k} get pods,deployments,virtualservices -A",
        f"{k} apply -f {shlex.quote(str(fault))}    # half of webapp's catalog calls get 503",
        f"{k} apply -f {shlex.quote(str(retries))}    # 4 retries: Events (7); h in webapp's Config",
        f"{k} rollout restart deployment/webapp -n istioinaction",
        f"{k} scale deployment/catalog --replicas=3 -n istioinaction",
        f"{k} apply -f {shlex.quote(str(broken))}    # webapp's Envoy rejects the push (NACK)",
        f"{k} port-forward -n istioinaction deploy/webapp 15000    # then: curl localhost:15000/stats",
    ]
