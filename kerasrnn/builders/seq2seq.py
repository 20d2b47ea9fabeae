"""Encoder-decoder of different lengths, attention-free (translation, G2P).

A (bi)directional recurrent encoder reads the source; its final states, one
set per layer, become the initial states of the decoder (through a learned
`tanh` bridge when the encoder is bidirectional). The decoder is trained with
teacher forcing and generates token by token at inference, through the same
layers wired as `encoder(tokens) -> states` and `step(token, states)`.
"""

import collections

import keras
import tensorflow as tf

from kerasrnn import decoding, metrics
from kerasrnn import layers as rnn_layers
from kerasrnn.builders.base import Builder, StepLogits, as_text, float32_model, state_count
from kerasrnn.data.vocab import BOS_ID, EOS_ID


class Seq2Seq(Builder):
    """Builder for `type: seq2seq`."""

    def encode(self, vocabs, strings):
        source = self.ids("source", vocabs, strings["source"][None])[0]
        target = self.ids("target", vocabs, strings["target"][None])[0]
        target_in = tf.concat([[BOS_ID], target], 0)
        target_out = tf.concat([target, [EOS_ID]], 0)
        weights = tf.ones_like(target_out, tf.float32)
        return {"source": source, "target_in": target_in}, target_out, weights

    def _encoder(self, source):
        m = self.recipe["model"]
        x = self._layer(
            "source_embedding",
            lambda: keras.layers.Embedding(
                self.vocab_sizes["source"], m["embedding_dim"], mask_zero=True,
                name="source_embedding",
            ),
        )(source)
        states = []
        for i in range(m["layers"]):
            name = f"encoder_{i}"

            def make(name=name):
                layer = self.recurrent(name, return_state=True)
                if m["bidirectional"]:
                    return rnn_layers.Bidirectional(layer, merge_mode="concat", name=name)
                return layer

            layer = self._layer(name, make)
            out, *layer_states = layer(x)
            if m["bidirectional"]:
                half = len(layer_states) // 2
                layer_states = [
                    self._layer(
                        f"bridge_{i}_{j}",
                        lambda i=i, j=j: keras.layers.Dense(
                            m["units"], activation="tanh", name=f"bridge_{i}_{j}"
                        ),
                    )(keras.layers.Concatenate(name=f"bridge_concat_{i}_{j}")([fw, bw]))
                    for j, (fw, bw) in enumerate(
                        zip(layer_states[:half], layer_states[half:])
                    )
                ]
            states.append(layer_states)
            x = self._between(x, out, f"encoder_dropout_{i}", i)
        return states

    def _between(self, x, out, dropout_name, i):
        m = self.recipe["model"]
        if m["residual"] and i > 0:
            out = keras.layers.Add(name=f"{dropout_name}_residual")([x, out])
        if m["dropout"]:
            out = self._layer(
                dropout_name, lambda: keras.layers.Dropout(m["dropout"], name=dropout_name)
            )(out)
        return out

    def _decoder(self, target, initial_states):
        m = self.recipe["model"]
        y = self._layer(
            "target_embedding",
            lambda: keras.layers.Embedding(
                self.vocab_sizes["target"], m["embedding_dim"], mask_zero=True,
                name="target_embedding",
            ),
        )(target)
        new_states = []
        for i in range(m["layers"]):
            name = f"decoder_{i}"
            layer = self._layer(name, lambda name=name: self.recurrent(name, return_state=True))
            out, *layer_states = layer(y, initial_state=initial_states[i])
            new_states.append(layer_states)
            y = self._between(y, out, f"decoder_dropout_{i}", i)
        logits = self._layer(
            "logits",
            lambda: keras.layers.Dense(self.vocab_sizes["target"], name="logits"),
        )(y)
        return logits, new_states

    def build(self, vocabs):
        self.vocab_sizes = {side: len(v) for side, v in vocabs.items()}
        source = keras.Input((None,), dtype="int32", name="source")
        target = keras.Input((None,), dtype="int32", name="target_in")
        logits, _ = self._decoder(target, self._encoder(source))
        return keras.Model({"source": source, "target_in": target}, logits, name="seq2seq")

    # Inference --------------------------------------------------------------

    def inference_models(self, model, vocabs):
        """(encoder, step) Keras models sharing the trained model's layers, in float32."""
        self.vocab_sizes = {side: len(v) for side, v in vocabs.items()}
        self.use(float32_model(model))
        source = keras.Input((None,), dtype="int32", name="source")
        states = self._encoder(source)
        encoder = keras.Model(source, [s for layer in states for s in layer], name="encoder")
        m = self.recipe["model"]
        token = keras.Input((1,), dtype="int32", name="token")
        state_inputs, k = [], 0
        for i in range(m["layers"]):
            count = state_count(self._layers[f"decoder_{i}"])
            state_inputs.append(
                [keras.Input((m["units"],), name=f"state_{k + j}") for j in range(count)]
            )
            k += count
        logits, new_states = self._decoder(token, state_inputs)
        logits = StepLogits(name="step_logits")(logits)
        step = keras.Model(
            [token] + [s for layer in state_inputs for s in layer],
            [logits] + [s for layer in new_states for s in layer],
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
                results.extend(self._decode_batch(step, states, len(chunk), dec, seed))
            target = vocabs["target"]
            return [target.decode(row) for row in results]

        return generate

    def _decode_batch(self, step, states, n, dec, seed):
        if dec["strategy"] == "greedy":
            return decoding.greedy(step, states, [BOS_ID] * n, EOS_ID, dec["max_length"])
        if dec["strategy"] == "sample":
            return decoding.sample(
                step, states, [BOS_ID] * n, EOS_ID, dec["max_length"],
                dec["temperature"], dec["top_k"], dec["top_p"], seed,
            )
        return [
            decoding.beam_search(
                step, [s[i : i + 1] for s in states], BOS_ID, EOS_ID,
                dec["max_length"], dec["beam_width"], dec["length_penalty"],
            )[0]
            for i in range(n)
        ]

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
