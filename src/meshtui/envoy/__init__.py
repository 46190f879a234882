"""Talking to Envoy: its admin API (port 15000) and the formats it prints."""
