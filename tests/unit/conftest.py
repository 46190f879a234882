"""tests/unit: parsers, models and the demo's pieces in-process. Nothing here starts a
process or the demo mesh (asking for it fails: such a test goes to tests/mesh)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def mesh() -> None:
    raise AssertionError("a unit test needs no demo mesh: a test that does goes to tests/mesh")
