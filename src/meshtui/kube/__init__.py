"""Kubernetes access: kubeconfig, pods (list + watch), port-forwards through the API server.

Nothing here imports textual; the kubernetes client is imported by these modules
only, and they are imported lazily by the app so it paints its first frame first.
"""
