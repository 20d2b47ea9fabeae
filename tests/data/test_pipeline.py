"""Streaming from the files gives what holding the examples in memory gives."""

import numpy as np
import pytest
import tensorflow as tf

from kerasrnn import builders, config
from kerasrnn.data import pipeline
from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.data.loading import load_splits

LETTERS = "abcdefghij"
PHONES = "A B C D E F G H I J".split()


def word(i):
    # Words of 2 to 9 letters, so length buckets differ.
    return "".join(LETTERS[(i * 7 + k * 3) % 10] for k in range(2 + i % 8)) + LETTERS[i % 10] * (i // 100)


@pytest.fixture
def dictionary(tmp_path):
    """A cmudict-format file: 300 words, every tenth with a second pronunciation."""
    lines = []
    for i in range(300):
        w = word(i)
        phones = " ".join(PHONES[LETTERS.index(c)] for c in w)
        lines.append(f"{w} {phones}")
        if i % 10 == 0:
            lines.append(f"{w}(2) {phones} A")
    path = tmp_path / "dict.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def recipe(train, **data):
    return config.resolve(
        {
            "name": "pipeline_test",
            "type": "seq2seq",
            "data": {
                "train": train,
                "format": "cmudict",
                "valid_split": 0.1,
                "test_split": 0.1,
                "source": {"tokenizer": "char", "max_length": 6},
                "target": {"tokenizer": "pretokenized"},
                **data,
            },
            "training": {"batch_size": 16, "seed": 7},
        }
    )


def load(train, **data):
    return load_splits(recipe(train, **data), echo=lambda _: None)


def test_streamed_splits_hold_the_same_examples_in_the_same_order(dictionary):
    memory = load(dictionary, streaming=False)
    streamed = load(dictionary, streaming=True)
    for split in ("train", "valid", "test"):
        assert isinstance(memory[split], list)
        assert isinstance(streamed[split], pipeline.ExampleStream)
        assert len(streamed[split]) == len(memory[split]) > 0
        assert list(streamed[split]) == memory[split]
        # A second pass reads the files again and gives the same.
        assert list(streamed[split]) == memory[split]
    # Pronunciations of one word stay in one split.
    keys = {split: {ex.key for ex in memory[split]} for split in memory}
    assert not keys["train"] & keys["valid"] and not keys["train"] & keys["test"]
    # Shards, as distributed input pipelines take them.
    assert list(streamed["train"][1::3]) == memory["train"][1::3]


def test_streamed_max_examples_picks_the_same_examples(dictionary):
    memory = load(dictionary, streaming=False, max_examples=50)
    streamed = load(dictionary, streaming=True, max_examples=50)
    for split in ("train", "valid", "test"):
        assert len(streamed[split]) == len(memory[split])
        assert sorted(map(repr, streamed[split])) == sorted(map(repr, memory[split]))
    assert len(memory["train"]) == 50


def test_auto_streams_only_above_the_size_threshold(dictionary, monkeypatch):
    assert isinstance(load(dictionary)["train"], list)
    monkeypatch.setattr(pipeline, "STREAMING_BYTES", 100)
    assert isinstance(load(dictionary)["train"], pipeline.ExampleStream)
    with pytest.raises(config.RecipeError, match="split_by: position"):
        load(dictionary, streaming=True, split_by="position")


def batches(ds):
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in ds]


def assert_same_batches(a, b):
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        for u, v in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            np.testing.assert_array_equal(u, v)


def test_streamed_datasets_give_the_same_batches(dictionary):
    memory = load(dictionary, streaming=False)
    streamed = load(dictionary, streaming=True)
    builder = builders.get(recipe(dictionary))
    vocabs = builder.fit_vocabs(streamed["train"], echo=lambda _: None)
    assert {s: v.tokens for s, v in vocabs.items()} == {
        s: v.tokens for s, v in builder.fit_vocabs(memory["train"], echo=lambda _: None).items()
    }
    assert_same_batches(
        batches(builder.dataset(streamed["valid"], vocabs)), batches(builder.dataset(memory["valid"], vocabs))
    )
    # The seeded shuffle and the length buckets see the same input, so give the same epoch.
    builder.epoch = 3
    epoch = batches(builder.dataset(streamed["train"], vocabs, training=True))
    assert_same_batches(epoch, batches(builder.dataset(memory["train"], vocabs, training=True)))
    # Each batch is padded only to its own longest source, cut at max_length.
    for inputs, _, _ in epoch:
        assert inputs["source"].shape[1] == (inputs["source"] > 0).sum(1).max() <= 6


def test_truncation_is_counted_and_reported(dictionary):
    examples = load(dictionary, streaming=False)["train"]
    builder = builders.get(recipe(dictionary))
    said = []
    builder.fit_vocabs(examples, echo=said.append)
    longer = sum(len(ex.source) > 6 for ex in examples)
    assert 0 < longer < len(examples)
    assert builder.truncated == {"source": longer}
    assert said == [f"source: {longer:,} of {len(examples):,} examples truncated to 6 tokens (data.source.max_length)"]


def test_a_bad_line_stops_streaming_before_training(tmp_path, dictionary):
    lines = open(dictionary, "rb").read().splitlines()
    lines[120] = b"caf\xe9 K AE F"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(DataError, match=r"bad\.txt:121:\d+: invalid UTF-8 byte 0xe9"):
        load(str(bad), streaming=True)
    said = []
    streamed = load_splits(recipe(str(bad), streaming=True, on_bad_line="skip"), echo=said.append)
    memory = load(str(bad), on_bad_line="skip")
    assert list(streamed["train"]) == memory["train"]
    assert "1 bad lines skipped, first: " in said[0] and "bad.txt:121" in said[0]


@pytest.mark.parametrize("batch_size", [1, 5, 16])
def test_training_batches_have_a_known_count(dictionary, batch_size):
    # Keras's progress bar reads the count; a wrong one would stop training with an error.
    untruncated = {"tokenizer": "char"}  # 2 to 11 letters: two length buckets
    splits = load(dictionary, source=untruncated)
    builder = builders.get(recipe(dictionary, source=untruncated))
    vocabs = builder.fit_vocabs(splits["train"])
    ds = builder.dataset(splits["train"], vocabs, training=True, batch_size=batch_size)
    batches = [inputs["source"].shape for inputs, _, _ in ds]
    assert int(ds.cardinality()) == len(batches)
    assert sum(shape[0] for shape in batches) == len(splits["train"])
    assert {shape[1] < 8 for shape in batches} == {True, False}


@pytest.mark.parametrize("decoder", ["rnn", "ctc"])
@pytest.mark.parametrize("streaming", [False, True])
def test_batched_encoding_equals_encoding_one_example_at_a_time(dictionary, decoder, streaming, monkeypatch):
    resolved = {**recipe(dictionary, streaming=streaming), "model": {**recipe(dictionary)["model"],
                                                                      "decoder": decoder, "upsample": 1}}
    resolved = config.resolve(resolved)
    data = load_splits(resolved, echo=lambda _: None)
    builder = builders.get(resolved)
    assert builder.encode_batch is not None
    vocabs = builder.fit_vocabs(data["train"], echo=lambda _: None)
    examples = list(data["train"]) + [
        Example(source="", target=""),  # an empty line
        Example(source="ab", target=""),
        Example(source="", target="A B"),
        Example(source="abcdefghijabcdefghij", target=" ".join(PHONES * 5)),  # over-long: cut at 6
        Example(source="zz\u00e9\u00c9", target="Q A"),  # unknown tokens
    ]
    one = pipeline.text_dataset(examples, builder.strings).map(lambda s: builder.encode(vocabs, s))
    # Few examples a batch, so rows of one batch differ in length and the last batch is short.
    batched = pipeline.encoded_in_batches(
        pipeline.text_dataset(examples, builder.strings), lambda s: builder.encode_batch(vocabs, s), size=7
    )
    assert batched.element_spec == one.element_spec
    got, want = list(batched), list(one)
    assert len(got) == len(want) == len(examples)
    for x, y in zip(got, want):
        for u, v in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)
    # The builder's own pipeline encodes in batches, and batches alike.
    builder_batches = batches(builder.dataset(data["train"], vocabs))
    monkeypatch.setattr(type(builder), "encode_batch", None)
    builder._encodings = {}
    assert_same_batches(builder_batches, batches(builder.dataset(data["train"], vocabs)))
