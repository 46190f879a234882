"""Load generation: an open-loop HTTP load (generator.py), its latencies (latency.py) and
where it goes (target.py). No Textual here: the headless command and the app both use it."""
