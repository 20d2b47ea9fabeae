"""A run killed at any moment resumes to the weights an uninterrupted run gets."""

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
import yaml
from click.testing import CliRunner

from kerasrnn.cli import cli
from support import G2P_RNN, RECIPES

G2P = str(RECIPES / "g2p_cmudict.yaml")
SCRIPT = shutil.which("kerasrnn", path=os.path.dirname(sys.executable)) or "kerasrnn"
# Deterministic and with dropout, so the restored random state matters too.
# Enough examples that an epoch outlasts the kill's random delay below.
TINY = [
    "data.max_examples=3000",
    "training.epochs=2",
    "training.learning_rate=0.002",
    "training.lr_schedule=constant",
    "training.batch_size=32",
    "training.verbose=0",
    "training.deterministic=true",
    "model.units=16",
    "model.embedding_dim=8",
    "model.dropout=0.2",
    *G2P_RNN,
]


def sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "run"
    result = CliRunner().invoke(cli, ["fit", G2P, "-o", str(out)] + sets(TINY))
    assert result.exit_code == 0, result.output
    return out


def checkpoint_tensors(run_dir):
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        # The progress record holds wall-clock seconds and the object graph
        # Keras's auto-generated names, which differ between processes.
        if not name.startswith(("progress", "_CHECKPOINTABLE_OBJECT_GRAPH"))
    }


def assert_complete(run_dir):
    """Every file of the run folder, but temporaries, is whole and loadable."""
    import keras

    names = {n for n in os.listdir(run_dir) if ".tmp-" not in n}
    yaml.safe_load((run_dir / "recipe.yaml").read_text())
    for name in names:
        if name.startswith("vocab."):
            json.loads((run_dir / name).read_text())
    if "history.csv" in names:
        with open(run_dir / "history.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [int(r["epoch"]) for r in rows] == list(range(1, len(rows) + 1))
        assert all(float(r["loss"]) > 0 for r in rows)
    if "model.keras" in names:
        keras.saving.load_model(run_dir / "model.keras", compile=False)
    if "training_curves.png" in names:
        assert (run_dir / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    assert checkpoint_tensors(run_dir)


def test_killed_run_resumes_to_identical_weights(reference, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(
        [SCRIPT, "fit", G2P, "-o", str(out)] + sets(TINY),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    deadline = time.time() + 600
    while not (out / "checkpoints" / "checkpoint").exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "no checkpoint within 10 minutes"
        time.sleep(0.05)
    # Somewhere in the epoch-end writes or the next epoch.
    time.sleep(random.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it was killed"
    assert_complete(out)
    done = int(tf.train.latest_checkpoint(str(out / "checkpoints")).rsplit("-", 1)[1])

    result = CliRunner().invoke(cli, ["fit", G2P, "-o", str(out), "--resume"] + sets(TINY))
    assert result.exit_code == 0, result.output
    assert f"Resuming from epoch {done + 1}" in result.output
    with open(out / "history.csv", newline="") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]
    assert not [n for n in os.listdir(out) if ".tmp-" in n]

    expected, got = checkpoint_tensors(reference), checkpoint_tensors(out)
    assert sorted(expected) == sorted(got)
    differ = [name for name in expected if not np.array_equal(got[name], expected[name])]
    assert not differ, f"resumed run differs in {differ}"


def test_resume_with_a_changed_recipe_is_refused(reference):
    before = (reference / "history.csv").read_text()
    changed = CliRunner().invoke(
        cli, ["fit", G2P, "-o", str(reference), "--resume"] + sets(TINY + ["training.learning_rate=0.1"])
    )
    assert changed.exit_code == 2
    assert "training -> learning_rate: 0.002 -> 0.1" in changed.output
    assert "--force" in changed.output
    again = CliRunner().invoke(cli, ["fit", G2P, "-o", str(reference)] + sets(TINY))
    assert again.exit_code == 2
    assert "--resume continues it" in again.output
    assert (reference / "history.csv").read_text() == before


def test_resume_of_a_finished_run_trains_nothing(reference):
    before = checkpoint_tensors(reference)
    result = CliRunner().invoke(cli, ["fit", G2P, "-o", str(reference), "--resume"] + sets(TINY))
    assert result.exit_code == 0, result.output
    assert "Nothing left to train: 2 of 2 epochs done" in result.output
    after = checkpoint_tensors(reference)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


def test_resume_without_a_run_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["fit", G2P, "-o", str(tmp_path / "none"), "--resume"] + sets(TINY))
    assert result.exit_code == 2
    assert "nothing to resume" in result.output
