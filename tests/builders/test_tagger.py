"""The many_to_many tagger on tiny chunking data the tests make."""

import csv
import json
import random

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasrnn import builders, config, metrics
from kerasrnn.builders.base import as_text
from kerasrnn.data.loading import load_splits
from kerasrnn.builders.tagger import spelling
from kerasrnn.cli import cli
from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.runs import Run
from support import fit_recipe

WORDS = {
    "det": ["the", "a"],
    "adj": ["big", "red", "Old"],
    "noun": ["dog", "cat", "House", "car", "IBM"],
    "verb": ["sees", "likes", "eats"],
    "prep": ["in", "on"],
}


def noun_phrase(rng):
    words = ([rng.choice(WORDS["det"])] if rng.random() < 0.6 else [])
    words += [rng.choice(WORDS["adj"]) for _ in range(rng.randint(0, 2))]
    words.append(rng.choice(WORDS["noun"]))
    return words, ["B-NP"] + ["I-NP"] * (len(words) - 1)


def sentence(rng):
    """NP VP NP (PP NP)* . with BIO chunk tags; a noun's tag depends on context."""
    tokens, tags = [], []
    parts = [noun_phrase(rng), ([rng.choice(WORDS["verb"])], ["B-VP"]), noun_phrase(rng)]
    for _ in range(rng.randint(0, 2)):
        parts += [([rng.choice(WORDS["prep"])], ["B-PP"]), noun_phrase(rng)]
    for words, labels in parts + [([rng.choice([".", "!"])], ["O"])]:
        tokens += words
        tags += labels
    return tokens, tags


def write_conll(path, n, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            for token, tag in zip(*sentence(rng)):
                f.write(f"{token} {tag}\n")
            f.write("\n")


def chunking_recipe(folder, name, model, max_length=None):
    """Tiny chunking data (300 training and 60 test sentences) and a tagger recipe over it."""
    write_conll(folder / "train.conll", 300, 0)
    write_conll(folder / "test.conll", 60, 1)
    cut = f", max_length: {max_length}" if max_length else ""
    recipe = folder / f"{name}.yaml"
    recipe.write_text(
        f"name: {name}\ntype: many_to_many\n"
        f"data: {{train: {folder / 'train.conll'}, test: {folder / 'test.conll'}, "
        "columns: {source: 0, target: 1}, valid_split: 0.1, "
        f"source: {{tokenizer: pretokenized, lowercase: true{cut}}}, target: {{tokenizer: pretokenized{cut}}}}}\n"
        f"model: {{units: 24, embedding_dim: 16, bidirectional: true, {model}}}\n"
        "training: {epochs: 6, batch_size: 16, learning_rate: 0.01, verbose: 0, tensorboard: false}\n"
    )
    return recipe


@pytest.fixture(scope="module")
def tagger_run(tmp_path_factory):
    """A tiny tagger fit; sources are truncated to 8 tokens in training only."""
    folder = tmp_path_factory.mktemp("tagger")
    return fit_recipe(chunking_recipe(folder, "tiny_tagger", "spelling_features: true", max_length=8))[0], folder


def test_tagger_learns(tagger_run):
    out, _ = tagger_run
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[-1]["loss"]) < 0.3 * float(rows[0]["loss"])
    test = json.loads((out / "metrics.json").read_text())["test"]
    assert test["f1"] > 85 and test["token_accuracy"] > 0.9
    assert test["unseen_labels"] == 0


def test_evaluation_scores_whole_sentences(tagger_run):
    out, folder = tagger_run
    result = CliRunner().invoke(cli, ["evaluate", str(out), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    rng = random.Random(1)
    gold = [sentence(rng)[1] for _ in range(60)]
    assert max(len(tags) for tags in gold) > 8  # longer than the training cut
    assert scores["gold_chunks"] == sum(len(metrics.chunks(tags)) for tags in gold)
    assert scores["sentences"] == 60
    assert {"precision", "recall", "f1", "token_accuracy", "unseen_labels"} <= set(scores)
    assert scores["scheme"] == "chunks" and scores["split"] == "test"


def test_predict_gives_a_tag_per_token(tagger_run):
    out, _ = tagger_run
    text = "the big dog likes a cat in the old red house on the car ."
    result = CliRunner().invoke(cli, ["predict", str(out), text, "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["tokens"] == text.split()
    assert len(row["tags"]) == len(row["tokens"]) == 15  # never truncated
    assert row["output"] == " ".join(row["tags"])
    assert row["tags"][:4] == ["B-NP", "I-NP", "I-NP", "B-VP"]
    assert "<pad>" not in row["tags"]


def test_padded_sentence_is_tagged_as_alone(tagger_run):
    out, _ = tagger_run
    run = Run(str(out))
    builder, model, vocabs = run.builder, run.model, run.vocabs
    short, long = "a cat eats", "the big red dog sees the old cat in a house ."
    def logits(texts):
        ragged = builder.inputs(vocabs, tf.constant(texts), truncate=False)
        return model({k: v.to_tensor() for k, v in ragged.items()}).numpy()

    alone = logits([short])[0]
    together = logits([short, long])[0]
    np.testing.assert_allclose(alone, together[:3], atol=1e-5)


def test_unseen_tags_are_counted_and_misaligned_data_refused(tagger_run):
    out, _ = tagger_run
    run = Run(str(out))
    examples = [
        Example(("the", "dog", "eats"), ("B-NP", "I-NP", "B-XYZ")),
        Example(("a", "cat"), ("B-NP", "I-NP")),
    ]
    scores = run.builder.evaluate(run.model, run.vocabs, examples)
    assert scores["unseen_labels"] == 1
    assert scores["gold_chunks"] == 3 and scores["recall"] < 100
    with pytest.raises(DataError, match="3 tokens but 2 tags"):
        run.builder.evaluate(run.model, run.vocabs, [Example(("a", "b", "c"), ("O", "O"))])


def test_spelling_classes_and_suffixes():
    tokens = tf.constant(["dog", "Dog", "DOG", "dOg", "R2D2", ",", "Éte", "a"])
    shape, suffix = spelling(tokens)
    assert shape.numpy().tolist() == [1, 2, 3, 4, 5, 6, 2, 1]
    assert [s.decode() for s in suffix.numpy()] == [
        "dog", "dog", "dog", "dog", "2d2", ",", "éte", "a"
    ]


def test_spelling_features_need_word_tokens(tmp_path):
    from kerasrnn import builders, config

    train = tmp_path / "train.conll"
    write_conll(train, 2, 0)
    recipe = config.resolve(
        {
            "name": "chars",
            "type": "many_to_many",
            "data": {"train": str(train), "source": {"tokenizer": "char"}},
            "model": {"spelling_features": True},
        }
    )
    with pytest.raises(config.RecipeError, match="spelling_features: needs word tokens"):
        builders.get(recipe)


def write_factored_conll(path, n, seed, broken=False):
    """word, feature, tag: the tag follows the feature alone, never the word."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            for _ in range(rng.randint(3, 7)):
                feature = rng.choice(["A", "B"])
                word = rng.choice(["dog", "cat", "car"])
                if broken and i == n - 1:
                    f.write(f"{word} {'B-X' if feature == 'A' else 'O'}\n")
                    continue
                f.write(f"{word} {feature} {'B-X' if feature == 'A' else 'O'}\n")
            f.write("\n")


def factored_recipe(folder, **source):
    recipe = folder / "factored.yaml"
    recipe.write_text(
        "name: factored\ntype: many_to_many\n"
        f"data: {{train: {folder / 'train.conll'}, format: conll, "
        "columns: {source: [0, 1], target: 2}, valid_split: 0.1, "
        f"source: {json.dumps({'tokenizer': 'pretokenized', 'factors': 1, **source})}, "
        "target: {tokenizer: pretokenized}}\n"
        "model: {units: 8, embedding_dim: 8}\n"
        "training: {epochs: 4, batch_size: 16, learning_rate: 0.02, verbose: 0,"
        " tensorboard: false}\n"
    )
    return recipe


def test_token_features_from_a_second_column_are_learned(tmp_path):
    write_factored_conll(tmp_path / "train.conll", 200, 0)
    out, _ = fit_recipe(factored_recipe(tmp_path))
    assert (out / "vocab.factor_1.json").exists()
    sep = "\uffe8"
    text = f"dog{sep}A dog{sep}B cat{sep}B car{sep}A"
    result = CliRunner().invoke(cli, ["predict", str(out), text, "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["tokens"] == ["dog", "dog", "cat", "car"]
    assert row["tags"] == ["B-X", "O", "O", "B-X"]


def test_token_features_are_checked(tmp_path):
    write_factored_conll(tmp_path / "train.conll", 20, 0, broken=True)
    result = CliRunner().invoke(cli, ["fit", str(factored_recipe(tmp_path)), "--output", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "train.conll:" in result.output and "no column 2 for the target" in result.output
    result = CliRunner().invoke(cli, ["validate", str(factored_recipe(tmp_path, tokenizer="char"))])
    assert result.exit_code == 2
    assert "data -> source -> factors: needs tokenizer word or pretokenized" in result.output
    other = factored_recipe(tmp_path)
    other.write_text(other.read_text().replace("type: many_to_many", "type: many_to_one"))
    result = CliRunner().invoke(cli, ["validate", str(other)])
    assert result.exit_code == 2
    assert "factors: only a tagger (many_to_many) reads token features" in result.output
    result = CliRunner().invoke(cli, ["validate", str(factored_recipe(tmp_path, factors=2))])
    assert result.exit_code == 2
    assert "columns.source reads 2 columns, so factors must be 1" in result.output


def tags_from_every_artifact(run, out, name, texts):
    """Exports the run of recipe `name` in both formats into `out`; (export folder, the tags `predict` gives).

    The tags are checked to be the same from the run, the SavedModel and the .tflite.
    """
    result = CliRunner().invoke(cli, ["export", str(run), "--format", "all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / name
    answers = []
    for where in (run, folder, folder / "model.tflite"):
        result = CliRunner().invoke(cli, ["predict", str(where), *texts, "--json"])
        assert result.exit_code == 0, result.output
        answers.append([row["tags"] for row in json.loads(result.output)])
    assert answers[0] == answers[1] == answers[2]
    return folder, answers[0]


def test_crf_tagger_learns_and_every_artifact_gives_its_viterbi_tags(tmp_path):
    recipe = chunking_recipe(tmp_path, "crf_tagger", "crf: true")
    out, _ = fit_recipe(recipe)
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[-1]["loss"]) < 0.3 * float(rows[0]["loss"])
    assert float(rows[-1]["val_accuracy"]) > 0.9
    assert json.loads((out / "metrics.json").read_text())["test"]["f1"] > 85

    texts = ["the big dog likes a cat in the old red house on the car .", "IBM eats ."]
    folder, answers = tags_from_every_artifact(out, tmp_path / "export", "crf_tagger", texts)
    tags = len(json.loads((folder / "vocab.target.json").read_text())["tokens"])
    assert np.asarray(json.loads((folder / "export.json").read_text())["crf"]["transitions"]).shape == (tags, tags)
    assert answers[0][:4] == ["B-NP", "I-NP", "I-NP", "B-VP"] and len(answers[0]) == 15
    served = tf.saved_model.load(str(folder / "1")).signatures["serving_default"](text=tf.constant(texts))
    assert [[t.decode() for t in row if t] for row in served["tags"].numpy()] == answers
    # The CRF's marginals: a distribution over the tags at each real token, none past it.
    probs, lengths = served["probabilities"].numpy(), served["length"].numpy()
    real = np.arange(probs.shape[1])[None] < lengths[:, None]
    np.testing.assert_allclose(probs.sum(-1)[real], 1.0, atol=1e-4)
    assert (probs[~real] == 0).all()


def test_crf_is_for_taggers_only(tmp_path):
    write_factored_conll(tmp_path / "train.conll", 20, 0)
    recipe = factored_recipe(tmp_path)
    recipe.write_text(recipe.read_text().replace("type: many_to_many", "type: many_to_one")
                      .replace("model: {", "model: {crf: true, "))
    result = CliRunner().invoke(cli, ["validate", str(recipe)])
    assert result.exit_code == 2
    assert "model -> crf: only a tagger (many_to_many) has a CRF output" in result.output


def test_word_dropout_reads_words_as_unknown_in_training_only():
    from kerasrnn.layers import TokenDropout

    ids = np.tile(np.array([[5, 9, 7, 1, 0, 0]], np.int32), (2000, 1))
    layer = TokenDropout(0.25, seed=3)
    dropped = layer(ids, training=True).numpy()
    assert (dropped[:, 4:] == 0).all()  # padding stays padding
    assert set(np.unique(dropped[:, :3])) == {1, 5, 7, 9}
    assert abs((dropped[:, :3] == 1).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(layer(ids, training=False).numpy(), ids)
    assert TokenDropout.from_config(layer.get_config()).rate == 0.25


def write_spelled_conll(path, n, seed):
    """Made-up words; a word's tag is B-X when it ends in "zz" and O otherwise."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxy"
    with open(path, "w") as f:
        for _ in range(n):
            for _ in range(rng.randint(2, 6)):
                word = "".join(rng.choice(letters) for _ in range(rng.randint(2, 6)))
                marked = rng.random() < 0.4
                f.write(f"{word + 'zz' if marked else word} {'B-X' if marked else 'O'}\n")
            f.write("\n")


def test_char_cnn_tags_unseen_words_by_their_spelling_in_every_artifact(tmp_path):
    write_spelled_conll(tmp_path / "train.conll", 400, 0)
    recipe = tmp_path / "chars.yaml"
    recipe.write_text(
        "name: chars\ntype: many_to_many\n"
        f"data: {{train: {tmp_path / 'train.conll'}, columns: {{source: 0, target: 1}}, valid_split: 0.1, "
        "source: {tokenizer: pretokenized}, target: {tokenizer: pretokenized}}\n"
        "model: {units: 16, embedding_dim: 8, char_cnn: 16, word_dropout: 0.2}\n"
        "training: {epochs: 5, batch_size: 16, learning_rate: 0.01, verbose: 0, tensorboard: false}\n"
    )
    out, _ = fit_recipe(recipe)
    rng = random.Random(7)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxy") for _ in range(rng.randint(3, 9))) for _ in range(60)]
    words = [w + "zz" if i % 2 else w for i, w in enumerate(words)]
    texts = [" ".join(words[i : i + 5]) for i in range(0, 60, 5)] + ["qq"]
    want = [["B-X" if w.endswith("zz") else "O" for w in t.split()] for t in texts]

    _, answers = tags_from_every_artifact(out, tmp_path / "export", "chars", texts)
    right = [g == w for got, tags in zip(answers, want) for g, w in zip(got, tags)]
    assert np.mean(right) > 0.9


def test_part_of_speech_tags_get_token_accuracy_and_per_tag_f1_not_chunk_f1(tmp_path):
    """Tags without B-/I- prefixes are not chunks: conlleval's chunk F1 would mislead."""
    rng = random.Random(0)
    lexicon = {"the": "DT", "a": "DT", "dog": "NN", "cat": "NN", "sees": "VBZ", ".": "."}
    lines = []
    for _ in range(40):
        words = [rng.choice(["the", "a"]), rng.choice(["dog", "cat"]), "sees", "the", "cat", "."]
        lines += [f"{w} {lexicon[w]}" for w in words] + [""]
    (tmp_path / "pos.conll").write_text("\n".join(lines) + "\n")
    recipe = config.resolve({"name": "tiny_pos", "type": "many_to_many",
                             "data": {"train": str(tmp_path / "pos.conll"), "test_split": 0.2,
                                      "source": {"tokenizer": "pretokenized"},
                                      "target": {"tokenizer": "pretokenized"}},
                             "model": {"units": 8, "embedding_dim": 4}})
    builder = builders.get(recipe)
    splits = load_splits(recipe, echo=lambda _: None)
    vocabs = builder.fit_vocabs(splits["train"], echo=lambda _: None)
    model = builder.build(vocabs)
    scores = builder.evaluate(model, vocabs, splits["test"])
    assert scores["scheme"] == "tags"
    assert not {"precision", "recall", "f1", "gold_chunks"} & set(scores)
    _, gold = builder.gold(splits["test"])
    _, predicted = builder.tag(model, vocabs, [as_text(ex.source) for ex in splits["test"]])
    want = metrics.tagging_scores(gold, predicted)
    assert scores["token_accuracy"] == want["token_accuracy"] and scores["per_tag_f1"] == want["per_tag_f1"]
    assert set(scores["per_tag_f1"]) <= {"DT", "NN", "VBZ", "."}
