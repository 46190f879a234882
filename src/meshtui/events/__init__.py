"""What changed in the mesh, on one time axis: Kubernetes, Istio's config, istiod, the Envoys, meshtui."""
