"""What every recipe type shares: vocabularies, batching, recurrent stacks."""

import collections
import json
import math
import os
import re

import keras
import tensorflow as tf

from kerasrnn import layers as rnn_layers
from kerasrnn.data import catalog, pipeline, subword, vectors
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.data.vocab import Vocabulary

BUCKETS = (8, 16, 32, 64, 128, 256)


def as_text(value):
    """An example's field as one string (token tuples are space-joined)."""
    return " ".join(value) if isinstance(value, tuple) else value


def epoch_seed(seed, epoch):
    """The shuffle seed of one epoch (`seed` itself when `epoch` is None)."""
    return seed if epoch is None else (seed * 1_000_003 + epoch) % 2**31


def bucketed_batches(ds, length, batch_size, boundaries=BUCKETS):
    """How many batches `bucket_by_sequence_length` makes of one pass over `ds`.

    A bucket holds the lengths from one boundary up to the next; each gives
    its examples in full batches and one last partial batch.
    """
    bounds = tf.constant(boundaries, tf.int32)
    buckets = len(boundaries) + 1

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
        vocabs = self.pretrained(vocabs, echo)
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

    def vector_sides(self):
        """The sides whose embeddings start from pretrained vectors (`model.embeddings`)."""
        spec = self.recipe["model"]["embeddings"]
        if not (spec["path"] or spec["dataset"]):
            return ()
        return ("source", "target") if spec["side"] == "both" else (spec["side"],)

    def pretrained(self, vocabs, echo=print):
        """Reads `model.embeddings`' vectors for each side it names.

        Keeps each side's embedding matrix in `self.vectors` for `embed`, adds
        the file's most frequent unseen words where `add_words` asks (within
        `data.<side>.max_vocab`), and reports the coverage, e.g.
        "source: vectors for 14,212 of 16,655 words (85.3%)".

        Returns:
            `vocabs`, with the sides that gained words replaced.
        """
        self.vectors = {}
        sides = [side for side in self.vector_sides() if side in vocabs]
        if not sides:
            return vocabs
        spec, model = self.recipe["model"]["embeddings"], self.recipe["model"]
        path = spec["path"] or catalog.fetch_vectors(spec["dataset"])
        for side in sides:
            cap = self.recipe["data"][side]["max_vocab"]
            room = max(0, cap - len(vocabs[side])) if cap else None
            add = room if spec["add_words"] is True else int(spec["add_words"])
            matrix, vocabs[side], coverage = vectors.load(
                path, vocabs[side], spec["format"],
                dim=None if spec["project"] else model["embedding_dim"],
                add=add if room is None else min(add, room),
                case_fallback=spec["case_fallback"], seed=self.recipe["training"]["seed"],
            )
            self.vectors[side] = matrix
            echo(f"{side}: {coverage.line()} in {os.path.basename(path)}")
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

    # A type may also define `encode_batch(vocabs, strings)`: `encode` over 1-D
    # string tensors of many examples, one row each (ragged or dense) in every
    # tensor, equal to `encode`'s. Tokenization and lookup then run over
    # thousands of strings per op; without it examples are encoded one per call.
    encode_batch = None

    def length(self, inputs, labels, weights):
        """The length that batches are bucketed by."""
        first = tf.nest.flatten(inputs)[0]
        return tf.shape(first)[0]

    def buckets(self):
        """Length boundaries of the training batches (`BUCKETS` unless a type has its own)."""
        return BUCKETS

    def steps_per_epoch(self, examples, vocabs, batch_size):
        """Optimizer steps in one pass of `dataset` over the examples."""
        return max(1, math.ceil(len(examples) / batch_size))

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
            counts[batch_size] = bucketed_batches(encoded, self.length, batch_size, self.buckets())
        ds = encoded.shuffle(
            min(len(examples), self.recipe["training"]["shuffle_buffer"]),
            seed=epoch_seed(self.recipe["training"]["seed"], self.epoch),
            reshuffle_each_iteration=self.epoch is None,
        ).bucket_by_sequence_length(
            self.length,
            bucket_boundaries=list(self.buckets()),
            bucket_batch_sizes=[batch_size] * (len(self.buckets()) + 1),
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
        ds = pipeline.text_dataset(examples, self.strings)
        if self.encode_batch is None:
            ds = ds.map(lambda s: self.encode(vocabs, s), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        else:
            ds = pipeline.encoded_in_batches(ds, lambda s: self.encode_batch(vocabs, s))
        if not pipeline.in_memory(examples):
            return ds, None
        ds = ds.cache()
        memo[id(examples)] = (examples, vocabs, ds, {})
        return ds, memo[id(examples)][3]

    # Serving and export -------------------------------------------------------
    #
    # An export asks the builder everything that depends on the type; the
    # exporters in `kerasrnn.export` only write formats. A `runner` (see
    # `kerasrnn.export.runner.Runner`) calls the exported signatures on the
    # host: `logits(texts)`, or `encode(rows)` and `step(tokens, states)`.

    # "logits": one call per text; "generate": `encode` and `step` signatures.
    EXPORT = "logits"
    # The held-out metric an export's parity report gives (lower is better
    # for rates and perplexity).
    METRIC = "accuracy"
    # How runs of one recipe join in an ensemble (`kerasrnn.ensembles`):
    # None, they cannot; "mean", the members' scores averaged, so the
    # ensemble reads and writes what one member does; "stack", side by side,
    # for the builder's own decoding to join.
    ENSEMBLE = None

    def export_models(self, model, vocabs):
        """The float32 Keras models an export traces: `(model,)` or `(encoder, step)`."""
        return (float32_model(model),)

    def export_meta(self, model):
        """What an app needs beside the exported graphs (export.json), by type."""
        return {}

    def serve_function(self, models, vocabs):
        """The SavedModel's `serving_default`: a `tf.function` over raw strings."""
        raise NotImplementedError

    def held_out(self, examples, vocabs):
        """(texts, references) an export checks parity and its metric on."""
        return [as_text(ex.source) for ex in examples], [as_text(ex.target) for ex in examples]

    def gold_and_predicted(self, model, vocabs, examples):
        """(gold labels, predicted labels, label names) for a confusion matrix, or None.

        Only a type with one label per example has a confusion matrix.
        """
        return None

    def runner_predict(self, runner, texts):
        """`predict` rows computed through an export's runner."""
        raise NotImplementedError

    def runner_metric(self, runner, texts, references):
        """`METRIC` on held-out texts through an export's runner, or None."""
        raise NotImplementedError

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

    def embed(self, side, ids, size, name, **kwargs):
        """`ids` of a side through its `Embedding` layer `name` (made once, found again by name).

        Where the recipe gives the side pretrained vectors (`model.embeddings`,
        read by `fit_vocabs`), the layer starts from them (and keeps them with
        `trainable: false`); with `static_copy: true` a frozen copy
        `{name}_static` sits beside it and the two are averaged in
        `{name}_channels`; vectors of another size than `embedding_dim` go
        on through the `Dense` `{name}_projection`. The vectors are the
        layers' initial weights, so a saved model carries them.
        """
        m = self.recipe["model"]
        projection, static, channels = f"{name}_projection", f"{name}_static", f"{name}_channels"
        if name not in self._layers:
            matrix = (getattr(self, "vectors", None) or {}).get(side)
            dim = m["embedding_dim"] if matrix is None else matrix.shape[1]
            trainable = matrix is None or m["embeddings"]["trainable"]
            copies = [name, static] if matrix is not None and m["embeddings"]["static_copy"] else [name]
            for copy in copies:
                layer = keras.layers.Embedding(
                    size, dim, name=copy, trainable=trainable and copy == name, **kwargs
                )
                if matrix is not None:
                    layer.build()
                    layer.embeddings.assign(matrix)
                self._layers[copy] = layer
            if len(copies) > 1:
                self._layers[channels] = keras.layers.Average(name=channels)
            if dim != m["embedding_dim"]:
                self._layers[projection] = keras.layers.Dense(
                    m["embedding_dim"], use_bias=False, name=projection
                )
        x = self._layers[name](ids)
        if static in self._layers:
            x = self._layers[channels]([x, self._layers[static](ids)])
        if projection in self._layers:
            x = self._layers[projection](x)
        return x

    def loss(self):
        # Divided by the weight of the real positions, not by every padded one,
        # so the reported loss is nats per real token.
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        )

    def metrics(self):
        """Metrics weighted by the dataset's weights, so padding never counts."""
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def recurrent(
        self, name, return_sequences=True, return_state=False, units=None, stateful=False,
        bidirectional=False,
    ):
        """One recurrent layer as the recipe's `model` section describes it."""
        model = self.recipe["model"]
        return recurrent_layer(
            model["cell"],
            units or model["units"],
            name,
            bidirectional,
            return_sequences=return_sequences,
            return_state=return_state,
            stateful=stateful,
            recurrent_dropout=model["recurrent_dropout"],
        )

    def recurrent_stack(
        self, x, prefix, *, bidirectional=False, final_only=False, return_state=False,
        stateful=False, initial_states=None, bridge=None, cached=True,
        dropout_name="dropout_{i}", residual_name="residual_{i}",
    ):
        """The recipe's recurrent layers over `x`, with residuals and dropout.

        Every type builds its stack here, so a level's layers are named alike
        everywhere: the recurrent layer `{prefix}_{i}` (a `Bidirectional` of
        that name when `bidirectional`), then `Add` `residual_name` (levels
        after the first, with `model.residual`) and `Dropout` `dropout_name`
        (with `model.dropout`). Saved models and the inference graphs rebuilt
        from them find their layers by these names.

        Args:
            x: The embedded sequence, `(batch, steps, features)`.
            prefix: Name of the recurrent layers, `{prefix}_{i}` for level i.
            bidirectional: Whether each level reads both ways (outputs concatenated).
            final_only: Whether the last level returns its final output only;
                it then has no residual.
            return_state: Whether to return each level's final states too.
            stateful: Whether the recurrent layers are stateful.
            initial_states: Optional list, per level, of its initial states.
            bridge: Optional `bridge(i, states) -> states`, applied to the
                final states of level i before they are returned.
            cached: Whether layers are made once and found again by name
                (`_layer`), so inference graphs reuse the trained layers;
                otherwise every call makes new layers.
            dropout_name, residual_name: Names of a level's `Dropout` and
                `Add`, formatted with `i`.

        Returns:
            The last level's output, and with `return_state` also the list,
            per level, of its final states.
        """
        m = self.recipe["model"]
        get = self._layer if cached else (lambda name, make: make())
        states = []
        for i in range(m["layers"]):
            last = final_only and i == m["layers"] - 1
            name = f"{prefix}_{i}"
            # `get` makes a missing layer at once, so the lambdas see this level's values.
            layer = get(name, lambda: self.recurrent(
                name, return_sequences=not last, return_state=return_state, stateful=stateful,
                bidirectional=bidirectional,
            ))
            kwargs = {"initial_state": initial_states[i]} if initial_states else {}
            out = layer(x, **kwargs)
            if return_state:
                out, *level_states = out
                states.append(bridge(i, level_states) if bridge else level_states)
            if m["residual"] and i > 0 and not last:
                out = keras.layers.Add(name=residual_name.format(i=i))([x, out])
            if m["dropout"]:
                rate, dropout = m["dropout"], dropout_name.format(i=i)
                out = get(dropout, lambda: keras.layers.Dropout(rate, name=dropout))(out)
            x = out
        return (x, states) if return_state else x


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


def recurrent_layer(cell, units, name, bidirectional=False, **kwargs):
    """One level of a recurrent stack.

    `kerasrnn.layers.recurrent(cell, units, name=name, **kwargs)`, wrapped
    when `bidirectional` in a `Bidirectional` of the same name that
    concatenates both directions' outputs.
    """
    layer = rnn_layers.recurrent(cell, units, name=name, **kwargs)
    if bidirectional:
        layer = rnn_layers.Bidirectional(layer, merge_mode="concat", name=name)
    return layer


def state_count(layer):
    """How many state tensors a recurrent layer carries (LSTM 2, GRU 1)."""
    cell = getattr(layer, "cell", layer)
    return len(tf.nest.flatten(cell.state_size))
