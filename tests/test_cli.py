"""The command line, through Click's runner and through the installed script."""

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

import kerasrnn
from kerasrnn.cli import _format_metric, cli
from support import G2P_RNN, RECIPES

G2P = str(RECIPES / "g2p_cmudict.yaml")
TINY = [
    "data.max_examples=600",
    "data.valid_split=0.1",
    "training.epochs=6",
    "training.batch_size=16",
    "training.learning_rate=0.01",
    "training.verbose=0",
    "model.units=64",
    "model.embedding_dim=32",
    "model.dropout=0.0",
    *G2P_RNN,
]


def sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny G2P fit shared by the tests that read its run folder."""
    out = tmp_path_factory.mktemp("runs") / "g2p"
    result = CliRunner().invoke(cli, ["fit", G2P, "--output", str(out)] + sets(TINY))
    assert result.exit_code == 0, result.output
    return out, result


def test_help_and_version():
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("fit", "validate"):
        assert command in result.output
    assert "Exit codes" in result.output
    version = runner.invoke(cli, ["--version"])
    assert version.exit_code == 0
    assert kerasrnn.__version__ in version.output
    fit_help = runner.invoke(cli, ["fit", "--help"])
    assert "--set" in fit_help.output and "--output" in fit_help.output


def test_validate_reports_ok_and_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntype: seq2seq\ndata: {dataset: cmudict}\ntraining: {epocs: 2}\n")
    result = CliRunner().invoke(cli, ["validate", G2P, str(bad)])
    assert result.exit_code == 2
    assert f"{G2P}: ok" in result.output
    assert f"{bad}: training -> epocs: unknown key (did you mean 'epochs'?)" in result.output
    assert "Traceback" not in result.output


def test_fit_with_a_bad_recipe_writes_nothing(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", G2P, "--output", str(out), "--set", "model.units=0", "--set", "training.epocs=1"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line]
    assert lines == [
        "Error: model -> units: 0 is below the minimum 1",
        "Error: training -> epocs: unknown key (did you mean 'epochs'?)",
    ]
    assert not out.exists()


def test_fit_with_missing_data_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["fit", G2P, "--set", f"data.train={tmp_path / 'none.txt'}"])
    assert result.exit_code == 2
    assert "data -> train: no such file" in result.output


def test_tiny_g2p_fit_learns(tiny_run):
    out, result = tiny_run
    assert f"Run saved to {out}" in result.output
    assert "test token_error_rate" in result.output
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    losses = [float(r["loss"]) for r in rows]
    assert losses[-1] < 0.7 * losses[0]
    # Always guessing the commonest token (the end of a word) scores about 13%.
    assert float(rows[-1]["accuracy"]) > 0.4
    assert float(rows[-1]["val_loss"]) < float(rows[0]["val_loss"])


def test_run_folder_contents(tiny_run):
    out, _ = tiny_run
    names = set(os.listdir(out))
    assert {"recipe.yaml", "model.keras", "vocab.source.json", "vocab.target.json",
            "history.csv", "metrics.json", "training_curves.png"} <= names
    assert not [n for n in names if ".tmp" in n]
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    assert recipe["training"]["epochs"] == 6  # overrides applied
    assert recipe["decoding"]["beam_width"] == 4  # defaults filled in
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    assert 0 <= test["token_error_rate"] <= 1.5 and 0 <= test["sequence_error_rate"] <= 1
    assert test["examples"] > 0
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_model_loads_in_a_fresh_process(tiny_run):
    out, _ = tiny_run
    code = (
        "import sys, keras, kerasrnn\n"
        "m = keras.saving.load_model(sys.argv[1], compile=False)\n"
        "print(type(m).__name__, m.count_params())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(out / "model.keras")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "Functional"


def test_installed_script():
    script = shutil.which("kerasrnn", path=os.path.dirname(sys.executable)) or shutil.which("kerasrnn")
    assert script, "the kerasrnn console script is not installed"
    version = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=300)
    assert version.returncode == 0
    assert kerasrnn.__version__ in version.stdout
    bad = subprocess.run([script, "validate", G2P, "--set", "training.epochs=zero"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "training -> epochs: expected an integer, got 'zero'" in bad.stderr
    assert "Traceback" not in bad.stderr
    usage = subprocess.run([script, "fit"], capture_output=True, text=True, timeout=300)
    assert usage.returncode == 2


def test_scores_print_counts_whole_and_accuracies_as_percentages():
    # What `evaluate`, `fit` and `ensemble` print for a chunker's scores.
    shown = {name: _format_metric(name, value) for name, value in
             {"gold_chunks": 23852, "token_accuracy": 0.95912, "f1": 93.6412, "sentences": 2012}.items()}
    assert shown == {"gold_chunks": "23,852", "token_accuracy": "95.91%", "f1": "93.64", "sentences": "2,012"}
