"""The mesh as the cluster's Prometheus sees it: Istio's standard metrics, asked with the
PromQL of Kiali's graph and the Istio dashboards (the Mesh place, `meshtui mesh`)."""
