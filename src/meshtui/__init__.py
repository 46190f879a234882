"""meshtui: live debugging of an Istio service mesh from a terminal."""

__version__ = "0.1.0"
