"""The Istio object behind a route or a cluster, read from the Kubernetes API.

istiod marks what an object produced with its API path in the `istio` filter metadata
(pilot/pkg/networking/util/util.go AddConfigInfoMetadata):
`/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME`. The last part but one
is the kind in kebab case, not the API's plural, so it is mapped here before the GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshtui.kube.config import KubeTarget

# gvk.KebabKind -> the resource's plural, for the kinds istiod marks its output with
PLURALS = {
    "virtual-service": "virtualservices",
    "destination-rule": "destinationrules",
    "gateway": "gateways",
    "service-entry": "serviceentries",
    "sidecar": "sidecars",
    "envoy-filter": "envoyfilters",
    "workload-entry": "workloadentries",
    "http-route": "httproutes",
    "grpc-route": "grpcroutes",
    "tcp-route": "tcproutes",
    "tls-route": "tlsroutes",
}
KINDS = {  # the kind's name as users write it
    "virtual-service": "VirtualService",
    "destination-rule": "DestinationRule",
    "service-entry": "ServiceEntry",
    "envoy-filter": "EnvoyFilter",
    "http-route": "HTTPRoute",
}


@dataclass(frozen=True)
class ConfigRef:
    group: str
    version: str
    namespace: str
    kebab_kind: str
    name: str

    @classmethod
    def parse(cls, path: str) -> ConfigRef | None:
        """The object an `istio` metadata path names; None for any other string."""
        parts = path.split("/")
        if len(parts) != 8 or parts[:2] != ["", "apis"] or parts[4] != "namespaces" or not all(parts[2:]):
            return None
        return cls(parts[2], parts[3], parts[5], parts[6], parts[7])

    @property
    def plural(self) -> str:
        return PLURALS.get(self.kebab_kind, self.kebab_kind.replace("-", "") + "s")

    @property
    def kind(self) -> str:
        return KINDS.get(self.kebab_kind, self.kebab_kind.title().replace("-", ""))

    @property
    def shown(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def kubectl(self) -> str:
        """The command that reads the same object, for a user without meshtui's access."""
        return f"kubectl get {self.plural}.{self.group} -n {self.namespace} {self.name} -o yaml"


class ObjectError(Exception):
    """The object could not be read: one line (RBAC, not found, unreachable)."""


def read_object(target: KubeTarget, ref: ConfigRef) -> dict[str, Any]:
    """The object as the API server has it now (blocking: call it in a thread)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from meshtui.kube.config import describe

    api = client.CustomObjectsApi(target.api_client())
    try:
        found = api.get_namespaced_custom_object(ref.group, ref.version, ref.namespace, ref.plural, ref.name)
    except ApiException as exc:
        raise ObjectError(f"{ref.shown}: {describe(exc)}") from exc
    except Exception as exc:  # urllib3's connection errors and the like, as one line
        raise ObjectError(f"{ref.shown}: {describe(exc)}") from exc
    if not isinstance(found, dict):
        raise ObjectError(f"{ref.shown}: the API server's answer is not an object")
    found.get("metadata", {}).pop("managedFields", None)  # noise for a reader, as kubectl hides it
    return found
