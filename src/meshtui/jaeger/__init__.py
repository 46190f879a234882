"""Talking to Jaeger's query service: its classic HTTP API and `/api/v3`, and the span tree."""
