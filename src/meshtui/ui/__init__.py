"""The Textual app: widgets draw snapshots; they never do I/O themselves."""
