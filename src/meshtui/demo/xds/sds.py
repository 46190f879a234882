"""SDS over gRPC: the workload certificate (`default`) and mesh root (`ROOTCA`) per proxy.

On a pod istio-agent serves these to its Envoy over a local socket (cluster `sds-grpc`
in Istio's bootstrap), with the certificate istiod's CA signed; the demo serves them from
its istiod process. Envoy asks for the names its TLS contexts reference (state of the
world, one stream per proxy); an ACK is a request carrying the last nonce.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import envoy.extensions.transport_sockets.tls.v3.secret_pb2 as secret_pb2
from envoy.service.discovery.v3 import discovery_pb2
from envoy.service.secret.v3 import sds_pb2_grpc
from google.protobuf import any_pb2, json_format

TYPE_SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


class SecretServer(sds_pb2_grpc.SecretDiscoveryServiceServicer):
    def __init__(self, secrets_for: Callable[[str], list[dict[str, Any]]]) -> None:
        self.secrets_for = secrets_for  # node id -> the proxy's secrets (Envoy's Secret JSON)
        self.version = 0

    async def StreamSecrets(
        self, request_iterator: AsyncIterator[discovery_pb2.DiscoveryRequest], context: Any
    ) -> AsyncIterator[discovery_pb2.DiscoveryResponse]:
        node_id, sent_names, last_nonce = "", None, ""
        async for req in request_iterator:
            node_id = node_id or req.node.id
            names = sorted(req.resource_names)
            if req.HasField("error_detail") or (req.response_nonce == last_nonce and names == sent_names):
                continue  # a NACK (nothing better to send) or the ACK of what was sent
            wanted = [s for s in self.secrets_for(node_id) if not names or s["name"] in names]
            resources = []
            for s in wanted:
                packed = any_pb2.Any()
                packed.Pack(json_format.ParseDict(s, secret_pb2.Secret()))
                resources.append(packed)
            self.version += 1
            last_nonce, sent_names = str(uuid.uuid4()), names
            yield discovery_pb2.DiscoveryResponse(
                version_info=str(self.version), type_url=TYPE_SECRET, nonce=last_nonce, resources=resources
            )
