"""Two worker processes on this machine train one model together."""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from support import RECIPES
from tiny import tiny_recipe

G2P = str(RECIPES / "g2p_cmudict.yaml")
SCRIPT = shutil.which("kerasrnn", path=os.path.dirname(sys.executable)) or "kerasrnn"
TINY = [
    "data.max_examples=200",
    "training.epochs=2",
    "training.batch_size=32",
    "training.verbose=0",
    "training.strategy=multi_worker",
    "model.units=16",
    "model.embedding_dim=8",
    "data.source.max_length=6",
]


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_one_model(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    out = tmp_path / "run"
    args = [SCRIPT, "fit", G2P, "-o", str(out)]
    for item in TINY:
        args += ["--set", item]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TF_CPP_MIN_LOG_LEVEL": "2",
               "CUDA_VISIBLE_DEVICES": ""}
        procs.append(subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    for p, output in zip(procs, outputs):
        assert p.returncode == 0, output
    assert "Run saved to" in outputs[0]
    # Only the chief (worker 0) writes the run folder and reports.
    assert "Examples:" in outputs[0] and "truncated to 6 tokens" in outputs[0]
    assert "Examples:" not in outputs[1] and "truncated" not in outputs[1]
    with open(out / "history.csv") as f:
        assert [line.split(",")[0] for line in f.read().split()[1:]] == ["1", "2"]
    assert (out / "checkpoints" / "checkpoint").exists()
    assert not [n for n in os.listdir(tmp_path) if n != "run"]
    predicted = subprocess.run([SCRIPT, "predict", str(out), "cat", "--json"],
                               capture_output=True, text=True, timeout=300)
    assert predicted.returncode == 0, predicted.stderr
    rows = json.loads(predicted.stdout)
    assert rows[0]["input"] == "cat" and isinstance(rows[0]["output"], str)


# A fast version for the default run (issue 15) ------------------------------------

WORKER = """
import json, sys
import keras, numpy as np
from kerasrnn import training

class Weights(keras.callbacks.Callback):
    # Each worker's own copy of the weights, before and after training.
    def on_train_begin(self, logs=None):
        if not hasattr(self, "first"):
            self.first = [w.copy() for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        np.savez(sys.argv[2], *self.first, *self.model.get_weights())

with open(sys.argv[1]) as f:
    recipe = json.load(f)
keep = Weights()
training.fit(recipe, sys.argv[3], echo=print, callbacks=[keep])
"""


def test_two_workers_end_with_the_same_trained_weights(tmp_path):
    """Each worker reads its own shard of every batch; equal weights show the gradients were combined."""
    recipe = tiny_recipe("many_to_one", tmp_path)
    recipe["model"].update(units=8, embedding_dim=4, bidirectional=False)
    # A few steps, no validation or test pass: the test is about the combined step.
    recipe["data"].update(valid_split=0.0, test_split=0.0)
    recipe["training"].update(strategy="multi_worker", batch_size=16, epochs=1, steps_per_epoch=3)
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TF_CPP_MIN_LOG_LEVEL": "2",
               "CUDA_VISIBLE_DEVICES": ""}
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / "recipe.json"), str(tmp_path / f"weights{index}.npz"),
             str(tmp_path / "run")], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for p, output in zip(procs, outputs):
        assert p.returncode == 0, output[-3000:]
    saved = [np.load(tmp_path / f"weights{index}.npz") for index in range(2)]
    arrays = [[w[f"arr_{i}"] for i in range(len(w.files))] for w in saved]
    half = len(arrays[0]) // 2
    for first, last in ((arrays[0][:half], arrays[0][half:]), (arrays[1][:half], arrays[1][half:])):
        assert any(np.abs(a - b).max() > 1e-4 for a, b in zip(first, last)), "no training happened"
    for a, b in zip(arrays[0][half:], arrays[1][half:]):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # Only the chief (worker 0) writes the run folder.
    assert (tmp_path / "run" / "history.csv").exists()
    assert "Model:" in outputs[0] and "Model:" not in outputs[1]
