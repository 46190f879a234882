"""The fixtures every folder shares: the real captures and the demo mesh of real Envoys.
Helpers are in helpers/ (imported, not fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.mesh import FIXTURES
from meshtui.demo.run import MeshProcess, start_mesh

pytest_plugins = ["helpers.ci_no_skips"]  # a skip fails the run under CI=true


@pytest.fixture(scope="session")
def fixtures() -> Path:
    assert FIXTURES.is_dir(), f"the shared captures are expected at {FIXTURES}"
    return FIXTURES


@pytest.fixture(scope="session")
def mesh() -> Iterator[MeshProcess]:
    """The demo mesh (apps, real Envoys, simulated API server, load loop) for the session."""
    # catalog gets the scenario's broken tracing bootstrap: the tracing-health view must flag it
    with start_mesh(rate=8.0, broken_tracing="catalog") as m:
        yield m
