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
import contextlib
import sys
import types

import click
import keras
import tensorflow as tf

from kerasrnn import decoding, metrics
from kerasrnn.builders.base import Builder, as_text, float32_model, state_count
from kerasrnn.builders.graph import first_step, flat, greedy_graph, ids_to_text, keras_call, text_signature
from kerasrnn.data.vocab import BOS_ID, EOS_ID
from kerasrnn.layers import ReverseTokens, StepConcat, StepLogits


def progress_bar(total, label, verbose):
    """A progress bar on stderr (click's), or one that shows nothing when `verbose` is 0."""
    if not verbose:
        return contextlib.nullcontext(types.SimpleNamespace(update=lambda n: None))
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)


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

    def encode_batch(self, vocabs, strings):
        """`encode` over a batch of examples: one ragged row each."""
        source = self.ids("source", vocabs, strings["source"])
        target = self.ids("target", vocabs, strings["target"])
        ends = tf.RaggedTensor.from_tensor(tf.ones([target.nrows(), 1], tf.int32))
        target_in = tf.concat([ends * BOS_ID, target], 1)
        target_out = tf.concat([target, ends * EOS_ID], 1)
        return {"source": source, "target_in": target_in}, target_out, tf.ones_like(target_out, tf.float32)

    def _encoder(self, source):
        """Source ids -> (the decoder's initial states per level, the context or None)."""
        m = self.recipe["model"]
        if m["reverse_source"]:
            source = self._layer("reverse_source", lambda: ReverseTokens(name="reverse_source"))(source)
        x = self.embed("source", source, self.vocab_sizes["source"], "source_embedding", mask_zero=True)
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
        # With a context the target is read unmasked (`StepConcat` would drop
        # the mask anyway): the decoder is causal and padding comes last, so
        # no real step reads a padded one, and the loss weighs padding 0.
        y = self.embed(
            "target", target, self.vocab_sizes["target"], "target_embedding", mask_zero=context is None
        )
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

    def decoding_functions(self, model, vocabs):
        """(source_ids, encode, step): source strings -> padded ids -> first
        states, and one decoder step over NumPy tokens and states, as
        `decoding.decode` calls it."""
        encoder, step_model = self.inference_models(model, vocabs)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def source_ids(strings):
            ids = self.ids("source", vocabs, strings).to_tensor()
            # At least one (padding) step: a batch of empty sources reads as
            # an empty row beside longer ones does, where the recurrent
            # layers would refuse zero steps.
            return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])

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

        return source_ids, encode_fn, step

    def generator(self, model, vocabs):
        """A function `sources -> decoded token lists`, per the recipe's decoding."""
        source_ids, encode_fn, step = self.decoding_functions(model, vocabs)
        dec = self.recipe["decoding"]

        def generate(sources, batch_size=256, seed=None, progress=None):
            """Decoded target tokens per source, `batch_size` sources a batch.

            Sources of similar length are batched together (less padding,
            beams that end at about the same step), except when sampling,
            whose seeded draws follow the rows; the results come back in the
            sources' order. `progress(n)` is told of every n decoded.
            """
            order = list(range(len(sources)))
            if dec["strategy"] != "sample":
                order.sort(key=lambda i: len(sources[i]))
            results = [None] * len(sources)
            for start in range(0, len(order), batch_size):
                index = order[start : start + batch_size]
                ids = source_ids(tf.constant([sources[i] for i in index], tf.string))
                states = [s.numpy() for s in tf.nest.flatten(encode_fn(ids))]
                rows = decoding.decode(step, states, [BOS_ID] * len(index), EOS_ID, dec, seed)
                for i, row in zip(index, rows):
                    results[i] = vocabs["target"].decode(row)
                if progress:
                    progress(len(index))
            return results

        return generate

    # Evaluation -------------------------------------------------------------

    def evaluate(self, model, vocabs, examples):
        """Error rates, BLEU and the <unk> rate against every reference (`sequence_scores`).

        Examples sharing a source (a word's pronunciations, a sentence's
        translations) are scored once, against all their targets.
        """
        sources, references = grouped_references(examples)
        generate = self.generator(model, vocabs)
        with progress_bar(len(sources), "Decoding", self.recipe["training"]["verbose"]) as bar:
            hyps = generate(sources, progress=bar.update)
        return sequence_scores(self.tokenizers["target"], hyps, references)

    def held_out(self, examples, vocabs):
        """(distinct sources, the list of every reference of each), as `evaluate` scores them."""
        return grouped_references(examples)

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
        """Greedy output's token error rate, each against every reference of its source."""
        rows, first, _, eos = self.prompts(runner.vocabs, texts)
        ids = decoding.decode(runner.step, runner.encode(rows), first, eos,
                              dict(self.recipe["decoding"], strategy="greedy"))
        hyps = [runner.vocabs["target"].decode(row) for row in ids]
        split = self.tokenizers["target"].split_py
        return metrics.error_rates(hyps, [split(refs) for refs in references])["token_error_rate"]

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


def grouped_references(examples):
    """(distinct sources in first-seen order, the list of every target text of each)."""
    refs = collections.OrderedDict()
    for ex in examples:
        refs.setdefault(as_text(ex.source), []).append(as_text(ex.target))
    return list(refs), list(refs.values())


def detokenize(tokenizer, tokens):
    """Output tokens -> text as the target tokenizer's input would have it."""
    if tokenizer.kind in ("char", "subword"):
        return tokenizer.join(tokens)
    if tokenizer.kind == "script":
        return metrics.detokenize(tokens)
    return " ".join(tokens)


def sequence_scores(tokenizer, hyps, references):
    """Scores of output token lists against the original reference texts.

    Token and sequence error rates compare tokens with the references as the
    target tokenizer splits them (the closest reference counts). BLEU is
    sacreBLEU's on the detokenized output against the references as read,
    cased (the standard figure). When the target tokenizer lower-cases, the
    output cannot match the references' capitals, so `bleu_lc` (with
    `bleu_lc_signature`, `case:lc`) also gives the case-insensitive score.
    `unk_rate` is the share of output tokens that are <unk>, which stay in
    the output and count as errors.
    """
    flat_refs = tokenizer.split_py([r for refs in references for r in refs])
    ref_tokens, start = [], 0
    for refs in references:
        ref_tokens.append(flat_refs[start : start + len(refs)])
        start += len(refs)
    result = metrics.error_rates(hyps, ref_tokens)
    texts = [detokenize(tokenizer, h) for h in hyps]
    result["bleu"], result["bleu_signature"] = metrics.bleu(texts, references)
    if tokenizer.lowercase:
        result["bleu_lc"], result["bleu_lc_signature"] = metrics.bleu(texts, references, lowercase=True)
    result["unk_rate"] = metrics.unk_rate(hyps)
    result["examples"] = len(hyps)
    return result
