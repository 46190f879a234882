"""`meshtui demo`: a local mesh of real Envoy processes behind a simulated API server."""
