"""How a language model (and the one_to_many generator built on it) is served and exported.

An export carries two signatures: `encode` reads `<bos> prompt` without its
last token from zero states (an empty prompt starts from zero states), and
`step` reads one token. Decoding then steps from the prompt's last token,
`<bos>` for an empty prompt (`<eos>` in a stream model). A one_to_many
model's `encode` reads the condition's id instead.
"""

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import decoding
from kerasrnn.builders.graph import flat, greedy_graph, ids_to_text, state_sizes, text_signature
from kerasrnn.data.vocab import EOS_ID, UNK_ID


def score_row(text, log_probs, unk=0):
    """A text's score row: log-probability (natural log), tokens, mean per token, perplexity.

    `unk` counts the text's tokens read as `<unk>`: each of them was scored
    as "some rare token", so a text that is mostly `<unk>` looks likelier
    than its words are.
    """
    total = float(np.sum(log_probs))
    return {"text": text, "log_prob": total, "tokens": len(log_probs),
            "mean_log_prob": total / len(log_probs), "perplexity": float(np.exp(-total / len(log_probs))),
            "unk": int(unk)}


def unk_count(ids):
    """How many of a text's token ids are `<unk>`."""
    return sum(1 for i in ids if i == UNK_ID)


class LanguageModelServing:
    """The serving half of `LanguageModel`: export models, prompts, scoring through a runner."""

    EXPORT = "generate"
    METRIC = "perplexity"
    # The token rows `encode` reads have any length.
    ENCODE_LENGTH = None

    def export_models(self, model, vocabs):
        return self.inference_models(model, vocabs)

    def first_states(self, models, tokens, call):
        """The states after reading token rows from zero states."""
        reader, step = models
        rows = tokens.shape[0] if tokens.shape[0] is not None else tf.shape(tokens)[0]
        zeros = [tf.zeros([rows, n]) for n in state_sizes(step)]
        return flat(call(self._states_reader(reader), [tokens, *zeros]))

    def _states_reader(self, reader):
        """The reader without its logits (a loop then carries no output sequence), made once."""
        held = self.__dict__.get("_states_view")
        if not held or held[0] is not reader:
            held = self._states_view = (reader, keras.Model(reader.inputs, reader.outputs[1:],
                                                            name=f"{reader.name}_states"))
        return held[1]

    def prompts(self, vocabs, texts):
        """(rows to encode, None for zero states; first tokens; ids shown before the output; stop token)."""
        prompts = self.token_ids(vocabs, list(texts))
        fed = [[self.start_id] + p for p in prompts]
        return [f[:-1] or None for f in fed], [f[-1] for f in fed], prompts, self.stop_id

    @property
    def stop_id(self):
        """The token that ends generation.

        `<eos>`, which ends a sentence, and in a stream of words a line; a
        stream of characters (or subwords) generates lines to `max_length`.
        """
        return -1 if self.stream and not self.by_words else EOS_ID

    @property
    def by_words(self):
        """Whether the model reads words, each line one sentence."""
        return self.tokenizers[self.OUTPUT].kind in ("word", "script", "pretokenized")

    def runner_log_probs(self, runner, texts, conditions=None):
        """Per-token log-probabilities of `text <eos>` (given each condition), by stepping."""
        targets = self.token_ids(runner.vocabs, list(texts))
        states = runner.encode(self.condition_rows(runner.vocabs, conditions, len(targets)))
        labels = [t + [EOS_ID] for t in targets]
        tokens = np.full(len(labels), self.start_id, np.int32)
        out = [[] for _ in labels]
        for t in range(max(map(len, labels), default=0)):
            logits, states = runner.step(tokens, states)
            logp = decoding.log_softmax(logits)
            for i, row in enumerate(labels):
                if t < len(row):
                    out[i].append(float(logp[i, row[t]]))
            tokens = np.asarray([row[t] if t < len(row) else 0 for row in labels], np.int32)
        return out

    def condition_rows(self, vocabs, conditions, n):
        """What `encode` reads before scoring: nothing (zero states) for a plain language model."""
        return [None] * n

    def runner_metric(self, runner, texts, references):
        logps = self.runner_log_probs(runner, texts)
        return float(np.exp(-sum(map(sum, logps)) / sum(map(len, logps))))

    def runner_predict(self, runner, texts):
        outputs = runner.generate(texts, strategy="greedy")
        scores = self.runner_score(runner, texts)
        return [{"input": text, "output": output, **{k: v for k, v in row.items() if k != "text"}}
                for text, output, row in zip(texts, outputs, scores)]

    def runner_score(self, runner, texts, condition=None):
        """`score` rows computed through an export's runner."""
        conditions = None if condition is None else [condition] * len(texts)
        unks = map(unk_count, self.token_ids(runner.vocabs, list(texts)))
        logps = self.runner_log_probs(runner, texts, conditions)
        return [score_row(t, logp, unk) for t, logp, unk in zip(texts, logps, unks)]

    def _prompt_ids_graph(self, vocabs, text):
        """One prompt -> its ids (1-D); a stream model joins its lines with <eos>."""
        if not self.stream:
            return self.ids(self.OUTPUT, vocabs, text[None]).flat_values
        lines = self.ids(self.OUTPUT, vocabs, tf.strings.split(text, "\n"))
        ends = tf.RaggedTensor.from_tensor(tf.fill([lines.nrows(), 1], EOS_ID))
        return tf.concat([lines, ends], axis=1).flat_values[:-1]

    def serve_function(self, models, vocabs):
        """Raw prompts -> each prompt with its greedy continuation."""
        reader, step = models
        sizes = state_sizes(step)
        max_length = self.recipe["decoding"]["max_length"]

        def one(text):
            ids = self._prompt_ids_graph(vocabs, text)
            fed = tf.concat([[self.start_id], ids], 0)[None]
            out = flat(reader([fed, *[tf.zeros([1, n]) for n in sizes]], training=False))
            logits = tf.cast(out[0][:, -1], tf.float32)
            generated = greedy_graph(step, out[1:], logits, self.stop_id, max_length)
            whole = tf.concat([ids[None], generated], 1)
            return ids_to_text(whole, vocabs[self.OUTPUT], self.tokenizers[self.OUTPUT], self.stream)[0]

        @tf.function(input_signature=text_signature("prompt"))
        def serve(prompt):
            # Prompts differ in length and the reader has no mask: one at a time.
            return {"output": tf.map_fn(one, prompt, fn_output_signature=tf.string)}

        return serve
