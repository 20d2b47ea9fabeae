"""Language model: next-token prediction over characters, words or subwords.

Two ways to train (`data.lm_mode`):

- `sentences`: each line is one example, read as `<bos> tokens` and trained
  to predict `tokens <eos>`; batches are length-bucketed and padded.
- `stream`: the lines are one continuous text (each line ends in `<eos>`,
  shown as a newline), cut into `batch_size` parallel streams that are read
  in consecutive windows of `data.window` tokens. The recurrent layers are
  stateful, so each window starts from the state the previous one ended in
  (truncated backpropagation through time); states are zeroed at the start
  of every epoch and of every evaluation.

With `model.tie_embeddings` the output layer is the embedding matrix
transposed (after a projection from `units` to `embedding_dim` where they
differ). At inference the trained layers are rewired as
`step(token, states) -> (logits, states)` for `kerasrnn.decoding`, and as
`reader(tokens, states) -> (logits, states)` to score whole texts.

A score row gives a text's log-probability (natural log, `<eos>` included),
its perplexity, and `unk`, how many of its tokens were read as `<unk>`. A
word model (tokenizer word, script or pretokenized) samples one sentence,
to `<eos>`; `decoding.suppress_unk` keeps `<unk>` out of what is generated.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import decoding as decoders
from kerasrnn import metrics
from kerasrnn.builders.base import Builder, as_text, float32_model, state_count
from kerasrnn.builders.classifier import dropout
from kerasrnn.builders.lm_serving import LanguageModelServing, score_row, unk_count
from kerasrnn.data.errors import DataError
from kerasrnn.data.vocab import BOS_ID, EOS_ID, UNK_ID
from kerasrnn.errors import RecipeError
from kerasrnn.layers import SampledSoftmax, StepLogits, TiedEmbedding


class StateReset(keras.callbacks.Callback):
    """Zeroes the stateful layers' states when an epoch or an evaluation starts."""

    def _reset(self):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()

    def on_test_begin(self, logs=None):
        self._reset()


def without_unk(step):
    """A step function whose `<unk>` logit is -inf, so no decoding strategy picks it."""

    def masked(tokens, states):
        logits, states = step(tokens, states)
        logits = np.array(logits, copy=True)
        logits[..., UNK_ID] = -np.inf
        return logits, states

    return masked


class LanguageModel(LanguageModelServing, Builder):
    """Builder for `type: language_model`."""

    SIDES = ("source",)
    OUTPUT = "source"
    CONDITIONED = False

    # `training.sampled_softmax`: the training model's output layer is a
    # `SampledSoftmax` that reads the labels and gives each token's loss.
    SAMPLED_SOFTMAX = True

    def __init__(self, recipe):
        super().__init__(recipe)
        self.stream = recipe["data"]["lm_mode"] == "stream"
        self.sampled = recipe["training"]["sampled_softmax"] if self.SAMPLED_SOFTMAX else 0

    # Data -------------------------------------------------------------------

    @property
    def start_id(self):
        """The token read before the first one: <bos>, or <eos> (a line break) in a stream."""
        return EOS_ID if self.stream else BOS_ID

    def encode(self, vocabs, strings):
        ids = self.ids(self.OUTPUT, vocabs, strings[self.OUTPUT][None])[0]
        inputs = tf.concat([[self.start_id], ids], 0)
        labels = tf.concat([ids, [EOS_ID]], 0)
        return self._features(inputs, labels), labels, tf.ones_like(labels, tf.float32)

    def _features(self, tokens, labels):
        """The training model's inputs: the tokens, and the labels a sampled softmax reads."""
        return {"tokens": tokens, "labels": labels} if self.sampled else {"tokens": tokens}

    def stream_ids(self, vocabs, texts):
        """Lines -> one id array, each line followed by <eos>."""
        out = []
        for start in range(0, len(texts), 4096):
            chunk = tf.constant(texts[start : start + 4096], tf.string)
            for row in self.ids(self.OUTPUT, vocabs, chunk).to_list():
                out.extend(row)
                out.append(EOS_ID)
        return np.asarray(out, np.int32)

    def windows(self, ids, batch_size, window):
        """A stream -> (inputs, labels, weights), each [windows, batch, window].

        Row b of window k continues row b of window k - 1. The stream is
        padded (weight 0) to fill the last window.
        """
        inputs = np.concatenate([[self.start_id], ids[:-1]]).astype(np.int32)
        per_row = max(1, math.ceil(len(ids) / (batch_size * window))) * window
        total = per_row * batch_size
        pad = total - len(ids)
        inputs = np.pad(inputs, (0, pad)).reshape(batch_size, -1, window)
        labels = np.pad(ids, (0, pad)).reshape(batch_size, -1, window)
        weights = np.pad(np.ones(len(ids), np.float32), (0, pad)).reshape(batch_size, -1, window)
        order = (1, 0, 2)
        return inputs.transpose(order), labels.transpose(order), weights.transpose(order)

    def steps_per_epoch(self, examples, vocabs, batch_size):
        """In a stream, one step per window of the `batch_size` parallel streams."""
        if not self.stream:
            return super().steps_per_epoch(examples, vocabs, batch_size)
        tokens = len(self.stream_ids(vocabs, [as_text(ex.source) for ex in examples]))
        return max(1, math.ceil(tokens / (batch_size * self.recipe["data"]["window"])))

    def dataset(self, examples, vocabs, training=False, batch_size=None):
        if not self.stream:
            return super().dataset(examples, vocabs, training, batch_size)
        batch_size = batch_size or self.recipe["training"]["batch_size"]
        ids = self.stream_ids(vocabs, [as_text(ex.source) for ex in examples])
        inputs, labels, weights = self.windows(ids, batch_size, self.recipe["data"]["window"])
        ds = tf.data.Dataset.from_tensor_slices((self._features(inputs, labels), labels, weights))
        return ds.prefetch(tf.data.AUTOTUNE)

    def callbacks(self):
        return [StateReset()] if self.stream else []

    # Model ------------------------------------------------------------------

    def _embed(self, tokens):
        m = self.recipe["model"]
        make = TiedEmbedding if m["tie_embeddings"] else keras.layers.Embedding
        return self._layer(
            "embedding",
            lambda: make(self.vocab_size, m["embedding_dim"], name="embedding"),
        )(tokens)

    def _stack(self, x, initial_states=None, stateful=False):
        """The recurrent layers `rnn_{i}` over embedded tokens -> (outputs, final states per layer)."""
        return self.recurrent_stack(
            x, "rnn", return_state=True, stateful=stateful, initial_states=initial_states
        )

    def _logits(self, x):
        m = self.recipe["model"]
        if not m["tie_embeddings"]:
            return self._layer(
                "logits", lambda: keras.layers.Dense(self.vocab_size, name="logits")
            )(x)
        if m["units"] != m["embedding_dim"]:
            x = self._layer(
                "tie_projection",
                lambda: keras.layers.Dense(m["embedding_dim"], name="tie_projection"),
            )(x)
        return self._layers["embedding"](x, reverse=True)

    def _inputs(self, name="tokens"):
        """A training model's input of token ids (fixed batch and window in a stream)."""
        if self.stream:
            return keras.Input(
                (self.recipe["data"]["window"],),
                batch_size=self.recipe["training"]["batch_size"],
                dtype="int32",
                name=name,
            )
        return keras.Input((None,), dtype="int32", name=name)

    def build(self, vocabs):
        self.vocab_size = len(vocabs[self.OUTPUT])
        tokens = self._inputs()
        x = dropout(self, self._embed(tokens), "embedding_dropout")
        x, _ = self._stack(x, stateful=self.stream)
        if not self.sampled:
            return keras.Model({"tokens": tokens}, self._logits(x), name="language_model")
        problem = None
        if self.recipe["model"]["tie_embeddings"]:
            problem = "not with model.tie_embeddings (set one of them off)"
        elif self.sampled >= self.vocab_size:
            problem = f"{self.sampled} must be below the vocabulary's size, {self.vocab_size:,}"
        if problem:
            raise RecipeError([f"training -> sampled_softmax: {problem}"])
        labels = self._inputs("labels")
        head = SampledSoftmax(self.vocab_size, self.sampled, name="sampled_softmax")
        losses = head(x, labels)
        self._layers["logits"] = head.dense
        return keras.Model({"tokens": tokens, "labels": labels}, losses, name="language_model")

    def use(self, model):
        super().use(model)
        head = self._layers.get("sampled_softmax")
        if head is not None:
            # Inference scores every word with the sampled softmax's weights.
            self._layers["logits"] = head.dense
        return self

    def metrics(self):
        # A sampled softmax's model gives losses, not logits to take an accuracy of.
        return [] if self.sampled else super().metrics()

    # Inference --------------------------------------------------------------

    def _state_sizes(self):
        m = self.recipe["model"]
        return [
            [m["units"]] * state_count(self._layers[f"rnn_{i}"]) for i in range(m["layers"])
        ]

    def _stateless_twins(self):
        """Stateful layers are swapped for stateless copies carrying their weights."""
        twins = {}
        for name, layer in list(self._layers.items()):
            if getattr(layer, "stateful", False):
                config = {**layer.get_config(), "stateful": False}
                twins[name] = (layer, type(layer).from_config(config))
                self._layers[name] = twins[name][1]
        return twins

    def _reader(self, tokens, name):
        """A model `[tokens, *states] -> [logits, *states]` over the given token input."""
        extra = self._extra_state_inputs()
        state_inputs = [
            [keras.Input((size,), name=f"state_{i}_{j}") for j, size in enumerate(sizes)]
            for i, sizes in enumerate(self._state_sizes())
        ]
        x = self._step_inputs(self._embed(tokens), extra)
        x, new_states = self._stack(x, state_inputs)
        logits = self._logits(x)
        if name == "step":
            logits = StepLogits(name="step_logits")(logits)
        # Carried unchanged, so decoding can reorder it with the states.
        kept = [keras.layers.Identity(name=f"keep_{i}")(t) for i, t in enumerate(extra)]
        flat_in = [s for layer in state_inputs for s in layer]
        flat_out = [s for layer in new_states for s in layer]
        return keras.Model([tokens] + extra + flat_in, [logits] + kept + flat_out, name=name)

    def _step_inputs(self, x, extra_inputs):
        return x

    def _extra_state_inputs(self):
        """State-like inputs carried unchanged through every step (a condition)."""
        return []

    def inference_models(self, model, vocabs):
        """(reader, step) Keras models built on the trained model's layers.

        Both take `[tokens, *states]` and return `[logits, *states]`; `reader`
        reads [batch, time] tokens, `step` one token per row, its logits
        [batch, vocab]. Stateful layers are replaced by stateless copies;
        a mixed-precision model runs in float32 (`float32_model`).
        """
        self.vocab_size = len(vocabs[self.OUTPUT])
        self.use(float32_model(model))
        twins = self._stateless_twins()
        reader = self._reader(keras.Input((None,), dtype="int32", name="tokens"), "reader")
        step = self._reader(keras.Input((1,), dtype="int32", name="token"), "step")
        for original, twin in twins.values():
            twin.set_weights(original.get_weights())
        return reader, step

    def _initial_states(self, vocabs, n, conditions=None):
        """Zero states for `n` rows, as numpy arrays in step order."""
        return [
            np.zeros((n, size), np.float32) for sizes in self._state_sizes() for size in sizes
        ]

    def _runner(self, model, vocabs):
        """Host functions `read(tokens, states)` and `step(tokens, states)` over numpy.

        Both run the reader (a step is a read of one token), traced once per shape.
        """
        reader, _ = self.inference_models(model, vocabs)

        @tf.function(reduce_retracing=True)
        def read_graph(tokens, states):
            out = reader([tokens] + list(states), training=False)
            return out[0], out[1:]

        def read(tokens, states):
            logits, states = read_graph(
                tf.constant(tokens, tf.int32), [tf.constant(s) for s in states]
            )
            return logits.numpy(), [s.numpy() for s in states]

        def step(tokens, states):
            logits, states = read(np.asarray(tokens, np.int32)[:, None], states)
            return logits[:, 0], states

        return read, step

    # Scoring ----------------------------------------------------------------

    def token_ids(self, vocabs, texts):
        """Each text's ids; in a stream, a text's lines are joined by <eos>."""
        if not texts:
            return []
        if not self.stream:
            ragged = self.ids(self.OUTPUT, vocabs, tf.constant(list(texts), tf.string))
            return [list(row) for row in ragged.to_list()]
        out = []
        for text in texts:
            ids = list(self.stream_ids(vocabs, text.split("\n")))
            out.append(ids[:-1])
        return out

    def log_probs(self, read, rows, states, batch_size=64):
        """Per-token log-probabilities of `<start> row <eos>` for each row of ids."""
        out = []
        for begin in range(0, len(rows), batch_size):
            chunk = rows[begin : begin + batch_size]
            width = max(len(r) for r in chunk) + 1
            inputs = np.zeros((len(chunk), width), np.int32)
            labels = np.zeros((len(chunk), width), np.int32)
            for i, row in enumerate(chunk):
                inputs[i, : len(row) + 1] = [self.start_id] + row
                labels[i, : len(row) + 1] = row + [EOS_ID]
            part = [s[begin : begin + len(chunk)] for s in states]
            logits, _ = read(inputs, part)
            logp = decoders.log_softmax(logits)
            picked = np.take_along_axis(logp, labels[..., None], -1)[..., 0]
            out.extend(picked[i, : len(row) + 1].tolist() for i, row in enumerate(chunk))
        return out

    def _scored(self, model, vocabs, texts, conditions=None):
        read, _ = self._runner(model, vocabs)
        rows = self.token_ids(vocabs, texts)
        states = self._initial_states(vocabs, len(rows), conditions)
        return rows, self.log_probs(read, rows, states)

    def _check_condition(self, condition):
        if condition is not None and not self.CONDITIONED:
            raise DataError("this language model has no conditions; leave out --condition")

    def score(self, model, vocabs, texts, condition=None):
        """Each text's log-probability (natural log, <eos> included), per-token mean, perplexity.

        A conditioned model (one_to_many) scores the texts given `condition`.
        """
        self._check_condition(condition)
        conditions = None if condition is None else [condition] * len(texts)
        rows, logps = self._scored(model, vocabs, texts, conditions)
        return [score_row(text, logp, unk_count(row)) for text, logp, row in zip(texts, logps, rows)]

    # Sampling ---------------------------------------------------------------

    def render(self, vocabs, ids):
        """Ids -> text; in a stream <eos> is a line break.

        A word model writes `<unk>` where it generated it, so a sample
        shows where the model reached for a rare word.
        """
        join = self.tokenizers[self.OUTPUT].join
        vocab = vocabs[self.OUTPUT]
        lines, line = [], []
        for i in list(ids) + [EOS_ID]:
            if i == EOS_ID:
                lines.append(join(self._tokens(vocab, line)))
                line = []
            else:
                line.append(i)
        return "\n".join(lines if self.stream else lines[:1])

    def _tokens(self, vocab, ids):
        if not self.by_words:
            return vocab.decode(ids)
        out = []
        for i in ids:
            out.extend([vocab.tokens[UNK_ID]] if i == UNK_ID else vocab.decode([i]))
        return out

    def _prompt_ids(self, vocabs, prompt):
        if not prompt:
            return []
        return self.token_ids(vocabs, [prompt])[0]

    def sample(self, model, vocabs, num, prompt=None, condition=None, decoding=None, seed=None):
        """`num` generated texts, continuing `prompt`; reproducible with `seed`.

        A word model stops each text at `<eos>`, the end of its sentence.

        Args:
            decoding: overrides of the recipe's `decoding` section (strategy,
                temperature, top_k, top_p, beam_width, max_length,
                suppress_unk).
        """
        self._check_condition(condition)
        dec = {**self.recipe["decoding"], **(decoding or {})}
        read, step = self._runner(model, vocabs)
        if dec.get("suppress_unk"):
            step = without_unk(step)
        states = self._initial_states(vocabs, num, [condition] * num if condition else None)
        prompt_ids = self._prompt_ids(vocabs, prompt)
        fed = [self.start_id] + prompt_ids
        if len(fed) > 1:
            _, states = read(np.tile(np.asarray(fed[:-1], np.int32), (num, 1)), states)
        start = [fed[-1]] * num
        if dec["strategy"] == "beam":
            # Every row reads the same prompt: one search serves them all.
            rows = decoders.decode(step, [s[:1] for s in states], start[:1], self.stop_id, dec) * num
        else:
            rows = decoders.decode(step, states, start, self.stop_id, dec, seed)
        return [self.render(vocabs, prompt_ids + row) for row in rows]

    # Evaluation -------------------------------------------------------------

    def evaluate(self, model, vocabs, examples):
        """Loss in nats per token, perplexity, bits per token and per character."""
        texts = [as_text(ex.source) for ex in examples]
        if self.stream:
            total, tokens = self._stream_log_prob(model, vocabs, texts)
        else:
            _, logps = self._scored(model, vocabs, texts)
            total, tokens = sum(map(np.sum, logps)), sum(map(len, logps))
        chars = sum(len(t) + 1 for t in texts)  # each line's break or <eos> counts
        result = metrics.language_model_scores(-float(total), tokens, chars)
        result["examples"] = len(texts)
        return result

    def _stream_log_prob(self, model, vocabs, texts):
        """The stream read in parallel rows window by window, states carried."""
        read, _ = self._runner(model, vocabs)
        ids = self.stream_ids(vocabs, texts)
        batch = self.recipe["training"]["batch_size"]
        inputs, labels, weights = self.windows(ids, batch, self.recipe["data"]["window"])
        states = self._initial_states(vocabs, batch)
        total = 0.0
        for x, y, w in zip(inputs, labels, weights):
            logits, states = read(x, states)
            logp = np.take_along_axis(decoders.log_softmax(logits), y[..., None], -1)[..., 0]
            total += float((logp * w).sum())
        return total, len(ids)

    def predict(self, model, vocabs, texts):
        """Each text's score, and a greedy continuation of it as a prompt."""
        scores = self.score(model, vocabs, texts)
        dec = {"strategy": "greedy"}
        out = []
        for text, score in zip(texts, scores):
            continuation = self.sample(model, vocabs, 1, prompt=text, decoding=dec)[0]
            out.append({"input": text, "output": continuation, **score})
        return out

