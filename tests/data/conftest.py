import pathlib

import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data"


def pytest_runtest_setup(item):
    if item.get_closest_marker("shared_data") and not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent")


@pytest.fixture
def shared_data():
    return SHARED_DATA


@pytest.fixture
def write(tmp_path):
    """Writes bytes or text (UTF-8) to a file under tmp_path and returns its path."""

    def write(name, content):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return str(path)

    return write
