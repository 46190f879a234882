"""A workload's replicas side by side (the Replicas place, `meshtui stats deploy/NAME`)."""
