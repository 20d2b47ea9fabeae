"""Ensembles of CTC runs: one model holding its members, decoded together."""

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from test_ctc import ctc_recipe, write_words

import kerasrnn
from kerasrnn import training
from kerasrnn.builders.base import float32_model
from kerasrnn.builders.ctc import ensemble_paths
from kerasrnn.cli import cli
from kerasrnn.decoding import ctc_ensemble, ctc_log_probability, log_softmax
from kerasrnn.runs import Run


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    write_words(folder / "train.tsv", 300, 0)
    write_words(folder / "test.tsv", 40, 1)
    dirs = []
    # The second member computes in bfloat16: it joins as a float32 copy.
    for seed, precision in ((1337, "float32"), (7, "mixed_bfloat16")):
        recipe = ctc_recipe(folder)
        recipe["training"].update(seed=seed, epochs=4, precision=precision)
        recipe["data"]["split_seed"] = 1337
        training.fit(recipe, str(folder / f"run_{seed}"), echo=lambda _: None)
        dirs.append(str(folder / f"run_{seed}"))
    return folder, dirs


def test_the_ensemble_holds_every_members_scores(members):
    folder, dirs = members
    model = kerasrnn.ensemble(dirs, folder / "both", echo=lambda _: None)
    assert set(model.metrics) >= {"members", "valid", "test"}
    ids = np.array([[1, 2, 3, 0], [4, 4, 0, 0]], "int32")
    runs = [Run(d) for d in dirs]
    each = [float32_model(r.model)({"source": ids}).numpy() for r in runs]
    joined = Run(str(folder / "both")).model({"source": ids}).numpy()
    np.testing.assert_allclose(joined, np.stack(each, axis=1), atol=1e-5)
    # predict and evaluate decode the members together, as decoding.ctc_ensemble does.
    texts = ["xab", "qx", "a", "ffff", "dxq"]
    both = Run(str(folder / "both"))
    scores = both.builder.scorer(both.model, both.vocabs)(texts)
    expected = [both.vocabs["target"].decode(row) for row in ctc_ensemble(scores)]
    rows = kerasrnn.load(folder / "both").predict(texts)
    assert [r["output"].split() for r in rows] == expected
    again = kerasrnn.load(folder / "both").evaluate()
    assert again["sequence_error_rate"] == pytest.approx(model.metrics["test"]["sequence_error_rate"])


def test_the_ensemble_exports_as_one_graph(members, tmp_path):
    _, dirs = members
    out = tmp_path / "ens"
    assert CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(out)]).exit_code == 0
    result = CliRunner().invoke(cli, ["export", str(out), "--format", "all", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    texts = ["xab", "qx", "a", "ffff", "dxq", "b"]
    expected = kerasrnn.load(out).predict(texts)
    # The .tflite gives every member's scores; the SavedModel decodes inside its graph.
    for path in (tmp_path / "x" / "tiny_ctc" / "model.tflite", tmp_path / "x" / "tiny_ctc" / "1"):
        assert kerasrnn.load(path).predict(texts) == expected, path


@pytest.mark.parametrize("seed", range(3))
def test_the_graph_joins_members_as_the_host_does(seed):
    # Best paths only: both sides hold the same candidates, so they must agree.
    logits = np.random.default_rng(seed).normal(size=(16, 3, 7, 5)).astype("float32") * 3
    graph = ensemble_paths(tf.constant(logits), 1).to_list()
    assert graph == ctc_ensemble(logits, width=1)
    # With beams the graph's candidates come from TensorFlow's beam search:
    # never less likely together than the best paths' winner.
    wide = ensemble_paths(tf.constant(logits), 4).to_list()
    logp = log_softmax(logits)
    for row, got, host in zip(logp, wide, graph):
        together = [sum(ctc_log_probability(m, labels) for m in row) for labels in (got, host)]
        assert together[0] >= together[1] - 1e-4


def test_members_that_hold_out_other_examples_are_refused(members, tmp_path):
    folder, dirs = members
    recipe = ctc_recipe(folder)
    recipe["training"].update(seed=5, epochs=1)
    training.fit(recipe, str(tmp_path / "other"), echo=lambda _: None)
    result = CliRunner().invoke(cli, ["ensemble", dirs[0], str(tmp_path / "other"), "-o", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert "split seed 5" in result.output and "data.split_seed" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "e").exists()


def test_an_existing_run_is_kept_without_force(members):
    folder, dirs = members
    before = (folder / dirs[0].split("/")[-1] / "model.keras").read_bytes()
    result = CliRunner().invoke(cli, ["ensemble", dirs[0], dirs[1], "-o", dirs[1]])
    assert result.exit_code == 2 and "is one of the members" in result.output
    other = folder / "taken"
    assert CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(other)]).exit_code == 0
    result = CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(other)])
    assert result.exit_code == 2 and "holds a run already" in result.output
    assert (folder / dirs[0].split("/")[-1] / "model.keras").read_bytes() == before

