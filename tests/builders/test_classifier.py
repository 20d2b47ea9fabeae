"""many_to_one and one_to_one builders on tiny data the tests make."""

import csv
import json
import random

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from kerasrnn import builders, config
from kerasrnn.layers import MaskedMaxPooling1D
from kerasrnn.cli import cli
from kerasrnn.data.examples import Example
from kerasrnn.runs import Run
from kerasrnn.training import make_optimizer
from support import fit_recipe

COLOURS = ("red", "green", "blue")
FILLER = [f"w{i}" for i in range(12)]


def marker_examples(n, seed):
    """Filler words with one colour word somewhere; the label is the colour."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = rng.choices(FILLER, k=rng.randint(3, 9))
        colour = rng.choice(COLOURS)
        words.insert(rng.randrange(len(words) + 1), colour)
        out.append(Example(" ".join(words), colour))
    return out


def make_recipe(tmp_path, kind="many_to_one", source="word", **model):
    train = tmp_path / "train.tsv"
    train.write_text("a\tb\n")
    return config.resolve(
        {
            "name": "tiny",
            "type": kind,
            "data": {"train": str(train), "source": {"tokenizer": source}},
            "model": {"units": 16, "embedding_dim": 16, **model},
            "training": {"batch_size": 32, "learning_rate": 0.01, "seed": 3},
        }
    )


def train(builder, examples, epochs):
    keras.utils.set_random_seed(3)
    vocabs = builder.fit_vocabs(examples)
    model = builder.build(vocabs)
    model.compile(
        optimizer=make_optimizer(builder.recipe["training"]),
        loss=builder.loss(),
        weighted_metrics=builder.metrics(),
    )
    history = model.fit(builder.dataset(examples, vocabs, training=True), epochs=epochs, verbose=0)
    return model, vocabs, history.history["loss"]


@pytest.mark.parametrize(
    "pooling, bidirectional", [("last", True), ("mean", False), ("max", True)]
)
def test_padding_does_not_change_the_prediction(tmp_path, pooling, bidirectional):
    builder = builders.get(
        make_recipe(tmp_path, pooling=pooling, bidirectional=bidirectional, layers=2, residual=True)
    )
    examples = marker_examples(50, 0)
    vocabs = builder.fit_vocabs(examples)
    model = builder.build(vocabs)
    short, long = "w1 red w2", "w3 w4 w5 blue w6 w7 w8 w9"
    alone = model({"source": builder.inputs(vocabs, [short])["source"].to_tensor()})
    padded = builder.inputs(vocabs, [short, long])["source"].to_tensor()
    assert padded.shape[1] > 3
    together = model({"source": padded})
    np.testing.assert_allclose(alone[0], together[0], atol=1e-5)


def test_masked_max_pooling_ignores_padding():
    x = np.array([[[1.0, -3.0], [9.0, 9.0], [2.0, -1.0]], [[5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]])
    mask = np.array([[True, False, True], [False, False, False]])
    out = MaskedMaxPooling1D()(x, mask=mask)
    np.testing.assert_allclose(out, [[2.0, -1.0], [0.0, 0.0]])


def test_regression_head_learns_a_count(tmp_path):
    rng = random.Random(0)
    examples = []
    for _ in range(300):
        words = rng.choices(["x", "y", "z"], k=rng.randint(2, 8))
        examples.append(Example(" ".join(words), str(words.count("x"))))
    builder = builders.get(make_recipe(tmp_path, head="regression", pooling="mean"))
    model, vocabs, losses = train(builder, examples, epochs=5)
    assert "target" not in vocabs
    scores = builder.evaluate(model, vocabs, examples[:100])
    gold = [float(ex.target) for ex in examples[:100]]
    variance = np.var(gold)
    assert scores["mse"] < 0.5 * variance
    assert set(scores) == {"mse", "mae", "examples"}
    assert isinstance(builder.predict(model, vocabs, ["x x y"])[0]["output"], float)


def test_regression_needs_numbers(tmp_path):
    from kerasrnn.data.errors import DataError

    builder = builders.get(make_recipe(tmp_path, head="regression"))
    with pytest.raises(DataError, match="needs a number"):
        builder.fit_vocabs([Example("a b", "three")])


def test_one_to_one_learns_a_lexicon(tmp_path):
    words = [f"word{i}" for i in range(40)]
    lexicon = {w: COLOURS[i % 3] for i, w in enumerate(words)}
    examples = [Example(w, lexicon[w]) for w in words for _ in range(6)]
    builder = builders.get(make_recipe(tmp_path, kind="one_to_one", source="label"))
    model, vocabs, losses = train(builder, examples, epochs=8)
    assert model.input["source"].shape[1] == 1  # T = 1
    assert losses[-1] < 0.5 * losses[0]
    scores = builder.evaluate(model, vocabs, [Example(w, lexicon[w]) for w in words])
    assert scores["accuracy"] > 0.9
    # An item never seen in training goes through <unk>, not an error.
    assert builder.predict(model, vocabs, ["never-seen"])[0]["output"] in COLOURS


def test_one_to_one_reads_whole_items(tmp_path):
    with pytest.raises(config.RecipeError, match="source -> tokenizer: one_to_one"):
        builders.get(make_recipe(tmp_path, kind="one_to_one", source="word"))


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """A tiny many_to_one fit through the command line."""
    folder = tmp_path_factory.mktemp("colours")
    data = folder / "colours.tsv"
    data.write_text("".join(f"{ex.source}\t{ex.target}\n" for ex in marker_examples(400, 5)))
    recipe = folder / "colours.yaml"
    recipe.write_text(
        "name: colours\ntype: many_to_one\n"
        f"data: {{train: {data}, valid_split: 0.1, test_split: 0.2, source: {{tokenizer: word}}}}\n"
        "model: {units: 16, embedding_dim: 16, pooling: max, bidirectional: true}\n"
        "training: {epochs: 5, batch_size: 32, learning_rate: 0.01, verbose: 0,"
        " tensorboard: false}\n"
    )
    out, output = fit_recipe(recipe)
    assert "test macro_f1" in output
    return out


def test_many_to_one_learns(colour_run):
    with open(colour_run / "history.csv", newline="") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    assert losses[-1] < 0.5 * losses[0]
    test = json.loads((colour_run / "metrics.json").read_text())["test"]
    assert test["accuracy"] > 0.8 and test["macro_f1"] > 0.8  # chance is 1/3
    assert test["unseen_labels"] == 0


def test_evaluate_and_predict_through_the_cli(colour_run):
    runner = CliRunner()
    evaluated = runner.invoke(cli, ["evaluate", str(colour_run), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    scores = json.loads(evaluated.output)
    assert scores["accuracy"] > 0.8 and scores["examples"] > 50

    predicted = runner.invoke(cli, ["predict", str(colour_run), "w1 w2 blue w3", "--json"])
    assert predicted.exit_code == 0, predicted.output
    [row] = json.loads(predicted.output)
    assert row["input"] == "w1 w2 blue w3"
    assert row["output"] == "blue"
    text = runner.invoke(cli, ["predict", str(colour_run), "red w5"])
    assert text.output.strip().split("\t") == ["red w5", "red"]


def test_predict_lists_the_likeliest_labels(colour_run):
    run = Run(str(colour_run))
    rows = run.builder.predict(run.model, run.vocabs, ["w4 green w5 w6", "blue"])
    assert [r["input"] for r in rows] == ["w4 green w5 w6", "blue"]
    assert [r["output"] for r in rows] == ["green", "blue"]
    for row in rows:
        probs = list(row["probabilities"].values())
        assert list(row["probabilities"])[0] == row["output"]
        assert probs == sorted(probs, reverse=True) and len(probs) == 3
        assert 0.99 <= sum(probs) <= 1.0001
        assert set(row["probabilities"]) == set(COLOURS)


def test_unseen_labels_are_counted_as_errors(colour_run):
    run = Run(str(colour_run))
    examples = [Example("w1 red w2", "purple"), Example("w3 blue", "blue")]
    scores = run.builder.evaluate(run.model, run.vocabs, examples)
    assert scores["unseen_labels"] == 1
    assert scores["accuracy"] <= 0.5  # "purple" cannot be predicted


BLOBS = {"north": (0.0, 3.0), "east": (3.0, 0.0), "south": (0.0, -3.0)}


def test_one_to_one_reads_a_vector_of_numbers(tmp_path):
    rng = random.Random(0)
    with open(tmp_path / "points.csv", "w") as f:
        for _ in range(300):
            label = rng.choice(sorted(BLOBS))
            x, y = (c + rng.gauss(0, 0.5) for c in BLOBS[label])
            f.write(f"{x:.3f},{y:.3f},{label}\n")
    recipe = tmp_path / "points.yaml"
    recipe.write_text(
        "name: points\ntype: one_to_one\n"
        f"data: {{train: {tmp_path / 'points.csv'}, format: csv, columns: {{source: [0, 1], target: 2}},"
        " test_split: 0.1, source: {tokenizer: vector}, target: {tokenizer: label}}\n"
        "model: {units: 16}\n"
        "training: {epochs: 6, batch_size: 16, learning_rate: 0.02, verbose: 0, tensorboard: false}\n"
    )
    run, _ = fit_recipe(recipe)
    assert json.loads((run / "metrics.json").read_text())["test"]["accuracy"] > 0.9
    assert json.loads((run / "vocab.source.json").read_text())["tokens"] == ["x1", "x2"]
    result = CliRunner().invoke(cli, ["predict", str(run), "0.1, 2.9", "3.2 -0.1", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["output"] for r in json.loads(result.output)] == ["north", "east"]
    result = CliRunner().invoke(cli, ["predict", str(run), "1 2 3"])
    assert result.exit_code == 2
    assert "input 1: 3 numbers where the vectors have 2" in result.output
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", str(run), "--format", "all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["predict", str(out / "points" / "model.tflite"),
                                      "0.1, 2.9", "3.2 -0.1", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["output"] for r in json.loads(result.output)] == ["north", "east"]
    result = CliRunner().invoke(cli, ["predict", str(out / "points" / "model.tflite"), "1 2 3"])
    assert result.exit_code == 2
    assert "input 1: 3 numbers where the vectors have 2" in result.output


def test_vector_inputs_are_for_one_to_one_and_numbers_only(tmp_path):
    from kerasrnn.data.errors import DataError

    with pytest.raises(config.RecipeError, match="vector is for the input of one_to_one only"):
        make_recipe(tmp_path, kind="many_to_one", source="vector")
    builder = builders.get(make_recipe(tmp_path, kind="one_to_one", source="vector"))
    with pytest.raises(DataError, match="example 2: 'x' is not a finite number"):
        builder.fit_vocabs([Example("1 2", "a"), Example("1 x", "b")])
    with pytest.raises(DataError, match="example 2: 1 numbers where the vectors have 2"):
        builder.fit_vocabs([Example("1 2", "a"), Example("1", "b")])


def test_word_dropout_reads_a_classifiers_words_as_unknown_in_training_only(tmp_path):
    builder = builders.get(make_recipe(tmp_path, word_dropout=0.5, dropout=0.0))
    examples = marker_examples(50, 0)
    vocabs = builder.fit_vocabs(examples)
    model = builder.build(vocabs)
    assert model.get_layer("source_embedding").input is model.get_layer("word_dropout").output
    ids = builder.inputs(vocabs, ["w1 red w2 w3 w4 w5"] * 64)["source"].to_tensor()
    np.testing.assert_array_equal(model({"source": ids}), model({"source": ids}, training=False))
    trained = keras.ops.convert_to_numpy(model({"source": ids}, training=True))
    assert len({tuple(np.round(row, 5)) for row in trained}) > 1
    with pytest.raises(config.RecipeError, match="word_dropout: only a tagger .* or a classifier"):
        make_recipe(tmp_path, kind="one_to_one", word_dropout=0.5)
