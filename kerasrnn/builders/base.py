"""What every recipe type shares: vocabularies, batching, recurrent stacks."""

import keras
import tensorflow as tf

from kerasrnn import layers as rnn_layers
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.data.vocab import Vocabulary, count_tokens

BUCKETS = (8, 16, 32, 64, 128, 256)


def as_text(value):
    """An example's field as one string (token tuples are space-joined)."""
    return " ".join(value) if isinstance(value, tuple) else value


class Builder:
    """One RNN architecture type: its data, its model, its evaluation.

    A subclass names the example fields it tokenizes in `SIDES` and implements
    `encode` (strings -> model inputs in the graph), `build` (the Keras model)
    and `evaluate`. Everything is driven by the resolved recipe.
    """

    SIDES = ("source", "target")

    def __init__(self, recipe):
        self.recipe = recipe
        self.tokenizers = {
            side: Tokenizer.from_section(recipe["data"][side]) for side in self.SIDES
        }

    # Vocabularies -----------------------------------------------------------

    def specials(self, side):
        """How many special tokens a side's vocabulary starts with."""
        return 1 if self.tokenizers[side].kind == "label" else 4

    def fit_vocabs(self, examples):
        """Builds one vocabulary per side from the training examples."""
        vocabs = {}
        for side in self.SIDES:
            section = self.recipe["data"][side]
            texts = [as_text(getattr(ex, side)) for ex in examples]
            tokens = self.tokenizers[side].split_py(texts)
            counts = count_tokens(tokens)
            vocabs[side] = Vocabulary.build(
                counts,
                min_freq=section["min_freq"],
                max_size=section["max_vocab"],
                specials=self.specials(side),
            )
        return vocabs

    def ids(self, side, vocabs, strings):
        """Strings -> ragged int32 ids, inside the graph."""
        return vocabs[side].lookup(self.tokenizers[side].tokenize(strings))

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

        Training data is encoded once and cached, then shuffled with the recipe's
        seed each epoch and batched in length buckets so little is padding.
        """
        batch_size = batch_size or self.recipe["training"]["batch_size"]
        ds = tf.data.Dataset.from_tensor_slices(self.strings(examples))
        ds = ds.map(
            lambda s: self.encode(vocabs, s),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        ).cache()
        if training:
            ds = ds.shuffle(
                min(len(examples), self.recipe["training"]["shuffle_buffer"]),
                seed=self.recipe["training"]["seed"],
                reshuffle_each_iteration=True,
            )
            ds = ds.bucket_by_sequence_length(
                self.length,
                bucket_boundaries=list(BUCKETS),
                bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
            )
        else:
            ds = ds.padded_batch(batch_size)
        return ds.prefetch(tf.data.AUTOTUNE)

    # Model ------------------------------------------------------------------

    def loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def metrics(self):
        """Metrics weighted by the dataset's weights, so padding never counts."""
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def recurrent(self, name, return_sequences=True, return_state=False, units=None):
        """One recurrent layer as the recipe's `model` section describes it."""
        model = self.recipe["model"]
        return rnn_layers.recurrent(
            model["cell"],
            units or model["units"],
            return_sequences=return_sequences,
            return_state=return_state,
            recurrent_dropout=model["recurrent_dropout"],
            name=name,
        )


def state_count(layer):
    """How many state tensors a recurrent layer carries (LSTM 2, GRU 1)."""
    cell = getattr(layer, "cell", layer)
    return len(tf.nest.flatten(cell.state_size))
