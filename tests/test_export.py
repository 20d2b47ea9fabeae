"""`kerasrnn export`: SavedModel and TFLite artifacts, parity, op audit, fresh loads."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasrnn import export
from kerasrnn.cli import cli
from support import RECIPES

G2P = str(RECIPES / "g2p_cmudict.yaml")
TINY_LSTM = [
    "data.max_examples=200",
    "training.epochs=1",
    "training.batch_size=32",
    "training.verbose=0",
    "training.tensorboard=false",
    "model.cell=lstm",
    "model.units=16",
    "model.embedding_dim=8",
    "model.dropout=0.0",
]
WORDS = ["hello", "export", "zebra"]


def sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny bidirectional-LSTM G2P run exported in both formats, plus dynamic."""
    root = tmp_path_factory.mktemp("export")
    run = root / "run"
    fit = CliRunner().invoke(cli, ["fit", G2P, "--output", str(run)] + sets(TINY_LSTM))
    assert run.joinpath("model.keras").is_file(), fit.output
    result = CliRunner().invoke(
        cli, ["export", str(run), "--format", "all", "--quantize", "dynamic", "--out", str(root / "out")]
    )
    assert result.exit_code == 0, result.output
    return run, root / "out" / "g2p_cmudict", result.output


def test_layout_and_sidecars(exported):
    _, folder, output = exported
    assert {"1", "model.tflite", "model.dynamic.tflite", "export.json", "report.json",
            "vocab.source.json", "vocab.target.json"} <= set(os.listdir(folder))
    assert (folder / "1" / "saved_model.pb").is_file()
    meta = json.loads((folder / "export.json").read_text())
    assert meta["signatures"]["tflite"] == ["encode", "step"]
    assert {"serving_default", "encode", "step", "tokenize"} <= set(meta["signatures"]["savedmodel"])
    assert meta["tokenizers"]["source"] == {"kind": "char", "lowercase": True, "normalize": False, "max_length": 32}
    assert "tflite/none" in output and "Exported to" in output


def test_parity_with_keras(exported):
    _, folder, _ = exported
    report = json.loads((folder / "report.json").read_text())["artifacts"]
    for key in ("savedmodel", "tflite/none"):
        check = report[key]["parity"]
        assert check["state_max_abs_diff"] < 1e-4 and check["logits_max_abs_diff"] < 1e-4, key
        assert check["greedy_identical"] == check["examples"] > 0, key
    quantized = report["tflite/dynamic"]
    assert quantized["bytes"] < report["tflite/none"]["bytes"]
    assert "token_error_rate" in quantized["parity"]


def test_tflite_op_audit(exported):
    _, folder, _ = exported
    for name in ("model.tflite", "model.dynamic.tflite"):
        ops = export.op_list(folder / name)
        assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops, ops
        assert "WHILE" not in ops
        assert not [op for op in ops if op.startswith("Flex") or op == "CUSTOM"], ops


def test_predict_on_exports_matches_the_run(exported):
    run, folder, _ = exported
    runner = CliRunner()
    expected = runner.invoke(cli, ["predict", str(run), *WORDS, "--json"])
    assert expected.exit_code == 0, expected.output
    for path in (folder / "model.tflite", folder / "1", folder):
        got = runner.invoke(cli, ["predict", str(path), *WORDS, "--json"])
        assert got.exit_code == 0, got.output
        assert json.loads(got.output) == json.loads(expected.output), path


def test_savedmodel_runs_without_kerasrnn(exported):
    run, folder, _ = exported
    code = (
        "import sys; sys.modules['kerasrnn'] = None\n"
        "import json, tensorflow as tf, tensorflow_text\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "out = m.signatures['serving_default'](text=tf.constant(sys.argv[2:]))\n"
        "print(json.dumps([t.decode() for t in out['output'].numpy()]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(folder / "1"), *WORDS],
                          capture_output=True, text=True, timeout=300, cwd="/")
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = CliRunner().invoke(cli, ["predict", str(run), *WORDS, "--json"])
    assert json.loads(proc.stdout.splitlines()[-1]) == [r["output"] for r in json.loads(expected.output)]


def test_tflite_runs_in_a_fresh_process(exported):
    _, folder, _ = exported
    code = (
        "import sys; sys.modules['kerasrnn'] = None\n"
        "import numpy as np\n"
        "from ai_edge_litert.interpreter import Interpreter\n"
        "it = Interpreter(model_path=sys.argv[1])\n"
        "enc, step = it.get_signature_runner('encode'), it.get_signature_runner('step')\n"
        "states = enc(tokens=np.array([[5, 6, 7]], np.int32))\n"
        "out = step(token=np.array([2], np.int32), **states)\n"
        "print(out['logits'].shape, np.isfinite(out['logits']).all())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(folder / "model.tflite")],
                          capture_output=True, text=True, timeout=300, cwd="/")
    assert proc.returncode == 0, proc.stderr[-2000:]
    vocab = json.loads((folder / "vocab.target.json").read_text())["tokens"]
    assert proc.stdout.splitlines()[-1] == f"(1, {len(vocab)}) True"


@keras.saving.register_keras_serializable(package="kerasrnn_tests")
class DigitCount(keras.layers.Layer):
    def call(self, x):
        return tf.cast(tf.strings.length(tf.strings.as_string(x)), tf.float32)


def test_a_layer_without_builtin_ops_is_named():
    tokens = keras.Input((None,), dtype="int32", name="source")
    x = keras.layers.Embedding(10, 4, name="source_embedding")(tokens)
    x = DigitCount(name="odd_layer")(keras.layers.GlobalAveragePooling1D(name="pool")(x))
    model = keras.Model({"source": tokens}, keras.layers.Dense(3, name="head")(x))
    recipe = {"type": "many_to_one"}
    with pytest.raises(export.ExportError, match=r"layer 'odd_layer' \(DigitCount\) cannot be expressed"):
        export.convert_tflite(recipe, (model,), 1)


def test_lstm_lowering_matches_keras_both_directions():
    for go_backwards in (False, True):
        inputs = keras.Input((None, 3), batch_size=1)
        layer_out = export.export_lstm.LSTM(
            5, return_sequences=True, return_state=True, go_backwards=go_backwards)(inputs)
        model = keras.Model(inputs, layer_out)
        x = np.random.RandomState(0).randn(1, 7, 3).astype("float32")
        expected = [np.asarray(t) for t in model(x)]
        got = export.export_lstm.lite_call(model, tf.constant(x))
        for a, b in zip(expected, got):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-5)
