"""Ensembles of CTC runs: one model averaging its members' probabilities."""

import numpy as np
import pytest
from click.testing import CliRunner
from test_ctc import ctc_recipe, write_words
from tiny import tiny_recipe

import kerasrnn
from kerasrnn import config, training
from kerasrnn.cli import cli
from kerasrnn.runs import Run


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    write_words(folder / "train.tsv", 300, 0)
    write_words(folder / "test.tsv", 40, 1)
    dirs = []
    for seed in (1337, 7):
        recipe = ctc_recipe(folder)
        recipe["training"].update(seed=seed, epochs=4)
        recipe["data"]["split_seed"] = 1337
        training.fit(recipe, str(folder / f"run_{seed}"), echo=lambda _: None)
        dirs.append(str(folder / f"run_{seed}"))
    return folder, dirs


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_the_ensemble_scores_the_mean_of_its_members_probabilities(members):
    folder, dirs = members
    model = kerasrnn.ensemble(dirs, folder / "both", echo=lambda _: None)
    assert set(model.metrics) >= {"members", "valid", "test"}
    ids = np.array([[1, 2, 3, 0], [4, 4, 0, 0]], "int32")
    runs = [Run(d) for d in dirs]
    each = [softmax(r.model({"source": ids}).numpy()) for r in runs]
    joined = Run(str(folder / "both")).model({"source": ids}).numpy()
    np.testing.assert_allclose(np.exp(joined), np.mean(each, axis=0), atol=1e-5)
    # The run folder is used like any other: predict and evaluate through it.
    rows = kerasrnn.load(folder / "both").predict(["xab", "qx"])
    assert [r["input"] for r in rows] == ["xab", "qx"]
    again = kerasrnn.load(folder / "both").evaluate()
    assert again["sequence_error_rate"] == pytest.approx(model.metrics["test"]["sequence_error_rate"])


def test_the_ensemble_exports_as_one_graph(members, tmp_path):
    _, dirs = members
    out = tmp_path / "ens"
    assert CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(out)]).exit_code == 0
    result = CliRunner().invoke(cli, ["export", str(out), "--format", "tflite", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    texts = ["xab", "qx", "a", "ffff"]
    tflite = kerasrnn.load(tmp_path / "x" / "tiny_ctc" / "model.tflite").predict(texts)
    assert tflite == kerasrnn.load(out).predict(texts)


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


def test_only_step_scoring_models_are_joined(tmp_path):
    dirs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        recipe = tiny_recipe("many_to_one", tmp_path)
        (tmp_path / name / "recipe.yaml").write_text(config.dump_recipe(recipe))
        dirs.append(str(tmp_path / name))
    result = CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and "ensembles take CTC models" in result.output
    assert not (tmp_path / "e").exists()
