"""Helpers the tests share: import them from here (helpers.wait, helpers.mesh ...), never
from another test file. Fixtures live in the conftest.py of the folder that needs them."""
