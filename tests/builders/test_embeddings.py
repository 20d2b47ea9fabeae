"""Pretrained word vectors in the builders: initial weights, frozen or trained, projected, self-contained runs."""

import json
import re

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from support import fit_recipe

from kerasrnn import builders, config
from kerasrnn.cli import cli
from kerasrnn.data.examples import Example
from kerasrnn.training import make_optimizer

COLOURS = ("red", "green", "blue")
# Every colour and some filler words have a vector; w9..w11 have none.
WORDS = {**{c: [float(i == k) for k in range(4)] for i, c in enumerate(COLOURS)},
         **{f"w{i}": [0.1 * i, -0.1 * i, 0.05, 0.0] for i in range(9)}, "Purple": [0.0, 0.0, 0.0, 1.0],
         "mauve": [0.5, 0.5, 0.5, 0.5]}


def write_vectors(path, words=WORDS):
    path.write_text("".join(f"{w} {' '.join(str(v) for v in vec)}\n" for w, vec in words.items()))
    return path


def examples(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words = [f"w{i}" for i in rng.integers(0, 12, rng.integers(2, 6))]
        colour = COLOURS[rng.integers(3)]
        words.insert(int(rng.integers(len(words) + 1)), colour)
        out.append(Example(" ".join(words), colour))
    return out


def recipe_with(tmp_path, embeddings, kind="many_to_one", data=None, **model):
    train = tmp_path / "train.tsv"
    train.write_text("a\tb\n")
    return config.resolve({
        "name": "vectors", "type": kind,
        "data": data or {"train": str(train), "source": {"tokenizer": "word"}},
        "model": {"units": 8, "embedding_dim": 4, "embeddings": embeddings, **model},
        "training": {"batch_size": 16, "learning_rate": 0.05, "seed": 3},
    })


def embedding_of(model, name="source_embedding"):
    return model.get_layer(name).get_weights()[0]


def fitted(recipe, data, epochs=1):
    keras.utils.set_random_seed(3)
    builder = builders.get(recipe)
    lines = []
    vocabs = builder.fit_vocabs(data, echo=lines.append)
    model = builder.build(vocabs)
    start = embedding_of(model).copy()
    model.compile(optimizer=make_optimizer(recipe["training"]), loss=builder.loss(),
                  weighted_metrics=builder.metrics())
    model.fit(builder.dataset(data, vocabs, training=True), epochs=epochs, verbose=0)
    return model, vocabs, start, lines


@pytest.mark.parametrize("trainable", [False, True])
def test_vectors_start_the_embeddings_and_stay_fixed_unless_trainable(tmp_path, trainable):
    path = write_vectors(tmp_path / "v.txt")
    recipe = recipe_with(tmp_path, {"path": str(path), "trainable": trainable})
    model, vocabs, start, lines = fitted(recipe, examples(64))
    index = vocabs["source"].index
    for word in ("red", "w3"):
        np.testing.assert_array_equal(start[index[word]], np.float32(WORDS[word]))
    assert lines[-1] == "source: vectors for 12 of 15 words (80.0%) in v.txt"
    end = embedding_of(model)
    if trainable:
        assert not np.allclose(end, start)
    else:
        np.testing.assert_array_equal(end, start)
        assert not model.get_layer("source_embedding").trainable_weights


def test_a_static_copy_stays_the_vectors_while_the_trained_copy_moves(tmp_path):
    path = write_vectors(tmp_path / "v.txt")
    recipe = recipe_with(tmp_path, {"path": str(path), "static_copy": True}, pooling="max")
    model, vocabs, start, _ = fitted(recipe, examples(64), epochs=2)
    static = embedding_of(model, "source_embedding_static")
    np.testing.assert_array_equal(static, start)
    assert not model.get_layer("source_embedding_static").trainable_weights
    trained = embedding_of(model)
    assert not np.allclose(trained, start)
    # What the encoder reads is the mean of the two copies.
    ids = np.array([[vocabs["source"].index[w] for w in ("red", "w3", "w10")]])
    read = keras.Model(model.inputs, model.get_layer("source_embedding_channels").output).predict(ids, verbose=0)
    np.testing.assert_allclose(read[0], (trained[ids[0]] + static[ids[0]]) / 2, rtol=1e-6)


def test_case_fallback_and_added_words_within_max_vocab(tmp_path):
    path = write_vectors(tmp_path / "v.txt")
    data = [Example("purple red w1", "red"), Example("green w2", "green")]
    recipe = recipe_with(tmp_path, {"path": str(path), "add_words": True},
                         data={"train": str(tmp_path / "train.tsv"),
                               "source": {"tokenizer": "word", "max_vocab": 10}})
    (tmp_path / "train.tsv").write_text("a\tb\n")
    builder = builders.get(recipe)
    lines = []
    vocabs = builder.fit_vocabs(data, echo=lines.append)
    # 5 training words and 4 specials leave room for 1: the file's first unseen word.
    assert vocabs["source"].tokens[4:] == ["green", "purple", "red", "w1", "w2", "blue"]
    assert lines[-1] == ("source: vectors for 5 of 5 words (100.0%); 1 by another case, "
                         "1 word added from the file in v.txt")
    weights = embedding_of(builder.build(vocabs))
    np.testing.assert_array_equal(weights[vocabs["source"].index["purple"]], np.float32(WORDS["Purple"]))
    np.testing.assert_array_equal(weights[vocabs["source"].index["blue"]], np.float32(WORDS["blue"]))


def test_other_sizes_are_projected_when_asked(tmp_path):
    path = write_vectors(tmp_path / "v.txt")
    recipe = recipe_with(tmp_path, {"path": str(path), "project": True}, embedding_dim=6)
    model, _, start, _ = fitted(recipe, examples(32), epochs=1)
    assert start.shape[1] == 4
    assert model.get_layer("source_embedding_projection").kernel.shape == (4, 6)


def test_seq2seq_target_and_tagger_source(tmp_path):
    path = write_vectors(tmp_path / "v.txt")
    data = {"train": str(tmp_path / "train.tsv"), "source": {"tokenizer": "word"},
            "target": {"tokenizer": "word"}}
    (tmp_path / "train.tsv").write_text("a\tb\n")
    recipe = recipe_with(tmp_path, {"path": str(path), "side": "both"}, kind="seq2seq", data=data)
    builder = builders.get(recipe)
    pairs = [Example("red w1", "blue w2 w9"), Example("green", "w3")]
    vocabs = builder.fit_vocabs(pairs, echo=lambda _: None)
    model = builder.build(vocabs)
    for side in ("source", "target"):
        weights = embedding_of(model, f"{side}_embedding")
        for word in vocabs[side].tokens[4:]:
            if word in WORDS:
                np.testing.assert_array_equal(weights[vocabs[side].index[word]], np.float32(WORDS[word]))
    tagging = recipe_with(tmp_path, {"path": str(path), "trainable": False}, kind="many_to_many",
                          data={"train": str(tmp_path / "train.tsv"),
                                "source": {"tokenizer": "pretokenized"}, "target": {"tokenizer": "pretokenized"}})
    builder = builders.get(tagging)
    vocabs = builder.fit_vocabs([Example("red w1", "A B")], echo=lambda _: None)
    layer = builder.build(vocabs).get_layer("source_embedding")
    assert not layer.trainable
    np.testing.assert_array_equal(layer.get_weights()[0][vocabs["source"].index["red"]], np.float32(WORDS["red"]))


@pytest.mark.parametrize(
    "embeddings, extra, message",
    [
        ({"side": "target"}, {}, "model -> embeddings -> side: many_to_one does not start its target embeddings"),
        ({}, {"data.source.tokenizer": "char"}, "vectors are for words; data -> source -> tokenizer is 'char'"),
        ({"add_words": True}, {}, "add_words: true adds words up to data -> source -> max_vocab, which is not set"),
        ({"dataset": "glove_6B_50d"}, {}, "model -> embeddings: give path or dataset, not both"),
        ({"format": "fasttext"}, {}, "model -> embeddings -> format: 'fasttext' is not one of"),
        ({"static_copy": True, "trainable": False}, {},
         "model -> embeddings -> static_copy: the copy only differs from trained embeddings"),
    ],
)
def test_recipe_errors(tmp_path, embeddings, extra, message):
    path = write_vectors(tmp_path / "v.txt")
    train = tmp_path / "train.tsv"
    train.write_text("a\tb\n")
    raw = {"name": "v", "type": "many_to_one", "data": {"train": str(train), "source": {"tokenizer": "word"}},
           "model": {"embeddings": {"path": str(path), **embeddings}}}
    raw = config.apply_overrides(raw, [f"{k}={v}" for k, v in extra.items()])
    with pytest.raises(config.RecipeError, match=message):
        config.resolve(raw)


def colour_recipe(folder, vectors_line):
    data = folder / "colours.tsv"
    data.write_text("".join(f"{ex.source}\t{ex.target}\n" for ex in examples(200, 5)))
    recipe = folder / "colours.yaml"
    recipe.write_text(
        "name: colours\ntype: many_to_one\n"
        f"data: {{train: {data}, valid_split: 0.1, test_split: 0.2, source: {{tokenizer: word}}}}\n"
        f"model: {{units: 8, embedding_dim: 4, pooling: max, embeddings: {vectors_line}}}\n"
        "training: {epochs: 2, batch_size: 32, learning_rate: 0.01, verbose: 0, tensorboard: false}\n"
    )
    return recipe


@pytest.mark.parametrize("static_copy", [False, True])
def test_a_run_needs_no_vector_file_to_reload_and_export(tmp_path, static_copy):
    path = write_vectors(tmp_path / "v.txt")
    recipe = colour_recipe(tmp_path, f"{{path: {path}, add_words: 2, static_copy: {str(static_copy).lower()}}}")
    run, output = fit_recipe(recipe)
    assert "source: vectors for 12 of 15 words (80.0%); 2 words added from the file in v.txt" in output
    path.unlink()
    runner = CliRunner()
    texts = ["w1 red w2", "mauve blue", "w11 green w10 w0"]
    expected = runner.invoke(cli, ["predict", str(run), *texts, "--json"])
    assert expected.exit_code == 0, expected.output
    exported = runner.invoke(cli, ["export", str(run), "--format", "savedmodel", "--out", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    got = runner.invoke(cli, ["predict", str(tmp_path / "out" / "colours" / "1"), *texts, "--json"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout) == json.loads(expected.stdout)


@pytest.mark.parametrize(
    "content, message",
    [("red 1 2 3 4\nblue 1 2 3\n", r"v\.txt:2: 3 values where the first vector has 4"),
     ("red 1 2 3 4\nblue 1 x 3 4\n", r"v\.txt:2: 'x' is not a finite number"),
     ("", r"v\.txt: no vectors in the file"),
     ("red 1 2 3\n", r"v\.txt:1: vectors of 3 values, but model\.embedding_dim is 4")],
)
def test_bad_vectors_stop_fit_with_one_line_and_exit_2(tmp_path, content, message):
    (tmp_path / "v.txt").write_text(content)
    recipe = colour_recipe(tmp_path, f"{{path: {tmp_path / 'v.txt'}}}")
    result = CliRunner().invoke(cli, ["fit", str(recipe), "--output", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if "v.txt" in line]
    assert len(errors) == 1 and re.search(message, errors[0]), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
