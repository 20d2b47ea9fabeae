"""`kerasrnn export` for every recipe type: artifacts, parity, op audit, fresh loads.

One tiny fit per type, made once per module from data the tests write, is
exported in both formats; each test reads those exports. The default run
fits two types (seq2seq and many_to_one); `-m slow` covers the others.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasrnn import builders, config, export, training
from kerasrnn.cli import cli
from kerasrnn.data.loading import load_splits
from kerasrnn.export import lstm_rewrite
from kerasrnn.export.runner import Signature
from kerasrnn.export.tflite import interpreter, representative
from kerasrnn.runs import Run
from tiny import INPUTS, RECIPES_BY_TYPE, TINY, tiny_recipe

# Types whose encoder reads a sequence through a plain LSTM: a WHILE loop must appear.
LOOPED = {"seq2seq", "language_model", "many_to_one", "many_to_many"}
EXPORT_ARGS = {
    "seq2seq": ["--quantize", "dynamic"],
    "language_model": ["--quantize", "dynamic"],
    "many_to_one": ["--batch-size", "2"],
    "many_to_many": ["--quantize", "int8"],
}



@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """`get(type)` -> (run folder, export folder, export output): one tiny fit and export per type."""
    made = {}

    def get(kind):
        if kind not in made:
            tmp = tmp_path_factory.mktemp(kind)
            recipe = tiny_recipe(kind, tmp)
            training.fit(recipe, str(tmp / "run"), echo=lambda _: None)
            result = CliRunner().invoke(cli, ["export", str(tmp / "run"), "--format", "all",
                                              "--out", str(tmp / "out"), *EXPORT_ARGS.get(kind, [])])
            assert result.exit_code == 0, result.output
            made[kind] = tmp / "run", tmp / "out" / recipe["name"], result.output
        return made[kind]

    return get


TYPES = list(RECIPES_BY_TYPE)
# Types exported as `encode` and `step` signatures.
GENERATORS = [k for k in TYPES if builders.BUILDERS[k].EXPORT == "generate"]


def matrix(*fast, kinds=TYPES):
    """`kinds` (all TYPES) as test parameters; those not in `fast` run only with `-m slow`.

    The default run keeps one generator (seq2seq) through every check and the
    classifier through parity: every fit and export costs CPU time.
    """
    return [k if k in fast else pytest.param(k, marks=pytest.mark.slow) for k in kinds]


@pytest.mark.parametrize("kind", matrix("seq2seq", "many_to_one"))
def test_every_type_exports_both_formats(exports, kind):
    _, folder, output = exports(kind)
    files = set(os.listdir(folder))
    assert {"1", "model.tflite", "export.json", "report.json"} <= files
    meta = json.loads((folder / "export.json").read_text())
    generate = builders.BUILDERS[kind].EXPORT == "generate"
    assert meta["signatures"]["tflite"] == (["encode", "step"] if generate else ["serving_default"])
    assert {"serving_default", "tokenize"} <= set(meta["signatures"]["savedmodel"])
    if generate:
        assert {"encode", "step"} <= set(meta["signatures"]["savedmodel"])
        assert len(meta["state_names"]) == len(meta["state_sizes"]) > 0
    assert "tflite/none" in output and "Exported to" in output


def test_float_tflite_stores_the_weights_once(exports):
    # encode's loops and step's single steps read the same whole kernels; the
    # flatbuffer holds them once (plus a little structure).
    run, folder, _ = exports("seq2seq")
    parameters = json.loads((run / "metrics.json").read_text())["parameters"]
    size = os.path.getsize(folder / "model.tflite")
    assert 4 * parameters < size < 4 * parameters * 1.25


@pytest.mark.parametrize("kind", matrix("seq2seq", "many_to_one"))
def test_parity_with_keras(exports, kind):
    _, folder, output = exports(kind)
    report = json.loads((folder / "report.json").read_text())["artifacts"]
    for key in ("savedmodel", "tflite/none"):
        check = report[key]["parity"]
        assert check["examples"] > 0, key
        assert check["logits_max_abs_diff"] < 1e-4, (key, check)
        if builders.BUILDERS[kind].EXPORT == "generate":
            assert check["state_max_abs_diff"] < 1e-4, (key, check)
            assert check["greedy_identical"] == check["examples"], (key, check)
        else:
            assert check["labels_identical"] == check["examples"], (key, check)
        assert builders.BUILDERS[kind].METRIC in check, (key, check)
    quantized = [key for key in report if key.startswith("tflite/") and key != "tflite/none"]
    for key in quantized:
        metric = builders.BUILDERS[kind].METRIC
        assert report[key]["bytes"] < report["tflite/none"]["bytes"]
        assert report[key]["float"] == {"bytes": report["tflite/none"]["bytes"],
                                        metric: report["tflite/none"]["parity"][metric]}
        assert f"{metric} " in output and " float, " in output


@pytest.mark.parametrize("kind", matrix("seq2seq", "many_to_one"))
def test_tflite_op_audit(exports, kind):
    _, folder, _ = exports(kind)
    for name in [n for n in os.listdir(folder) if n.endswith(".tflite")]:
        ops = export.op_list(folder / name)
        assert not [op for op in ops if op.startswith("Flex") or op == "CUSTOM"], (name, ops)
        # The whole-kernel loop, not TFLite's fused LSTM op, except in int8
        # files, whose calibration cannot run a loop (see lstm_rewrite).
        expected, absent = ("UNIDIRECTIONAL_SEQUENCE_LSTM", "WHILE") if name.endswith(".int8.tflite") \
            else ("WHILE", "UNIDIRECTIONAL_SEQUENCE_LSTM")
        assert absent not in ops, (name, ops)
        assert (expected in ops) == (kind in LOOPED), (name, ops)


@pytest.mark.parametrize("kind", matrix("seq2seq"))
def test_predict_on_exports_matches_the_run(exports, kind):
    run, folder, _ = exports(kind)
    runner = CliRunner()
    expected = runner.invoke(cli, ["predict", str(run), *INPUTS[kind], "--json"])
    assert expected.exit_code == 0, expected.output
    expected = json.loads(expected.stdout)
    for path in (folder / "model.tflite", folder / "1"):
        got = runner.invoke(cli, ["predict", str(path), *INPUTS[kind], "--json"])
        assert got.exit_code == 0, got.output
        got = json.loads(got.stdout)
        if kind == "language_model":
            # Scores are summed in another order: equal to float precision.
            assert [r["output"] for r in got] == [r["output"] for r in expected]
            np.testing.assert_allclose([r["log_prob"] for r in got], [r["log_prob"] for r in expected], rtol=1e-4)
        else:
            assert got == expected, path


def test_tflite_batch_above_one_reads_rows_of_one_length(exports):
    """A batch-2 classifier: rows of other lengths are never padded into one call."""
    run, folder, _ = exports("many_to_one")
    assert json.loads((folder / "export.json").read_text())["tflite"]["batch_size"] == 2
    lite = export.Exported(folder / "model.tflite")
    loaded = Run(str(run))
    texts = INPUTS["many_to_one"] * 2
    want = loaded.builder.outputs(loaded.model, loaded.vocabs, texts)
    np.testing.assert_allclose(np.stack(lite.logits(texts)), np.stack(want), atol=1e-4)
    # What the graph does with a padded row: it reads the padding as tokens.
    ids = lite.builder.inputs(lite.vocabs, tf.constant(texts[:2]))["source"].to_tensor().numpy()
    padded = lite.backend.run("logits", {"source": ids})["logits"]
    assert np.abs(padded[1] - want[1]).max() > 1e-3


FRESH = """
import json, sys
sys.modules["kerasrnn"] = None
import numpy as np, tensorflow as tf, tensorflow_text
from ai_edge_litert.interpreter import Interpreter
out = {}
for folder, key, texts in json.loads(sys.argv[1]):
    served = tf.saved_model.load(folder + "/1").signatures["serving_default"]
    result = served(**{key: tf.constant(texts)})
    first = "output" if "output" in result else ("label" if "label" in result else "tags")
    value = result[first].numpy().tolist()
    value = [[t.decode() for t in row] if isinstance(row, list) else row.decode() for row in value]
    it = Interpreter(model_path=folder + "/model.tflite")
    finite = True
    for name in it.get_signature_list():
        runner = it.get_signature_runner(name)
        inputs = {k: np.ones(d["shape"], d["dtype"]) for k, d in runner.get_input_details().items()}
        finite &= all(bool(np.isfinite(v).all()) for v in runner(**inputs).values())
    out[folder] = [value, finite]
print(json.dumps(out))
"""
SERVING_INPUT = {"seq2seq": "text", "language_model": "prompt", "one_to_many": "condition",
                 "many_to_one": "text", "one_to_one": "text", "many_to_many": "text"}


@pytest.mark.parametrize("kinds", [
    pytest.param(("seq2seq",), id="seq2seq"),
    pytest.param(tuple(k for k in TYPES if k != "seq2seq"), id="other_types", marks=pytest.mark.slow)])
def test_artifacts_run_in_a_fresh_process_without_kerasrnn(exports, kinds):
    jobs, expected = [], {}
    for kind in kinds:
        run, folder, _ = exports(kind)
        jobs.append([str(folder), SERVING_INPUT[kind], INPUTS[kind]])
        rows = json.loads(CliRunner().invoke(cli, ["predict", str(run), *INPUTS[kind], "--json"]).stdout)
        expected[str(folder)] = [r["tags"] if kind == "many_to_many" else r["output"] for r in rows]
    proc = subprocess.run([sys.executable, "-c", FRESH, json.dumps(jobs)],
                          capture_output=True, text=True, timeout=600, cwd="/")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    for folder, (value, finite) in got.items():
        assert finite, folder
        if "many_to_many" in folder or "chunks" in folder:
            value = [[t for t in row if t] for row in value]
        assert value == expected[folder], folder


@keras.saving.register_keras_serializable(package="kerasrnn_tests")
class DigitCount(keras.layers.Layer):
    def call(self, x):
        return tf.cast(tf.strings.length(tf.strings.as_string(x)), tf.float32)


def test_a_layer_without_builtin_ops_is_named():
    tokens = keras.Input((None,), dtype="int32", name="source")
    x = keras.layers.Embedding(10, 4, name="source_embedding")(tokens)
    x = DigitCount(name="odd_layer")(keras.layers.GlobalAveragePooling1D(name="pool")(x))
    model = keras.Model({"source": tokens}, keras.layers.Dense(3, name="head")(x))
    builder = builders.BUILDERS["many_to_one"]
    with pytest.raises(export.ExportError, match=r"layer 'odd_layer' \(DigitCount\) cannot be expressed"):
        export.convert_tflite(builder, (model,), 1)


@pytest.mark.parametrize("fused", [False, True])
def test_lstm_lowering_matches_keras_both_directions(fused):
    for go_backwards in (False, True):
        inputs = keras.Input((None, 3), batch_size=1)
        layer_out = lstm_rewrite.LSTM(
            5, return_sequences=True, return_state=True, go_backwards=go_backwards)(inputs)
        model = keras.Model(inputs, layer_out)
        x = np.random.RandomState(0).randn(1, 7, 3).astype("float32")
        expected = [np.asarray(t) for t in model(x)]
        got = lstm_rewrite.lite_call(model, tf.constant(x), fused_lstm=fused)
        for a, b in zip(expected, got):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-5)


def test_an_unread_sequence_is_not_gathered_and_a_read_one_is():
    inputs = keras.Input((None, 3), batch_size=1)
    sequence, h, c = lstm_rewrite.LSTM(4, return_sequences=True, return_state=True)(inputs)
    x = tf.constant(np.random.RandomState(1).randn(1, 6, 3).astype("float32"))
    states_only = lstm_rewrite.lite_call(keras.Model(inputs, [h, c]), x)
    both = lstm_rewrite.lite_call(keras.Model(inputs, [sequence, h, c]), x)
    for a, b in zip(states_only, both[1:]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    assert both[0].shape == (1, 6, 4)
    np.testing.assert_allclose(both[0][:, -1].numpy(), both[1].numpy(), atol=1e-6)


def test_int8_of_a_recurrent_loop_is_refused_by_name(tmp_path):
    recipe = tiny_recipe("many_to_one", tmp_path)
    recipe["model"]["cell"] = "gru"
    training.fit(recipe, str(tmp_path / "run"), echo=lambda _: None)
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "run"), "--format", "tflite", "--quantize", "int8",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "layer 'recurrent_0'" in result.output and "--quantize dynamic" in result.output
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_a_mixed_precision_run_exports_float32_signatures(tmp_path):
    recipe = RECIPES_BY_TYPE["language_model"](tmp_path)
    recipe = config.resolve({**recipe, "training": {**TINY, "precision": "mixed_float16"}})
    try:
        training.fit(recipe, str(tmp_path / "run"), echo=lambda _: None)
    finally:
        keras.config.set_dtype_policy("float32")
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "run"), "--format", "all",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / recipe["name"]
    step = tf.saved_model.load(str(folder / "1")).signatures["step"]
    assert {t.dtype for t in step.structured_outputs.values()} == {tf.float32}
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(folder / "model.tflite")).get_signature_runner("step")
    details = [*runner.get_input_details().values(), *runner.get_output_details().values()]
    assert {d["dtype"] for d in details} == {np.int32, np.float32}
    parity = json.loads((folder / "report.json").read_text())["artifacts"]["tflite/none"]["parity"]
    assert parity["examples"] > 0 and parity["logits_max_abs_diff"] < 1e-4


# Quantized exports: calibrated on training texts, scored on held-out ones (issue 15) ----


@pytest.mark.parametrize("quantize", ["int8", "float16"])
def test_quantized_export_is_scored_beside_the_float_one_on_held_out_examples(exports, tmp_path, monkeypatch,
                                                                           quantize):
    run, _, _ = exports("many_to_one")
    calibrated = []

    def spy(runner, texts, batch):
        calibrated.extend(texts)
        return representative(runner, texts, batch)

    monkeypatch.setattr(export, "representative", spy)
    result = CliRunner().invoke(cli, ["export", str(run), "--format", "tflite", "--quantize", quantize,
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "tiny_colours" / "report.json").read_text())
    splits = load_splits(Run(str(run)).recipe, echo=lambda _: None)
    # Every held-out example, the same ones for the float and the quantized model.
    assert report["metric"] == {"name": "accuracy", "split": "test", "examples": len(splits["test"])}
    float_check = report["artifacts"]["tflite/none"]["parity"]
    check = report["artifacts"][f"tflite/{quantize}"]["parity"]
    assert 0 <= check["accuracy"] <= 1 and report["artifacts"][f"tflite/{quantize}"]["float"]["accuracy"] == \
        float_check["accuracy"]
    assert f"the first {len(splits['test'])} test examples" in result.output
    if quantize == "int8":
        train = {ex.source for ex in splits["train"]}
        assert report["calibration"] == {"split": "train", "examples": len(calibrated)}
        assert 0 < len(calibrated) <= min(100, len(splits["train"]))
        assert set(calibrated) <= train
        ops = export.op_list(tmp_path / "tiny_colours" / "model.int8.tflite")
        assert "QUANTIZE" in ops or "DEQUANTIZE" in ops, ops
    else:
        assert not calibrated and "calibration" not in report
        size = report["artifacts"]["tflite/float16"]["bytes"]
        assert size < report["artifacts"]["tflite/none"]["bytes"]
        assert "tflite/float16" in result.output
        assert abs(check["accuracy"] - float_check["accuracy"]) <= 0.1


def test_a_generator_export_is_scored_against_every_reference(exports):
    run, folder, _ = exports("seq2seq")
    report = json.loads((folder / "report.json").read_text())
    loaded = Run(str(run))
    sources, references = loaded.builder.held_out(load_splits(loaded.recipe, echo=lambda _: None)["test"],
                                                  loaded.vocabs)
    assert len(set(sources)) == len(sources) and all(references)
    assert report["metric"] == {"name": "token_error_rate", "split": "test", "examples": len(sources)}
    lite = export.Exported(folder / "model.tflite")
    want = loaded.builder.runner_metric(lite, sources, references)
    assert report["artifacts"]["tflite/none"]["parity"]["token_error_rate"] == pytest.approx(want)
    scores = json.loads((run / "metrics.json").read_text())["test"]
    assert "tok:13a" in scores["bleu_signature"] and "case:mixed" in scores["bleu_signature"]
    assert 0 <= scores["unk_rate"] <= 1


@pytest.mark.parametrize("kind", matrix("seq2seq", kinds=GENERATORS))
def test_runner_signatures_skip_reallocation_and_answer_alike(exports, kind):
    """The LiteRT runner's signatures, allocating only when shapes change, equal LiteRT's own runner."""
    run, folder, _ = exports(kind)
    # Ids that the encoder's input vocabulary holds (0 pads).
    high = min(8, len(Run(str(run)).vocabs[builders.BUILDERS[kind].SIDES[0]]))
    lite = export.Exported(folder / "model.tflite")
    plain = interpreter(str(folder / "model.tflite"))
    reference = {k: plain.get_signature_runner(k) for k in plain.get_signature_list()}
    for runner in reference.values():
        # As the backend does: one call each allocates every subgraph before any reset.
        runner(**{k: np.zeros(d["shape"], d["dtype"]) for k, d in runner.get_input_details().items()})
    fast = lite.backend.runners
    assert all(isinstance(r, Signature) for r in fast.values())
    rng = np.random.default_rng(0)
    # `encode` rows of changing lengths (reallocated), then `step` after `step` (not).
    for length in (3, 5, 5, 2, 5):
        tokens = rng.integers(1, high, (1, length)).astype(np.int32)
        lite.backend.interpreter.reset_all_variables()
        plain.reset_all_variables()
        got, want = fast["encode"](tokens=tokens), reference["encode"](tokens=tokens)
        assert got.keys() == want.keys()
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
    states = {name: want[name] for name in lite.names}
    token = np.array([2], np.int32)
    for _ in range(6):
        got = fast["step"](token=token, **states)
        want = reference["step"](token=token, **states)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
        token = np.argmax(want["logits"], -1).astype(np.int32)
        states = {name: want[name] for name in lite.names}
    # Decoding through the runner gives what it gave through LiteRT's runner.
    texts = INPUTS[kind]
    fast_out = lite.generate(texts, strategy="greedy")
    lite.backend.runners = reference
    assert lite.generate(texts, strategy="greedy") == fast_out
