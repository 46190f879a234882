"""The demo's istiod control plane: ADS over gRPC (xds-protos), as Istio 1.17 serves it."""

import os

# The demo forks Envoys (subprocess with preexec_fn) while gRPC threads run: gRPC's fork
# handlers are not needed there, and would log a line to the terminal on every fork.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
