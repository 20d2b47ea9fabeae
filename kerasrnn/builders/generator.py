"""One-to-many: a label conditions a recurrent generator that emits a sequence.

The source is the condition (one label, e.g. a language), the target the
sequence it conditions (e.g. a surname). The condition's embedding sets the
decoder's initial states through a `tanh` Dense per state, is joined to the
input of every step, or both (`model.conditioning`). The decoder is a
language model over the target, trained with teacher forcing and decoded
through `step(token, [condition_vector,] states)`.

The `folder` format reads a name as source and its file's name (the
language) as target; `data.swap_sides: true` turns them round.
"""

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import metrics
from kerasrnn.builders.base import as_text
from kerasrnn.builders.graph import first_step, flat, greedy_graph, ids_to_text, keras_call, state_sizes, text_signature
from kerasrnn.builders.language_model import LanguageModel
from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.data.loading import load_split
from kerasrnn.data.vocab import BOS_ID, EOS_ID
from kerasrnn.layers import StepConcat


class OneToMany(LanguageModel):
    """Builder for `type: one_to_many`."""

    SIDES = ("source", "target")
    OUTPUT = "target"
    CONDITIONED = True
    # Its output layer stays a full softmax; `training.sampled_softmax` is refused.
    SAMPLED_SOFTMAX = False

    def __init__(self, recipe):
        super().__init__(recipe)
        self.stream = False
        conditioning = recipe["model"]["conditioning"]
        self.condition_states = conditioning in ("initial_state", "both")
        self.condition_input = conditioning in ("input", "both")

    # Data -------------------------------------------------------------------

    def oriented(self, examples):
        """Examples with the condition as source, per `data.swap_sides`."""
        if not self.recipe["data"]["swap_sides"]:
            return list(examples)
        return [Example(ex.target, ex.source, ex.key) for ex in examples]

    def fit_vocabs(self, examples, echo=print):
        return super().fit_vocabs(self.oriented(examples), echo=echo)

    def strings(self, examples):
        return super().strings(self.oriented(examples))

    def encode(self, vocabs, strings):
        condition = self.ids("source", vocabs, strings["source"][None])[0][0]
        ids = self.ids("target", vocabs, strings["target"][None])[0]
        inputs = tf.concat([[BOS_ID], ids], 0)
        labels = tf.concat([ids, [EOS_ID]], 0)
        weights = tf.ones_like(labels, tf.float32)
        return {"condition": condition, "tokens": inputs}, labels, weights

    def length(self, inputs, labels, weights):
        return tf.shape(inputs["tokens"])[0]

    # Model ------------------------------------------------------------------

    def _condition_vector(self, condition):
        m = self.recipe["model"]
        return self._layer(
            "condition_embedding",
            lambda: keras.layers.Embedding(
                self.condition_size, m["embedding_dim"], name="condition_embedding"
            ),
        )(condition)

    def _states_from(self, vector):
        """The decoder's initial states, one Dense per state, from the condition."""
        m = self.recipe["model"]
        count = 2 if m["cell"] in ("lstm", "layer_norm_lstm") else 1
        return [
            [
                self._layer(
                    f"condition_state_{i}_{j}",
                    lambda i=i, j=j: keras.layers.Dense(
                        m["units"], activation="tanh", name=f"condition_state_{i}_{j}"
                    ),
                )(vector)
                for j in range(count)
            ]
            for i in range(m["layers"])
        ]

    def _step_inputs(self, x, extra_inputs):
        if not self.condition_input:
            return x
        return self._layer("condition_concat", lambda: StepConcat(name="condition_concat"))(
            [x, extra_inputs[0]]
        )

    def build(self, vocabs):
        self.vocab_size = len(vocabs["target"])
        self.condition_size = len(vocabs["source"])
        condition = keras.Input((), dtype="int32", name="condition")
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        vector = self._condition_vector(condition)
        x = self._step_inputs(self._embed(tokens), [vector])
        initial = self._states_from(vector) if self.condition_states else None
        x, _ = self._stack(x, initial)
        return keras.Model(
            {"condition": condition, "tokens": tokens}, self._logits(x), name="one_to_many"
        )

    # Inference --------------------------------------------------------------

    def _extra_state_inputs(self):
        if not self.condition_input:
            return []
        dim = self.recipe["model"]["embedding_dim"]
        return [keras.Input((dim,), name="condition_vector")]

    def inference_models(self, model, vocabs):
        """(reader, step) as for a language model, and `self.starter`:
        condition ids -> the first states (the condition vector first when
        it is joined to every step's input)."""
        self.condition_size = len(vocabs["source"])
        reader, step = super().inference_models(model, vocabs)
        condition = keras.Input((), dtype="int32", name="condition")
        vector = self._condition_vector(condition)
        outputs = [vector] if self.condition_input else []
        if self.condition_states:
            outputs += [s for layer in self._states_from(vector) for s in layer]
        self.starter = keras.Model(condition, outputs, name="starter")
        return reader, step

    def condition_ids(self, vocabs, conditions):
        """Condition labels -> ids; an unknown label is a `DataError` naming the known ones."""
        if not conditions or conditions[0] is None:
            raise DataError("this model generates from a condition: give one (--condition LABEL)")
        vocab = vocabs["source"]
        for label in conditions:
            if label not in vocab:
                known = ", ".join(vocab.tokens[vocab.specials :])
                raise DataError(f"unknown condition {label!r}; this model knows: {known}")
        return np.asarray(vocab.encode(conditions), np.int32)

    def _initial_states(self, vocabs, n, conditions=None):
        ids = self.condition_ids(vocabs, conditions)
        out = self.starter(tf.constant(ids), training=False)
        states = [np.asarray(s) for s in (out if isinstance(out, (list, tuple)) else [out])]
        if not self.condition_states:
            states += super()._initial_states(vocabs, len(ids))
        return states

    # Scoring, evaluation ----------------------------------------------------

    def evaluate(self, model, vocabs, examples, samples=200):
        """Per-token perplexity of the held-out sequences given their conditions,
        and the share of generated sequences not seen in training."""
        examples = self.oriented(examples)
        texts = [as_text(ex.target) for ex in examples]
        conditions = [as_text(ex.source) for ex in examples]
        known = [c in vocabs["source"] for c in conditions]
        texts = [t for t, k in zip(texts, known) if k]
        conditions = [c for c, k in zip(conditions, known) if k]
        _, logps = self._scored(model, vocabs, texts, conditions)
        total, tokens = sum(map(np.sum, logps)), sum(map(len, logps))
        chars = sum(len(t) + 1 for t in texts)
        result = metrics.language_model_scores(-float(total), tokens, chars)
        result["examples"] = len(texts)
        picked = conditions[:samples]
        generated = []
        for label in sorted(set(picked)):
            generated += self.sample(
                model, vocabs, picked.count(label), condition=label,
                seed=self.recipe["training"]["seed"],
            )
        result["novel_share"] = metrics.novelty(generated, self._training_outputs())
        return result

    def _training_outputs(self):
        train = load_split(self.recipe, "train")
        return {as_text(ex.target) for ex in self.oriented(train)}

    def predict(self, model, vocabs, texts):
        """A sequence generated for each condition label (the recipe's decoding)."""
        return [
            {"input": label, "output": self.sample(model, vocabs, 1, condition=label)[0]}
            for label in texts
        ]

    # Serving ----------------------------------------------------------------

    # `encode` reads one condition id per row.
    ENCODE_LENGTH = 1

    def export_models(self, model, vocabs):
        """(starter, step): condition ids -> first states, and the decoder's step."""
        _, step = self.inference_models(model, vocabs)
        return self.starter, step

    def first_states(self, models, tokens, call):
        starter, step = models
        rows = tokens.shape[0] if tokens.shape[0] is not None else tf.shape(tokens)[0]
        states = flat(call(starter, tokens[:, 0]))
        # Without conditioned initial states the recurrent states start at zero.
        return states + [tf.zeros([rows, n]) for n in state_sizes(step)[len(states):]]

    def held_out(self, examples, vocabs):
        """(conditions, sequences) of held-out examples whose condition training knew."""
        examples = [ex for ex in self.oriented(examples) if as_text(ex.source) in vocabs["source"]]
        return super().held_out(examples, vocabs)

    def prompts(self, vocabs, texts):
        rows = self.condition_rows(vocabs, list(texts), len(texts))
        return rows, [BOS_ID] * len(rows), [[] for _ in rows], EOS_ID

    def condition_rows(self, vocabs, conditions, n):
        return [[int(i)] for i in self.condition_ids(vocabs, conditions)]

    def runner_metric(self, runner, texts, references):
        logps = self.runner_log_probs(runner, references, texts)
        return float(np.exp(-sum(map(sum, logps)) / sum(map(len, logps))))

    def runner_predict(self, runner, texts):
        return [{"input": t, "output": o} for t, o in zip(texts, runner.generate(texts))]

    def serve_function(self, models, vocabs):
        """Raw condition labels -> a greedy sequence for each (empty for an unknown label)."""
        step = models[1]
        max_length = self.recipe["decoding"]["max_length"]

        @tf.function(input_signature=text_signature("condition"))
        def serve(condition):
            ids = self.ids("source", vocabs, condition).to_tensor(shape=[None, 1])
            known = ids[:, 0] > 0
            logits, states = first_step(step, self.first_states(models, tf.maximum(ids, 0), keras_call))
            out = greedy_graph(step, states, logits, EOS_ID, max_length)
            text = ids_to_text(out, vocabs["target"], self.tokenizers["target"])
            return {"output": tf.where(known, text, ""), "known": known}

        return serve
