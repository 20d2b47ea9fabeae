"""The Python API (`kerasrnn.fit`, `kerasrnn.load`) gives what the command line prints.

One tiny fit per type, through `kerasrnn.fit`; each test compares the
returned model's answers with the `kerasrnn` command's JSON on the same run.
"""

import json
import shutil

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import kerasrnn
from kerasrnn.cli import cli
from kerasrnn.data.loading import load_splits
from tiny import INPUTS, RECIPES_BY_TYPE, tiny_recipe

TYPES = list(RECIPES_BY_TYPE)
GENERATIVE = ("language_model", "one_to_many")


def _cli_json(*args):
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _close(got, want):
    """Equal, floats to 1e-5 (JSON rounds nothing, but sums may be taken in another order)."""
    if isinstance(want, float):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    elif isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            _close(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w)
    else:
        assert got == want


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """`get(type)` -> the `kerasrnn.Model` that `kerasrnn.fit` returned for the type's tiny recipe."""
    made = {}

    def get(kind):
        if kind not in made:
            tmp = tmp_path_factory.mktemp(f"api_{kind}")
            made[kind] = kerasrnn.fit(tiny_recipe(kind, tmp), output=tmp / "run", echo=lambda _: None)
        return made[kind]

    return get


@pytest.mark.parametrize("kind", TYPES)
def test_fit_returns_the_run_and_its_held_out_scores(runs, kind):
    model = runs(kind)
    assert model.format == "run" and model.type == kind
    with open(f"{model.path}/metrics.json", encoding="utf-8") as f:
        saved = json.load(f)
    assert model.metrics["test"] == saved["test"]


@pytest.mark.parametrize("kind", TYPES)
def test_predict_and_evaluate_match_the_command_line(runs, kind):
    model = runs(kind)
    texts = INPUTS[kind]
    _close(model.predict(texts), _cli_json("predict", model.path, *texts))
    _close(model.evaluate(), _cli_json("evaluate", model.path))
    # A loaded run answers as the one `fit` returned.
    _close(kerasrnn.load(model.path).predict(texts), model.predict(texts))


@pytest.mark.parametrize("kind", GENERATIVE)
def test_sample_and_score_match_the_command_line(runs, kind):
    model = runs(kind)
    extra = {"condition": "Upland"} if kind == "one_to_many" else {"prompt": "ab"}
    flags = [f"--{k}={v}" for k, v in extra.items()]
    samples = model.sample(3, seed=5, **extra)
    assert samples == _cli_json("sample", model.path, "-n", "3", "--seed", "5", *flags)
    assert len(samples) == 3 and all(isinstance(s, str) for s in samples)
    texts = ["Wxyz", "Abcd"] if kind == "one_to_many" else ["ab AB.", "ba"]
    condition = {"condition": "Upland"} if kind == "one_to_many" else {}
    rows = sorted(model.score(texts, **condition), key=lambda r: -r["log_prob"])
    cli_flags = ["--condition", "Upland"] if condition else []
    _close(rows, _cli_json("score", model.path, *texts, *cli_flags))


def test_an_export_loads_and_answers_like_the_run(runs, tmp_path):
    model = runs("many_to_one")
    report = model.export(["tflite"], "none", tmp_path, texts=INPUTS["many_to_one"], echo=lambda _: None)
    lite = kerasrnn.load(report["artifacts"]["tflite/none"]["path"])
    assert lite.format == "tflite"
    want = model.predict(INPUTS["many_to_one"])
    got = lite.predict(INPUTS["many_to_one"])
    assert [r["output"] for r in got] == [r["output"] for r in want]
    _close([r["probabilities"] for r in got], [r["probabilities"] for r in want])
    assert set(lite.evaluate()) == {"split", "accuracy", "examples"}


def test_mistakes_raise_one_kerasrnn_error(runs, tmp_path):
    with pytest.raises(kerasrnn.KerasRNNError, match="no such file or folder"):
        kerasrnn.load(tmp_path / "missing")
    with pytest.raises(kerasrnn.KerasRNNError, match="not a run folder"):
        kerasrnn.load(tmp_path)
    classifier = runs("many_to_one")
    with pytest.raises(kerasrnn.KerasRNNError, match="a many_to_one run does not generate or score text"):
        classifier.sample(2)
    with pytest.raises(kerasrnn.KerasRNNError, match="training -> epocs: unknown key"):
        kerasrnn.fit({"name": "x", "type": "many_to_one", "training": {"epocs": 1}}, output=tmp_path / "x")


# Which examples `evaluate` scores (issue 15) ----------------------------------------


def test_evaluate_without_a_test_split_scores_validation_and_says_so(runs, tmp_path):
    model = runs("many_to_one")
    folder = tmp_path / "no_test"
    shutil.copytree(model.path, folder)
    recipe = yaml.safe_load((folder / "recipe.yaml").read_text())
    recipe["data"].update(test_split=0.0, valid_split=0.2)
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    result = kerasrnn.load(folder).evaluate()
    assert result["split"] == "validation" and "validation" in result["note"]
    valid = load_splits(kerasrnn.load(folder).recipe, echo=lambda _: None)["valid"]
    assert result["examples"] == len(valid) > 0
    _close(_cli_json("evaluate", str(folder)), result)
    shown = CliRunner().invoke(cli, ["evaluate", str(folder)])
    assert shown.exit_code == 0 and "split: validation" in shown.output
    assert kerasrnn.load(model.path).evaluate()["split"] == "test"


def test_evaluate_data_scores_the_given_file(runs, tmp_path):
    model = runs("many_to_one")
    (tmp_path / "more.tsv").write_text("w1 red w2\tred\nblue\tblue\ngreen w3\tred\n")
    result = _cli_json("evaluate", model.path, "--data", str(tmp_path / "more.tsv"))
    assert result["split"] == "files" and result["files"] == [str(tmp_path / "more.tsv")]
    assert result["examples"] == 3
    predicted = [row["output"] for row in model.predict(["w1 red w2", "blue", "green w3"])]
    assert result["accuracy"] == pytest.approx(sum(p == g for p, g in zip(predicted, ["red", "blue", "red"])) / 3)
