"""Encoder-decoder of different lengths, attention-free (translation, G2P).

A (bi)directional recurrent encoder reads the source (reversed with
`model.reverse_source`, Sutskever et al. 2014); its final states, one set
per layer, become the initial states of the decoder (through a learned
`tanh` bridge when the encoder is bidirectional). With `model.context:
every_step` a context vector, a `tanh` layer over the top level's final
states, is also joined to every decoder input and to the output layer's
input (Cho et al. 2014). The decoder is trained with teacher forcing and
generates token by token at inference, through the same layers wired as
`encoder(tokens) -> [context,] states` and `step(token, [context,] states)`;
the step returns the context unchanged, so decoding carries it as a state.
"""

import collections

import keras
import tensorflow as tf

from kerasrnn import decoding, metrics
from kerasrnn.builders.base import Builder, as_text, float32_model, state_count
from kerasrnn.builders.graph import first_step, flat, greedy_graph, ids_to_text, keras_call, text_signature
from kerasrnn.data.vocab import BOS_ID, EOS_ID
from kerasrnn.layers import ReverseTokens, StepConcat, StepLogits


class Seq2Seq(Builder):
    """Builder for `type: seq2seq`."""

    EXPORT = "generate"
    METRIC = "token_error_rate"
    ENCODE_LENGTH = None

    def encode(self, vocabs, strings):
        source = self.ids("source", vocabs, strings["source"][None])[0]
        target = self.ids("target", vocabs, strings["target"][None])[0]
        target_in = tf.concat([[BOS_ID], target], 0)
        target_out = tf.concat([target, [EOS_ID]], 0)
        weights = tf.ones_like(target_out, tf.float32)
        return {"source": source, "target_in": target_in}, target_out, weights

    def _encoder(self, source):
        """Source ids -> (the decoder's initial states per level, the context or None)."""
        m = self.recipe["model"]
        if m["reverse_source"]:
            source = self._layer("reverse_source", lambda: ReverseTokens(name="reverse_source"))(source)
        x = self._layer(
            "source_embedding",
            lambda: keras.layers.Embedding(
                self.vocab_sizes["source"], m["embedding_dim"], mask_zero=True,
                name="source_embedding",
            ),
        )(source)
        top = []

        def bridge(i, states):
            if i == m["layers"] - 1:
                top.extend(states)
            return self._bridge(i, states) if m["bidirectional"] else states

        _, states = self.recurrent_stack(
            x, "encoder", bidirectional=m["bidirectional"], return_state=True, bridge=bridge,
            dropout_name="encoder_dropout_{i}", residual_name="encoder_dropout_{i}_residual",
        )
        return states, self._context(top)

    def _context(self, top):
        """The top encoder level's final states (both directions) -> one `tanh` vector."""
        m = self.recipe["model"]
        if m["context"] != "every_step":
            return None
        summary = keras.layers.Concatenate(name="encoder_summary")(top) if len(top) > 1 else top[0]
        return self._layer(
            "context", lambda: keras.layers.Dense(m["units"], activation="tanh", name="context")
        )(summary)

    def _bridge(self, i, states):
        """A bidirectional level's final states, forward then backward -> the decoder's."""
        m = self.recipe["model"]
        half = len(states) // 2
        return [
            self._layer(
                f"bridge_{i}_{j}",
                lambda j=j: keras.layers.Dense(m["units"], activation="tanh", name=f"bridge_{i}_{j}"),
            )(keras.layers.Concatenate(name=f"bridge_concat_{i}_{j}")([fw, bw]))
            for j, (fw, bw) in enumerate(zip(states[:half], states[half:]))
        ]

    def _with_context(self, name, x, context):
        if context is None:
            return x
        return self._layer(name, lambda: StepConcat(name=name))([x, context])

    def _decoder(self, target, initial_states, context=None):
        m = self.recipe["model"]
        # With a context the target is read unmasked (`StepConcat` would drop
        # the mask anyway): the decoder is causal and padding comes last, so
        # no real step reads a padded one, and the loss weighs padding 0.
        y = self._layer(
            "target_embedding",
            lambda: keras.layers.Embedding(
                self.vocab_sizes["target"], m["embedding_dim"], mask_zero=context is None,
                name="target_embedding",
            ),
        )(target)
        y, new_states = self.recurrent_stack(
            self._with_context("decoder_context", y, context), "decoder", return_state=True,
            initial_states=initial_states,
            dropout_name="decoder_dropout_{i}", residual_name="decoder_dropout_{i}_residual",
        )
        logits = self._layer(
            "logits",
            lambda: keras.layers.Dense(self.vocab_sizes["target"], name="logits"),
        )(self._with_context("output_context", y, context))
        return logits, new_states

    def build(self, vocabs):
        self.vocab_sizes = {side: len(v) for side, v in vocabs.items()}
        source = keras.Input((None,), dtype="int32", name="source")
        target = keras.Input((None,), dtype="int32", name="target_in")
        logits, _ = self._decoder(target, *self._encoder(source))
        return keras.Model({"source": source, "target_in": target}, logits, name="seq2seq")

    # Inference --------------------------------------------------------------

    def inference_models(self, model, vocabs):
        """(encoder, step) Keras models sharing the trained model's layers, in float32.

        With a context, `encoder` returns it first, before the states, and
        `step` reads it after the token and returns it unchanged.
        """
        self.vocab_sizes = {side: len(v) for side, v in vocabs.items()}
        self.use(float32_model(model))
        source = keras.Input((None,), dtype="int32", name="source")
        states, context = self._encoder(source)
        extra = [] if context is None else [context]
        encoder = keras.Model(source, extra + [s for layer in states for s in layer], name="encoder")
        m = self.recipe["model"]
        token = keras.Input((1,), dtype="int32", name="token")
        extra = [] if context is None else [keras.Input((m["units"],), name="context")]
        state_inputs, k = [], len(extra)
        for i in range(m["layers"]):
            count = state_count(self._layers[f"decoder_{i}"])
            state_inputs.append(
                [keras.Input((m["units"],), name=f"state_{k + j}") for j in range(count)]
            )
            k += count
        logits, new_states = self._decoder(token, state_inputs, *extra)
        logits = StepLogits(name="step_logits")(logits)
        # Carried unchanged, so decoding can reorder it with the states.
        kept = [keras.layers.Identity(name="keep_context")(t) for t in extra]
        step = keras.Model(
            [token] + extra + [s for layer in state_inputs for s in layer],
            [logits] + kept + [s for layer in new_states for s in layer],
            name="step",
        )
        return encoder, step

    def generator(self, model, vocabs):
        """A function `sources -> decoded token lists`, per the recipe's decoding."""
        encoder, step_model = self.inference_models(model, vocabs)
        source_ids = tf.function(
            lambda strings: self.ids("source", vocabs, strings).to_tensor(),
            input_signature=[tf.TensorSpec([None], tf.string)],
        )
        encode_fn = tf.function(
            lambda ids: encoder(ids, training=False),
            input_signature=[tf.TensorSpec([None, None], tf.int32)],
        )
        state_specs = [tf.TensorSpec([None, t.shape[-1]], tf.float32) for t in step_model.inputs[1:]]

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.int32), state_specs], autograph=False
        )
        def step_graph(tokens, states):
            out = step_model([tokens[:, None]] + list(states), training=False)
            return out[0], out[1:]

        def step(tokens, states):
            logits, states = step_graph(tf.constant(tokens), [tf.constant(s) for s in states])
            return logits.numpy(), [s.numpy() for s in states]

        dec = self.recipe["decoding"]

        def generate(sources, batch_size=256, seed=None):
            results = []
            for start in range(0, len(sources), batch_size):
                chunk = sources[start : start + batch_size]
                ids = source_ids(tf.constant(chunk, tf.string))
                states = [s.numpy() for s in tf.nest.flatten(encode_fn(ids))]
                results.extend(decoding.decode(step, states, [BOS_ID] * len(chunk), EOS_ID, dec, seed))
            target = vocabs["target"]
            return [target.decode(row) for row in results]

        return generate

    # Evaluation -------------------------------------------------------------

    def evaluate(self, model, vocabs, examples):
        """Token and sequence error rates and BLEU against every reference.

        Examples sharing a source (a word's pronunciations, a sentence's
        translations) are scored once, against all their targets.
        """
        refs = collections.OrderedDict()
        for ex in examples:
            refs.setdefault(as_text(ex.source), []).append(as_text(ex.target))
        sources = list(refs)
        hyps = self.generator(model, vocabs)(sources)
        flat = self.tokenizers["target"].split_py([r for rs in refs.values() for r in rs])
        ref_tokens, start = [], 0
        for rs in refs.values():
            ref_tokens.append(flat[start : start + len(rs)])
            start += len(rs)
        result = metrics.error_rates(hyps, ref_tokens)
        join = self.tokenizers["target"].join
        result["bleu"] = metrics.bleu(
            [join(h) for h in hyps], [[join(t) for t in r] for r in ref_tokens]
        )
        result["examples"] = len(sources)
        return result

    def predict(self, model, vocabs, texts):
        """Decoded target text for each source text."""
        join = self.tokenizers["target"].join
        return [{"input": t, "output": join(h)} for t, h in zip(texts, self.generator(model, vocabs)(texts))]

    # Serving ----------------------------------------------------------------

    def export_models(self, model, vocabs):
        return self.inference_models(model, vocabs)

    def first_states(self, models, tokens, call):
        """The states `encode` returns for a batch of source id rows."""
        return flat(call(models[0], tokens))

    def prompts(self, vocabs, texts):
        """(rows to encode, first tokens, ids shown before the output, stop token)."""
        rows = self.ids("source", vocabs, tf.constant(texts, tf.string)).to_list()
        return rows, [BOS_ID] * len(rows), [[] for _ in rows], EOS_ID

    def render(self, vocabs, ids):
        """Target ids -> text."""
        return self.tokenizers["target"].join(vocabs["target"].decode(ids))

    def runner_predict(self, runner, texts):
        return [{"input": t, "output": o} for t, o in zip(texts, runner.generate(texts))]

    def runner_metric(self, runner, texts, references):
        hyps = runner.generate(texts, strategy="greedy")
        split = self.tokenizers["target"].split_py
        return metrics.error_rates(split(hyps), [[t] for t in split(references)])["token_error_rate"]

    def serve_function(self, models, vocabs):
        """Raw source strings -> the greedy decoded target text and its ids."""
        step = models[1]
        max_length = self.recipe["decoding"]["max_length"]

        @tf.function(input_signature=text_signature())
        def serve(text):
            ids = self.ids("source", vocabs, text).to_tensor()
            logits, states = first_step(step, self.first_states(models, ids, keras_call))
            out = greedy_graph(step, states, logits, EOS_ID, max_length)
            return {"output": ids_to_text(out, vocabs["target"], self.tokenizers["target"]), "ids": out}

        return serve
