"""The Load place: meshtui load in the app (load/ is its backend)."""
