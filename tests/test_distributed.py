"""Two worker processes on this machine train one model together."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from support import RECIPES

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
