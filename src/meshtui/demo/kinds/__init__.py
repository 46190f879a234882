"""Kubernetes object kinds the demo API server serves beyond pods (Istio config, Deployments)."""
