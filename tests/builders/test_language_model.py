"""The language_model builder: learning, scoring, sampling, stream (TBPTT) training."""

import json
import math
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasrnn
from kerasrnn import config, training
from kerasrnn.builders.language_model import LanguageModel
from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.data.splits import split_by_position
from kerasrnn.data.vocab import EOS_ID
from kerasrnn.decoding import log_softmax
from kerasrnn.layers import TiedEmbedding
from kerasrnn.runs import Run


def lines(count, seed=0):
    """Lines of a small regular language: a letter run, then its mirror in capitals."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        word = "".join(rng.choice("abc") for _ in range(rng.randint(2, 5)))
        out.append(f"{word} {word.upper()}.")
    return out


def lm_recipe(path, **model):
    raw = {
        "name": "tiny_lm",
        "type": "language_model",
        "data": {"train": str(path), "valid_split": 0.1, "test_split": 0.1, "source": {"tokenizer": "char"}},
        "model": {"units": 32, "embedding_dim": 16, **model},
        "training": {"epochs": 6, "batch_size": 16, "learning_rate": 0.02, "verbose": 0},
        "decoding": {"max_length": 20},
    }
    return raw


def fit(tmp, raw):
    recipe = config.resolve(raw)
    run_dir = tmp / "run"
    result = training.fit(recipe, str(run_dir), echo=lambda _: None)
    return Run(str(run_dir)), result


@pytest.fixture(scope="module")
def sentence_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lm")
    (tmp / "train.txt").write_text("\n".join(lines(400)) + "\n")
    # Tied embeddings with units != embedding_dim exercise the projection.
    return fit(tmp, lm_recipe(tmp / "train.txt", tie_embeddings=True))


@pytest.fixture(scope="module")
def stream_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lm_stream")
    (tmp / "train.txt").write_text("\n".join(lines(300, seed=1)) + "\n")
    raw = lm_recipe(tmp / "train.txt")
    raw["data"].update({"lm_mode": "stream", "window": 12, "split_by": "position"})
    raw["training"].update({"batch_size": 4, "epochs": 3})
    return fit(tmp, raw)


def test_sentence_lm_learns_and_beats_chance(sentence_run):
    run, result = sentence_run
    from kerasrnn.runs import read_history

    history = read_history(f"{run.dir}/history.csv")
    assert history[-1]["loss"] < 0.6 * history[0]["loss"]
    test = result["test"]
    chance = len(run.vocabs["source"]) - 2  # every token but <pad> and <bos>
    assert test["perplexity"] < chance / 3
    assert math.isclose(test["perplexity"], math.exp(test["loss"]), rel_tol=1e-9)
    assert math.isclose(test["bits_per_token"], test["loss"] / math.log(2), rel_tol=1e-9)


def test_tied_embeddings_share_the_matrix(sentence_run):
    run, _ = sentence_run
    names = {layer.name for layer in run.model.layers}
    assert "logits" not in names and "tie_projection" in names
    assert isinstance(run.model.get_layer("embedding"), TiedEmbedding)


def test_score_is_the_sum_of_step_log_probs(sentence_run):
    run, _ = sentence_run
    builder = run.builder
    text = "abc ABC."
    scored = builder.score(run.model, run.vocabs, [text])[0]
    _, step = builder.inference_models(run.model, run.vocabs)
    ids = run.vocabs["source"].encode(list(text))
    states = [np.zeros((1, 32), np.float32) for _ in range(2)]
    total, token = 0.0, builder.start_id
    for label in ids + [EOS_ID]:
        out = step([np.array([[token]], np.int32)] + states, training=False)
        logits, states = np.asarray(out[0]), [np.asarray(s) for s in out[1:]]
        total += log_softmax(logits)[0, label]
        token = label
    assert scored["tokens"] == len(text) + 1
    assert scored["log_prob"] == pytest.approx(total, abs=1e-4)
    assert scored["mean_log_prob"] == pytest.approx(total / (len(text) + 1), abs=1e-5)


def test_score_prefers_text_of_the_trained_language(sentence_run):
    run, _ = sentence_run
    good, bad = "abc ABC.", "abc CBA."
    rows = run.builder.score(run.model, run.vocabs, [bad, good])
    assert rows[1]["log_prob"] > rows[0]["log_prob"]
    assert rows[1]["perplexity"] < rows[0]["perplexity"]


def test_sampling_is_seeded(sentence_run):
    run, _ = sentence_run
    sample = run.builder.sample
    first = sample(run.model, run.vocabs, 6, decoding={"strategy": "sample"}, seed=3)
    again = sample(run.model, run.vocabs, 6, decoding={"strategy": "sample"}, seed=3)
    other = sample(run.model, run.vocabs, 6, decoding={"strategy": "sample"}, seed=4)
    assert first == again
    assert first != other
    assert len(first) == 6 and all(isinstance(t, str) for t in first)


def test_beam_of_one_and_top_k_of_one_are_greedy(sentence_run):
    run, _ = sentence_run
    sample = run.builder.sample
    greedy = sample(run.model, run.vocabs, 1, prompt="ab", decoding={"strategy": "greedy"})
    beam = sample(run.model, run.vocabs, 1, prompt="ab", decoding={"strategy": "beam", "beam_width": 1})
    top1 = sample(run.model, run.vocabs, 1, prompt="ab", decoding={"strategy": "sample", "top_k": 1}, seed=9)
    assert greedy == beam == top1
    assert greedy[0].startswith("ab") and len(greedy[0]) > 2


def test_a_condition_is_refused(sentence_run):
    run, _ = sentence_run
    with pytest.raises(DataError, match="no conditions"):
        run.builder.sample(run.model, run.vocabs, 1, condition="x")


def test_stream_carry_equals_one_unbroken_pass(stream_run):
    """Carrying states across windows (TBPTT) reads the text as one pass does."""
    run, _ = stream_run
    model, builder = run.model, run.builder
    assert all(layer.stateful for layer in model.layers if hasattr(layer, "stateful"))
    ids = builder.stream_ids(run.vocabs, lines(30, seed=5))
    inputs, _, _ = builder.windows(ids, 4, 12)
    assert inputs.shape[0] >= 3
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    carried = np.concatenate(
        [np.asarray(model({"tokens": window}, training=False)) for window in inputs], axis=1
    )
    reader, _ = builder.inference_models(model, run.vocabs)
    whole = np.concatenate(list(inputs), axis=1)
    zeros = [np.zeros((4, 32), np.float32)] * 2
    unbroken = np.asarray(reader([whole] + zeros, training=False)[0])
    np.testing.assert_allclose(carried, unbroken, atol=1e-4)
    # Without the carried state the windows after the first read differently.
    cut = np.asarray(reader([inputs[1]] + zeros, training=False)[0])
    assert np.abs(cut - unbroken[:, 12:24]).max() > 1e-3


def test_stream_windows_continue_each_row():
    builder = LanguageModel(config.resolve({"name": "t", "type": "language_model", "data": {"train": __file__, "lm_mode": "stream"}}))
    ids = np.arange(10, 10 + 50, dtype=np.int32)
    inputs, labels, weights = builder.windows(ids, 2, 5)
    assert inputs.shape == labels.shape == weights.shape == (5, 2, 5)
    row0 = np.concatenate(list(labels[:, 0]))
    row1 = np.concatenate(list(labels[:, 1]))
    assert list(np.concatenate([row0, row1])[: len(ids)]) == list(ids)
    np.testing.assert_array_equal(np.concatenate(list(inputs[:, 0]))[1:], row0[:-1])
    assert weights.sum() == len(ids)


def test_stream_lm_learns_and_evaluates(stream_run):
    run, result = stream_run
    from kerasrnn.runs import read_history

    history = read_history(f"{run.dir}/history.csv")
    assert history[-1]["loss"] < history[0]["loss"]
    assert "val_loss" in history[0]
    test = result["test"]
    assert test["perplexity"] < (len(run.vocabs["source"]) - 3) / 2
    assert test["bits_per_char"] == pytest.approx(test["bits_per_token"], rel=0.1)
    text = run.builder.sample(run.model, run.vocabs, 1, decoding={"strategy": "greedy", "max_length": 40})[0]
    assert "\n" in text  # <eos> is a line break in a stream


def test_position_split_keeps_file_order():
    examples = [Example(f"line {i:03d}") for i in range(100)]
    parts = split_by_position(examples, 0, 0.1, 0.2)
    assert parts["train"] == examples[:70]
    assert parts["valid"] == examples[70:80]
    assert parts["test"] == examples[80:]


# Word-level language models ---------------------------------------------------

FRUIT = ["apple", "pear", "plum", "fig"]


def word_lines(count, seed=0):
    """Sentences of a few frequent words, a third of them with a word seen only once (read as <unk>)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        words = ["the", rng.choice(FRUIT), "and", rng.choice(FRUIT), "salad"]
        if i % 3 == 0:
            words.insert(rng.randint(1, 4), f"rare{i}")
        out.append(" ".join(words))
    return out


def word_recipe(tmp, model, training=()):
    """A word stream recipe over `word_lines`."""
    (tmp / "train.txt").write_text("\n".join(word_lines(300)) + "\n")
    return {
        "name": "tiny_word_lm",
        "type": "language_model",
        "data": {"train": str(tmp / "train.txt"), "valid_split": 0.1, "test_split": 0.0, "split_by": "position",
                 "lm_mode": "stream", "window": 8, "source": {"tokenizer": "word", "min_freq": 2}},
        "model": {"units": 16, "embedding_dim": 16, **model},
        "training": {"epochs": 5, "batch_size": 4, "learning_rate": 0.02, "verbose": 0, "tensorboard": False,
                     **dict(training)},
        "decoding": {"strategy": "sample", "max_length": 30},
    }


@pytest.fixture(scope="module")
def word_run(tmp_path_factory):
    """A word stream model with tied embeddings (units == embedding_dim: no projection)."""
    tmp = tmp_path_factory.mktemp("word_lm")
    return fit(tmp, word_recipe(tmp, {"tie_embeddings": True}))


def step_log_probs(builder, model, vocabs, ids):
    """Per-token log-probabilities of `ids <eos>` after the start token, one step at a time."""
    _, step = builder.inference_models(model, vocabs)
    states = [np.zeros((1, 16), np.float32) for _ in range(2)]
    out, token = [], builder.start_id
    for label in list(ids) + [EOS_ID]:
        result = step([np.array([[token]], np.int32)] + states, training=False)
        logits, states = np.asarray(result[0]), [np.asarray(s) for s in result[1:]]
        out.append(float(log_softmax(logits)[0, label]))
        token = label
    return out


def test_a_sentence_score_is_the_sum_of_its_word_log_probs_with_eos(word_run):
    run, _ = word_run
    builder, vocab = run.builder, run.vocabs["source"]
    text = "the pear and apple salad"
    row = builder.score(run.model, run.vocabs, [text])[0]
    per_word = step_log_probs(builder, run.model, run.vocabs, vocab.encode(text.split()))
    assert row["tokens"] == 6  # five words and <eos>
    assert row["log_prob"] == pytest.approx(sum(per_word), abs=1e-4)
    assert row["perplexity"] == pytest.approx(math.exp(-sum(per_word) / 6), rel=1e-4)
    assert row["unk"] == 0
    # <eos> is scored too: the sentence is likelier to end after "salad" than after "and".
    assert per_word[-1] > step_log_probs(builder, run.model, run.vocabs, vocab.encode(["the", "pear", "and"]))[-1]


def test_pear_salad_is_likelier_than_pair_salad(word_run):
    run, _ = word_run
    pear, pair = run.builder.score(run.model, run.vocabs, ["the apple and pear salad", "the apple and pair salad"])
    assert pear["log_prob"] > pair["log_prob"]
    assert (pear["unk"], pair["unk"]) == (0, 1)


def test_score_counts_the_words_read_as_unk(word_run):
    run, _ = word_run
    texts = ["the zzz and <unk> salad", "the fig and rare0 salad", "the fig and plum salad"]
    rows = run.builder.score(run.model, run.vocabs, texts)
    assert [r["unk"] for r in rows] == [2, 1, 0]  # rare0 was seen once: below min_freq
    assert [r["tokens"] for r in rows] == [6, 6, 6]


def test_word_samples_end_at_eos_and_show_unk(word_run):
    run, _ = word_run
    texts = run.builder.sample(run.model, run.vocabs, 40, decoding={"temperature": 1.5}, seed=1)
    assert all("\n" not in t for t in texts)  # one sentence each: generation stops at <eos>
    assert any("<unk>" in t.split() for t in texts)  # the model does reach for rare words


def test_sampling_with_unk_suppressed_never_emits_it(word_run):
    run, _ = word_run
    for strategy in ("sample", "greedy", "beam"):
        dec = {"strategy": strategy, "temperature": 1.5, "suppress_unk": True}
        texts = run.builder.sample(run.model, run.vocabs, 40, prompt="the", decoding=dec, seed=1)
        assert not any("<unk>" in t.split() for t in texts), strategy


def test_tied_embeddings_share_one_variable_through_save_load_and_export(word_run, tmp_path):

    run, _ = word_run
    size = (len(run.vocabs["source"]), 16)

    def matrices(variables):
        return [v for v in variables if tuple(v.shape) == size]

    # Run(...).model is the model loaded from model.keras.
    model = run.model
    assert {layer.name for layer in model.layers}.isdisjoint({"logits", "tie_projection"})
    assert len(matrices(model.weights)) == 1
    embedding = model.get_layer("embedding")
    tokens = np.array([[3, 5, 6, 7]], np.int32)
    reader, _ = run.builder.inference_models(model, run.vocabs)
    zeros = [np.zeros((1, 16), np.float32)] * 2
    logits = np.asarray(reader([tokens] + zeros, training=False)[0])
    # The output layer is the input matrix transposed: logits = h E^T + b.
    top = keras.Model(reader.inputs, reader.get_layer("rnn_0").output[0])
    hidden = np.asarray(top([tokens] + zeros, training=False))
    table = embedding.embeddings.numpy()
    np.testing.assert_allclose(logits, hidden @ table.T + embedding.output_bias.numpy(), atol=1e-4)
    assert reader.get_layer("embedding") is embedding

    texts = ["the apple and pear salad", "the fig and zzz salad"]
    expected = run.builder.score(run.model, run.vocabs, texts)
    report = kerasrnn.load(run.dir).export(["savedmodel"], out=tmp_path, texts=texts, echo=lambda _: None)
    stored = tf.train.list_variables(str(tmp_path / "tiny_word_lm" / "1" / "variables" / "variables"))
    assert [tuple(shape) for _, shape in stored].count(size) == 1
    exported = kerasrnn.load(report["folder"])
    for want, row in zip(expected, exported.score(texts)):
        assert row["log_prob"] == pytest.approx(want["log_prob"], abs=1e-3)
        assert row["unk"] == want["unk"]
    samples = exported.sample(30, seed=1, temperature=1.5, suppress_unk=True)
    assert samples and not any("<unk>" in t.split() for t in samples)


def test_cli_score_shows_unk_and_sample_no_unk(word_run):
    from click.testing import CliRunner

    from kerasrnn.cli import cli

    run, _ = word_run
    scored = CliRunner().invoke(cli, ["score", run.dir, "the zzz and <unk> salad", "the fig and plum salad"])
    assert scored.exit_code == 0, scored.output
    lines = scored.output.splitlines()
    assert "unk 0" in lines[0] and lines[0].endswith("the fig and plum salad")
    assert "unk 2" in lines[1]
    args = ["sample", run.dir, "-n", "30", "--seed", "1", "--temperature", "1.5", "--json"]
    sampled = CliRunner().invoke(cli, [*args, "--no-unk"])
    assert sampled.exit_code == 0, sampled.output
    assert not any("<unk>" in t.split() for t in json.loads(sampled.output))
    assert "--no-unk" in CliRunner().invoke(cli, ["sample", "--help"]).output


def test_a_stream_epoch_has_one_step_per_window(stream_run):
    # The learning-rate schedule counts steps; in a stream there is one per
    # window of the parallel streams, not one per `batch_size` lines.
    run, _ = stream_run
    builder = run.builder
    examples = [Example(source=line) for line in lines(300, seed=1)]
    steps = builder.steps_per_epoch(examples, run.vocabs, 4)
    assert steps == len(list(builder.dataset(examples, run.vocabs, training=True, batch_size=4)))
    assert steps != math.ceil(len(examples) / 4)


# A sampled softmax in training ------------------------------------------------------


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory):
    """A word stream model trained with a sampled softmax."""
    tmp = tmp_path_factory.mktemp("sampled_lm")
    return fit(tmp, word_recipe(tmp, {}, {"sampled_softmax": 4}))


def test_a_sampled_softmax_trains_and_validates_on_every_word(sampled_run):
    from kerasrnn.runs import read_history

    run, _ = sampled_run
    assert run.model.get_layer("sampled_softmax").num_sampled == 4
    history = read_history(f"{run.dir}/history.csv")
    # Validation scores every word: its loss is the perplexity evaluate reports.
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    valid = run.builder.evaluate(run.model, run.vocabs, [Example(t) for t in word_lines(300)[270:]])
    assert valid["perplexity"] < len(run.vocabs["source"]) / 2
    # Scoring, sampling and the SavedModel read the full softmax's weights.
    texts = ["the apple and pear salad", "salad the and"]
    scores = run.builder.score(run.model, run.vocabs, texts)
    assert scores[0]["log_prob"] > scores[1]["log_prob"]
    assert run.builder.sample(run.model, run.vocabs, 2, seed=1)


def test_a_sampled_softmax_run_exports_alike(sampled_run, tmp_path):
    run, _ = sampled_run
    texts = ["the apple and pear salad", "the fig and zzz salad"]
    expected = run.builder.score(run.model, run.vocabs, texts)
    report = kerasrnn.load(run.dir).export(["savedmodel"], out=tmp_path, texts=texts, echo=lambda _: None)
    for want, row in zip(expected, kerasrnn.load(report["folder"]).score(texts)):
        assert row["log_prob"] == pytest.approx(want["log_prob"], abs=1e-3)


@pytest.mark.parametrize("change, message", [
    ({"model": {"tie_embeddings": True}}, "training -> sampled_softmax: not with model.tie_embeddings"),
    ({"training": {"sampled_softmax": 500}}, "training -> sampled_softmax: 500 must be below"),
    ({"type": "many_to_one"}, "training -> sampled_softmax: only a language_model"),
    ({"type": "one_to_many"}, "training -> sampled_softmax: only a language_model"),
])
def test_sampled_softmax_recipe_errors_name_the_key(tmp_path, change, message):
    (tmp_path / "train.txt").write_text("\n".join(word_lines(60)) + "\n")
    (tmp_path / "train.tsv").write_text("\n".join(f"{t}\t{i % 2}" for i, t in enumerate(word_lines(60))) + "\n")
    raw = {
        "name": "bad", "type": change.get("type", "language_model"),
        "data": {"train": str(tmp_path / ("train.tsv" if "type" in change else "train.txt")),
                 "source": {"tokenizer": "word"}},
        "model": {"units": 8, "embedding_dim": 8, **change.get("model", {})},
        "training": {"epochs": 1, "verbose": 0, "sampled_softmax": 4, **change.get("training", {})},
    }
    with pytest.raises(config.RecipeError, match=message):
        training.fit(config.resolve(raw), str(tmp_path / "run"), echo=lambda _: None)
    assert not (tmp_path / "run" / "model.keras").exists()


def test_dropout_drops_embedded_words_in_training_only(tmp_path):
    from kerasrnn import builders

    recipe = config.resolve(word_recipe(tmp_path, {"dropout": 0.5}))
    builder = builders.get(recipe)
    vocabs = builder.fit_vocabs([Example(t) for t in word_lines(300)], echo=lambda _: None)
    model = builder.build(vocabs)
    dropped = model.get_layer("embedding_dropout")
    assert dropped.rate == 0.5
    assert dropped.input is model.get_layer("embedding").output
    tokens = {"tokens": np.ones((4, 8), np.int32)}

    def call(training):
        for layer in model.layers:  # each call from a zero state
            if getattr(layer, "stateful", False):
                layer.reset_states()
        return model(tokens, training=training)

    inference = call(training=False)
    assert np.allclose(call(training=False), inference)
    assert not np.allclose(call(training=True), inference)
    recipe = config.resolve(word_recipe(tmp_path, {}))
    assert "embedding_dropout" not in [layer.name for layer in builders.get(recipe).build(vocabs).layers]
