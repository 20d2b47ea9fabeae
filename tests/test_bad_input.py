"""Bad data through the whole `kerasrnn fit`: a clear one-line error, or skipped and counted."""

import json

from click.testing import CliRunner

from kerasrnn.cli import cli
from support import RECIPES

SST2 = str(RECIPES / "sentiment_sst2.yaml")
TINY = [
    "model.units=8",
    "model.embedding_dim=8",
    "training.epochs=1",
    "training.batch_size=8",
    "training.verbose=0",
    "training.tensorboard=false",
]
GOOD = ["1 a fine warm film", "0 a dull cold film", "1 warm and fine", "0 dull and cold"] * 6


def sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


def write_lines(path, lines):
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    return str(path)


def test_an_invalid_byte_names_the_file_and_line_and_writes_no_model(tmp_path):
    bad = write_lines(tmp_path / "bad.txt", [GOOD[0], GOOD[1], b"1 a caf\xe9 film", GOOD[2]])
    out = tmp_path / "run"
    # The catalog's valid and test splits are never fetched: train is read first.
    result = CliRunner().invoke(cli, ["fit", SST2, "--output", str(out), "--set", f"data.train={bad}"])
    assert result.exit_code == 2, result.output
    assert f"{bad}:3:" in result.output and "invalid UTF-8 byte 0xe9" in result.output
    assert "Traceback" not in result.output
    assert not (out / "model.keras").exists()


def test_skipped_lines_are_counted_and_unseen_labels_at_evaluation_too(tmp_path):
    train = write_lines(tmp_path / "train.txt", GOOD[:2] + [b"1 caf\xe9", "no-label-here"] + GOOD[2:])
    valid = write_lines(tmp_path / "valid.txt", GOOD[:4])
    test = write_lines(tmp_path / "test.txt", GOOD[:4] + ["2 a film of a third kind"] * 2)
    out = tmp_path / "run"
    data = [f"data.train={train}", f"data.valid={valid}", f"data.test={test}", "data.on_bad_line=skip"]
    # Subwords too: the run must restore its WordPiece vocabulary to predict.
    subwords = ["data.source.tokenizer=subword", "data.source.max_vocab=40", "data.source.max_length=3"]
    result = CliRunner().invoke(cli, ["fit", SST2, "--output", str(out)] + sets(TINY + data + subwords))
    assert result.exit_code == 0, result.output
    assert "2 bad lines skipped, first: " in result.output and f"{train}:3:" in result.output
    assert "source: 12 of 24 examples truncated to 3 tokens" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["unseen_labels"] == 2 and metrics["test"]["examples"] == 6
    predicted = CliRunner().invoke(cli, ["predict", str(out), "a warm film", "--json"])
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.output)[0]["output"] in ("0", "1")


def test_data_left_empty_by_skipping_is_a_clear_error(tmp_path):
    train = write_lines(tmp_path / "train.txt", [b"1 caf\xe9", "nolabel"])
    out = tmp_path / "run"
    data = [f"data.train={train}", f"data.valid={train}", f"data.test={train}", "data.on_bad_line=skip"]
    result = CliRunner().invoke(cli, ["fit", SST2, "--output", str(out)] + sets(TINY + data))
    assert result.exit_code == 2, result.output
    assert "data -> train: no training examples left" in result.output and "bad lines skipped" in result.output
    assert not out.exists()
