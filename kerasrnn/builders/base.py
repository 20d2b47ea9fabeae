"""What every recipe type shares: vocabularies, batching, recurrent stacks."""

import collections
import json
import re

import keras
import tensorflow as tf

from kerasrnn import layers as rnn_layers
from kerasrnn.data import pipeline, subword
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.data.vocab import Vocabulary

BUCKETS = (8, 16, 32, 64, 128, 256)


def as_text(value):
    """An example's field as one string (token tuples are space-joined)."""
    return " ".join(value) if isinstance(value, tuple) else value


def epoch_seed(seed, epoch):
    """The shuffle seed of one epoch (`seed` itself when `epoch` is None)."""
    return seed if epoch is None else (seed * 1_000_003 + epoch) % 2**31


def bucketed_batches(ds, length, batch_size):
    """How many batches `bucket_by_sequence_length` makes of one pass over `ds`.

    A bucket holds the lengths from one boundary up to the next; each gives
    its examples in full batches and one last partial batch.
    """
    bounds = tf.constant(BUCKETS, tf.int32)
    buckets = len(BUCKETS) + 1

    def one_hot(*example):
        index = tf.searchsorted(bounds, tf.reshape(tf.cast(length(*example), tf.int32), [1]), side="right")
        return tf.one_hot(index[0], buckets, dtype=tf.int64)

    counts = ds.map(one_hot).reduce(tf.zeros([buckets], tf.int64), lambda total, x: total + x)
    return int(tf.reduce_sum((counts + batch_size - 1) // batch_size))


class Builder:
    """One RNN architecture type: its data, its model, its evaluation.

    A subclass names the example fields it tokenizes in `SIDES` and implements
    `encode` (strings -> model inputs in the graph), `build` (the Keras model)
    and `evaluate`. Everything is driven by the resolved recipe.
    """

    SIDES = ("source", "target")
    epoch = None

    def __init__(self, recipe):
        self.recipe = recipe
        self._layers = {}
        self.tokenizers = {
            side: Tokenizer.from_section(recipe["data"][side]) for side in self.SIDES
        }

    # Vocabularies -----------------------------------------------------------

    def specials(self, side):
        """How many special tokens a side's vocabulary starts with."""
        return 1 if self.tokenizers[side].kind == "label" else 4

    def fit_vocabs(self, examples, echo=print):
        """Builds one vocabulary per side from the training examples, in one pass.

        A `subword` side learns its WordPiece vocabulary from its word counts
        (`data.<side>.max_vocab` is the target size). Sides with a
        `max_length` report how many examples it truncates (`self.truncated`).
        """
        tokenizers = self.tokenizers
        # Numbers (vector inputs) have no vocabulary.
        sides = [side for side in self.SIDES if tokenizers[side].kind != "vector"]
        counts = {side: collections.Counter() for side in sides}
        self.truncated = {side: 0 for side in sides if tokenizers[side].max_length}
        total = 0
        for chunk in pipeline.chunks(examples):
            total += len(chunk)
            for side in sides:
                texts = [as_text(getattr(ex, side)) for ex in chunk]
                if tokenizers[side].kind == "subword":
                    counts[side].update(w for words in tokenizers[side].words_py(texts) for w in words)
                    continue
                rows = tokenizers[side].split_py(texts)
                counts[side].update(t for row in rows for t in row)
                if side in self.truncated:
                    self.truncated[side] += sum(len(row) > tokenizers[side].max_length for row in rows)
        vocabs = {}
        for side in sides:
            section = self.recipe["data"][side]
            if tokenizers[side].kind == "subword":
                size = section["max_vocab"] or subword.DEFAULT_SIZE
                vocabs[side] = subword.learn(counts[side], size, section["min_freq"])
            else:
                vocabs[side] = Vocabulary.build(
                    counts[side],
                    min_freq=section["min_freq"],
                    max_size=section["max_vocab"],
                    specials=self.specials(side),
                )
        self.attach(vocabs)
        pieces = [side for side in self.truncated if tokenizers[side].kind == "subword"]
        for chunk in pipeline.chunks(examples) if pieces else ():
            for side in pieces:
                rows = tokenizers[side].split_py([as_text(getattr(ex, side)) for ex in chunk])
                self.truncated[side] += sum(len(row) > tokenizers[side].max_length for row in rows)
        for side, count in self.truncated.items():
            if count:
                echo(
                    f"{side}: {count:,} of {total:,} examples truncated to "
                    f"{tokenizers[side].max_length} tokens (data.{side}.max_length)"
                )
        return vocabs

    def attach(self, vocabs):
        """Gives subword tokenizers their learned vocabularies (as saved in a run)."""
        for side, tokenizer in self.tokenizers.items():
            if side in vocabs:
                tokenizer.attach(vocabs[side])
        return self

    def ids(self, side, vocabs, strings):
        """Strings -> ragged int32 ids, inside the graph."""
        tokenizer = self.tokenizers[side].attach(vocabs[side])
        return vocabs[side].lookup(tokenizer.tokenize(strings))

    # Data -------------------------------------------------------------------

    def strings(self, examples):
        """Examples -> a dict of string tensors, one per side."""
        return {
            side: tf.constant([as_text(getattr(ex, side)) for ex in examples], tf.string)
            for side in self.SIDES
        }

    def encode(self, vocabs, strings):
        """One example's strings -> (inputs, labels, weights) tensors."""
        raise NotImplementedError

    def length(self, inputs, labels, weights):
        """The length that batches are bucketed by."""
        first = tf.nest.flatten(inputs)[0]
        return tf.shape(first)[0]

    def dataset(self, examples, vocabs, training=False, batch_size=None):
        """A batched tf.data pipeline over the examples.

        Examples held in memory are encoded once and cached, and the cache
        is kept for every later epoch over the same examples; their batches
        are counted on the first pass, so the training pipeline has a known
        length. An `ExampleStream` is read from its files on each pass.
        Training data is shuffled and batched in length buckets so little is
        padding. The shuffled order depends only on the recipe's seed and
        `self.epoch` when that is set (so a resumed run replays an epoch
        exactly); with `epoch` None each pass reshuffles.
        """
        batch_size = batch_size or self.recipe["training"]["batch_size"]
        encoded, counts = self._encoded(examples, vocabs)
        if not training:
            return encoded.padded_batch(batch_size).prefetch(tf.data.AUTOTUNE)
        if counts is not None and batch_size not in counts:
            counts[batch_size] = bucketed_batches(encoded, self.length, batch_size)
        ds = encoded.shuffle(
            min(len(examples), self.recipe["training"]["shuffle_buffer"]),
            seed=epoch_seed(self.recipe["training"]["seed"], self.epoch),
            reshuffle_each_iteration=self.epoch is None,
        ).bucket_by_sequence_length(
            self.length,
            bucket_boundaries=list(BUCKETS),
            bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
        )
        if counts is not None:
            # With a known length Keras's progress bar counts to it and shows the time left.
            ds = ds.apply(tf.data.experimental.assert_cardinality(counts[batch_size]))
        return ds.prefetch(tf.data.AUTOTUNE)

    def _encoded(self, examples, vocabs):
        """(encoded examples, batch counts by batch size or None for a stream).

        The encoding of examples held in memory is cached, once per examples
        and vocabularies.
        """
        memo = self.__dict__.setdefault("_encodings", {})
        held = memo.get(id(examples))
        if held and held[0] is examples and held[1] is vocabs:
            return held[2], held[3]
        ds = pipeline.text_dataset(examples, self.strings).map(
            lambda s: self.encode(vocabs, s),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        if not pipeline.in_memory(examples):
            return ds, None
        ds = ds.cache()
        memo[id(examples)] = (examples, vocabs, ds, {})
        return ds, memo[id(examples)][3]

    # Model ------------------------------------------------------------------

    def callbacks(self):
        """Keras callbacks the type needs during `fit` (none by default)."""
        return []

    # Layers are made once and found again by name, so inference graphs reuse
    # the trained layers of a model built here or loaded from disk.
    def _layer(self, name, make):
        if name not in self._layers:
            self._layers[name] = make()
        return self._layers[name]

    def use(self, model):
        """Takes the layers of a trained (or loaded) model for inference."""
        self._layers = {layer.name: layer for layer in model.layers}
        return self

    def loss(self):
        # Divided by the weight of the real positions, not by every padded one,
        # so the reported loss is nats per real token.
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        )

    def metrics(self):
        """Metrics weighted by the dataset's weights, so padding never counts."""
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def recurrent(self, name, return_sequences=True, return_state=False, units=None, stateful=False):
        """One recurrent layer as the recipe's `model` section describes it."""
        model = self.recipe["model"]
        return rnn_layers.recurrent(
            model["cell"],
            units or model["units"],
            return_sequences=return_sequences,
            return_state=return_state,
            stateful=stateful,
            recurrent_dropout=model["recurrent_dropout"],
            name=name,
        )


def float32_model(model):
    """`model` computing in float32: itself, or a float32 copy with its weights.

    A model trained under a mixed precision policy keeps that policy in its
    layers, so its states and activations come out in 16 bits. Inference
    (evaluation, prediction, decoding) runs a copy rebuilt from the config
    with float32 policies; the weights are float32 already and carry over
    unchanged.
    """
    config = json.dumps(keras.saving.serialize_keras_object(model))
    if '"mixed_' not in config:
        return model
    config = re.sub(r'"mixed_(float16|bfloat16)"', '"float32"', config)
    twin = keras.saving.deserialize_keras_object(json.loads(config))
    twin.set_weights(model.get_weights())
    return twin


@keras.saving.register_keras_serializable(package="kerasrnn")
class StepLogits(keras.layers.Layer):
    """`[batch, 1, vocab]` logits of one step -> `[batch, vocab]`, mask dropped.

    A step has a single position, so nothing downstream needs its mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, logits):
        return logits[:, -1]

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="kerasrnn")
class TokenDropout(keras.layers.Layer):
    """In training, replaces each real token id by <unk> (id 1) with probability `rate`.

    When every training word is in the vocabulary, the <unk> embedding never
    trains, yet every word the test data adds is read through it. Dropping
    words to <unk> now and then trains it on the contexts unknown words come
    in (Lample et al. 2016 drop singletons; here every word alike).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, ids, training=None):
        if not training or not self.rate:
            return ids
        drop = keras.random.uniform(keras.ops.shape(ids), seed=self.seed_generator) < self.rate
        return keras.ops.where(drop & (ids > 1), keras.ops.ones_like(ids), ids)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def state_count(layer):
    """How many state tensors a recurrent layer carries (LSTM 2, GRU 1)."""
    cell = getattr(layer, "cell", layer)
    return len(tf.nest.flatten(cell.state_size))
