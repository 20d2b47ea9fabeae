"""Shared fixtures: the repository root, the shared data folder, small recipes."""

import os

import pytest
from support import SHARED_DATA


@pytest.fixture
def shared_data():
    """The benchmark data folder beside the repository; skips where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: this test reads the shared benchmark data")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keeps the dataset cache of tests out of the user's home folder."""
    if "KERASRNN_DATA" not in os.environ:
        monkeypatch.setenv("KERASRNN_DATA", str(tmp_path_factory.getbasetemp() / "data-cache"))
