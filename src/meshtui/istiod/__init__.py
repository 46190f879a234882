"""istiod's monitoring port (15014): /metrics and /debug/syncz, parsed and summarised (no Textual)."""
