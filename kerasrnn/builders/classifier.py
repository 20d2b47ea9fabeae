"""A sequence to one label or number (many_to_one); one item to one label (one_to_one).

`many_to_one` embeds the tokens (padding masked), runs the recipe's recurrent
stack and pools it into one vector: the final states (both directions' when
bidirectional), or the mean or max over the real steps. A dense head gives a
softmax over the label vocabulary, or one number for `head: regression`.

`one_to_one` is the same network at T = 1: each input is one item (a word, a
code), looked up in an embedding and passed through one recurrent step.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import metrics
from kerasrnn.builders.base import Builder, as_text, float32_model
from kerasrnn.builders.graph import text_signature
from kerasrnn.config import RecipeError
from kerasrnn.data.errors import DataError
from kerasrnn.data.vocab import Vocabulary
from kerasrnn.layers import MaskedMaxPooling1D, TokenDropout

TOP = 3  # labels listed with their probabilities by `predict`


def recurrent_stack(builder, x, final_only=False):
    """The recipe's recurrent stack over `x`, layers `recurrent_{i}` made anew on each build.

    With `final_only`, the last layer returns its final output only (for a
    bidirectional layer, the forward and backward finals concatenated).
    """
    bidirectional = builder.recipe["model"]["bidirectional"]
    return builder.recurrent_stack(
        x, "recurrent", bidirectional=bidirectional, final_only=final_only, cached=False
    )


def dropout(builder, x, name):
    rate = builder.recipe["model"]["dropout"]
    return keras.layers.Dropout(rate, name=name)(x) if rate else x


def word_dropout(builder, ids):
    """`model.word_dropout`: in training, real word ids read as <unk> at that rate."""
    rate = builder.recipe["model"]["word_dropout"]
    if not rate:
        return ids
    return TokenDropout(rate, seed=builder.recipe["training"]["seed"], name="word_dropout")(ids)


def dense(ragged):
    """Ragged ids -> a padded int32 tensor at least one wide in every inner dimension."""
    ids = ragged.to_tensor()
    short = [[0, 0]] + [[0, tf.maximum(1 - tf.shape(ids)[d], 0)] for d in range(1, ids.shape.rank)]
    return tf.pad(ids, short)


def batched_outputs(model, make_inputs, texts, lengths, batch_size=256):
    """The model's outputs for each text, one NumPy array each.

    Texts are batched by length so batches carry little padding; the model
    runs whole sequences, never truncated, in float32 (`float32_model`).
    """
    model = float32_model(model)
    # One trace serves every batch size and length.
    spec = {
        name: tf.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype)
        for name, t in model.input.items()
    }
    run = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    out = [None] * len(texts)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        rows = run(make_inputs([texts[i] for i in chunk])).numpy()
        for i, row in zip(chunk, rows):
            out[i] = row
    return out


class ManyToOne(Builder):
    """Builder for `type: many_to_one`."""

    # An ensemble averages the members' logits (or numbers, for regression).
    ENSEMBLE = "mean"

    def __init__(self, recipe):
        super().__init__(recipe)
        self.regression = recipe["model"]["head"] == "regression"
        if not self.regression and self.tokenizers["target"].kind != "label":
            raise RecipeError(
                [
                    f"data -> target -> tokenizer: {recipe['type']} predicts one label "
                    f"per example; use `label`, not {self.tokenizers['target'].kind!r}"
                ]
            )

    # Vocabularies -----------------------------------------------------------

    def fit_vocabs(self, examples, echo=print):
        if not self.regression:
            return super().fit_vocabs(examples, echo=echo)
        for ex in examples:
            try:
                float(ex.target)
            except (TypeError, ValueError):
                raise DataError(
                    f"head: regression needs a number as each target, got {ex.target!r} "
                    f"for {as_text(ex.source)[:40]!r}"
                ) from None
        vocabs = super().fit_vocabs(examples, echo=echo)
        del vocabs["target"]
        return vocabs

    # Data -------------------------------------------------------------------

    def inputs(self, vocabs, strings):
        """A 1-D string tensor -> the model's inputs as ragged ids."""
        return {"source": self.ids("source", vocabs, strings)}

    def encode(self, vocabs, strings):
        inputs = {k: v[0] for k, v in self.inputs(vocabs, strings["source"][None]).items()}
        if self.regression:
            value = tf.strings.to_number(strings["target"], tf.float32)
            return inputs, value[None], tf.constant(1.0)
        label = self.ids("target", vocabs, strings["target"][None])[0][0]
        # A label the training data never had (-1) is kept out of the loss.
        return inputs, tf.maximum(label, 0), tf.cast(label > 0, tf.float32)

    # Model ------------------------------------------------------------------

    def outputs_size(self, vocabs):
        return 1 if self.regression else len(vocabs["target"])

    def build(self, vocabs):
        m = self.recipe["model"]
        source = keras.Input((None,), dtype="int32", name="source")
        words = word_dropout(self, source)
        x = self.embed("source", words, len(vocabs["source"]), "source_embedding", mask_zero=True)
        x = dropout(self, x, "embedding_dropout")
        x = recurrent_stack(self, x, final_only=m["pooling"] == "last")
        if m["pooling"] == "mean":
            x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
        elif m["pooling"] == "max":
            x = MaskedMaxPooling1D(name="pooling")(x)
        head = keras.layers.Dense(self.outputs_size(vocabs), name="head")(x)
        return keras.Model({"source": source}, head, name=self.recipe["type"])

    def loss(self):
        if self.regression:
            return keras.losses.MeanSquaredError()
        return super().loss()

    def metrics(self):
        if self.regression:
            return [keras.metrics.MeanAbsoluteError(name="mae")]
        return super().metrics()

    # Inference --------------------------------------------------------------

    def outputs(self, model, vocabs, texts):
        """Logits (or the predicted number) for each text."""
        def make(chunk):
            ragged = self.inputs(vocabs, tf.constant(chunk, tf.string))
            return {k: dense(v) for k, v in ragged.items()}

        return batched_outputs(model, make, texts, [len(t) for t in texts])

    def labels(self, vocabs, rows):
        """Logit rows -> the likeliest label of each (never <pad>)."""
        tokens = vocabs["target"].tokens
        return [tokens[1 + int(np.argmax(row[1:]))] for row in rows]

    def gold_and_predicted(self, model, vocabs, examples):
        if self.regression:
            return None
        rows = self.outputs(model, vocabs, [as_text(ex.source) for ex in examples])
        return self._gold(examples), self.labels(vocabs, rows), list(vocabs["target"].tokens[1:])

    def _gold(self, examples):
        """Each example's gold label (empty when it has none)."""
        targets = self.tokenizers["target"].split_py([as_text(ex.target) for ex in examples])
        return [t[0] if t else "" for t in targets]

    def evaluate(self, model, vocabs, examples):
        """Accuracy and macro-F1 (classification) or MSE and MAE (regression).

        Gold labels that training never saw count as errors, and their number
        is reported as `unseen_labels`.
        """
        texts = [as_text(ex.source) for ex in examples]
        rows = self.outputs(model, vocabs, texts)
        if self.regression:
            return metrics.regression_scores(
                [float(ex.target) for ex in examples], [float(row[0]) for row in rows]
            )
        gold = self._gold(examples)
        known = set(vocabs["target"].tokens[1:])
        return metrics.classification_scores(gold, self.labels(vocabs, rows), known)

    def predict(self, model, vocabs, texts):
        """The label with the probabilities of the likeliest few, or the number."""
        return self.rows(vocabs, texts, self.outputs(model, vocabs, texts))

    def rows(self, vocabs, texts, outputs):
        """`predict` rows from each text's logits (or predicted number)."""
        if self.regression:
            return [{"input": t, "output": float(row[0])} for t, row in zip(texts, outputs)]
        tokens = vocabs["target"].tokens
        results = []
        for text, row in zip(texts, outputs):
            probs = tf.nn.softmax(row[1:]).numpy()
            top = np.argsort(-probs)[:TOP]
            results.append(
                {
                    "input": text,
                    "output": tokens[1 + int(top[0])],
                    "probabilities": {tokens[1 + int(i)]: round(float(probs[i]), 4) for i in top},
                }
            )
        return results

    # Serving ----------------------------------------------------------------

    def serving_inputs(self, vocabs, texts):
        """Texts -> the model's inputs as ragged ids (an export's `logits` signature)."""
        return self.inputs(vocabs, tf.constant(texts, tf.string))

    def runner_predict(self, runner, texts):
        return self.rows(runner.vocabs, texts, runner.logits(texts))

    def runner_metric(self, runner, texts, references):
        if self.regression:
            return None
        labels = self.labels(runner.vocabs, runner.logits(texts))
        return float(np.mean([a == b for a, b in zip(labels, references)]))

    def serve_function(self, models, vocabs):
        """Raw strings -> the label, every label's probability and the label names.

        A regression head answers with its number as `output`.
        """
        (model,) = models

        def logits(text):
            ragged = self.inputs(vocabs, text)
            return tf.cast(model({k: v.to_tensor() for k, v in ragged.items()}, training=False), tf.float32)

        if self.regression:
            @tf.function(input_signature=text_signature())
            def serve(text):
                return {"output": logits(text)[:, 0]}

            return serve

        @tf.function(input_signature=text_signature())
        def serve(text):
            labels = tf.constant(vocabs["target"].tokens[1:])
            probs = tf.nn.softmax(logits(text)[:, 1:])
            return {"label": tf.gather(labels, tf.argmax(probs, -1)),
                    "probabilities": probs,
                    "labels": tf.tile(labels[None], [tf.shape(probs)[0], 1])}

        return serve


class OneToOne(ManyToOne):
    """Builder for `type: one_to_one`: one item in, one label out, T = 1.

    The item is the whole source text as one token (the `label` tokenizer;
    items the training data never had map to <unk>), or a fixed-length
    vector of numbers (the `vector` tokenizer), which the recurrent stack
    reads as its single step. A vector input's "vocabulary" names its
    features, `x1` to `xD`, so the run records the width it reads.
    """

    def __init__(self, recipe):
        kind = recipe["data"]["source"]["tokenizer"]
        if kind not in ("label", "vector"):
            raise RecipeError(
                [
                    "data -> source -> tokenizer: one_to_one reads each input as one "
                    f"item or one vector; use `label` or `vector`, not {kind!r}"
                ]
            )
        super().__init__(recipe)
        self.vector = kind == "vector"

    def specials(self, side):
        return 4 if side == "source" else super().specials(side)

    def fit_vocabs(self, examples, echo=print):
        vocabs = super().fit_vocabs(examples, echo=echo)
        if self.vector:
            texts = [as_text(ex.source) for ex in examples]
            width = self.check_vectors(texts, None, "example")
            vocabs["source"] = Vocabulary([f"x{i + 1}" for i in range(width)], specials=0)
        return vocabs

    def check_vectors(self, texts, width, what):
        """The vectors' common width; a row that is not `width` numbers is a DataError."""
        for i, row in enumerate(self.tokenizers["source"].split_py(texts)):
            bad = [v for v in row if not _finite(v)]
            if bad or not row:
                problem = f"{bad[0]!r} is not a finite number" if bad else "no numbers"
                raise DataError(f"{what} {i + 1}: {problem} ({texts[i][:40]!r})")
            width = width or len(row)
            if len(row) != width:
                raise DataError(f"{what} {i + 1}: {len(row)} numbers where the vectors have {width}")
        return width

    def inputs(self, vocabs, strings):
        if not self.vector:
            return super().inputs(vocabs, strings)
        numbers = tf.strings.to_number(self.tokenizers["source"].split(strings), tf.float32)
        return {"source": numbers}

    def outputs(self, model, vocabs, texts):
        if self.vector:
            self.check_vectors(texts, len(vocabs["source"]), "input")
        return super().outputs(model, vocabs, texts)

    def serving_inputs(self, vocabs, texts):
        if self.vector:
            self.check_vectors(texts, len(vocabs["source"]), "input")
        return super().serving_inputs(vocabs, texts)

    def build(self, vocabs):
        if self.vector:
            source = keras.Input((len(vocabs["source"]),), dtype="float32", name="source")
            x = keras.layers.Reshape((1, len(vocabs["source"])), name="one_step")(source)
        else:
            source = keras.Input((1,), dtype="int32", name="source")
            x = self.embed("source", source, len(vocabs["source"]), "source_embedding")
        x = dropout(self, x, "embedding_dropout")
        x = recurrent_stack(self, x, final_only=True)
        head = keras.layers.Dense(self.outputs_size(vocabs), name="head")(x)
        return keras.Model({"source": source}, head, name="one_to_one")


def _finite(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
