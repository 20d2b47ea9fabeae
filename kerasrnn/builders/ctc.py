"""Monotonic transduction with a CTC output (G2P, transliteration, spelling).

`type: seq2seq` with `model.decoder: ctc`. A deep (bi)directional recurrent
encoder reads the source and a softmax over the target vocabulary plus a
blank scores `model.upsample` steps per source token, so the output may be
longer than the input (`x` -> `K S`): the encoder's output layer gives that
many steps of scores per token (`upsample_mode: split`), or each source
embedding is repeated before the encoder (`repeat`, twice the encoder's
work). Training sums over every alignment of the target (CTC, Graves et al.
2006); decoding collapses the scores: best path (`decoding.strategy:
greedy`) or prefix beam search (`beam`, `decoding.beam_width`). Rao et al.
(2015) reached 25.8% WER on CMUdict with a deep BiLSTM of this kind and no
language model. Unlike the encoder-decoder there is no step loop: one pass
of the encoder gives the answer. Runs of one recipe can be joined into an
ensemble (`kerasrnn.ensembles`), whose scores `[batch, members, steps,
classes]` are decoded per sequence (`decoding.ctc_ensemble`).

The blank is id 0, the padding id (`kerasrnn.layers.ctc.BLANK_ID`), so the
target vocabulary is used as it is. An example whose target needs more steps
than its upsampled source has cannot be aligned: it is left out of training
and validation loss, counted and named on the console, and still scored by
`evaluate`.
"""

import itertools

import keras
import tensorflow as tf

from kerasrnn import decoding, metrics
from kerasrnn.builders.base import Builder, as_text, float32_model
from kerasrnn.builders.graph import ids_to_text, text_signature
from kerasrnn.builders.seq2seq import Seq2Seq
from kerasrnn.data import pipeline
from kerasrnn.layers.ctc import (
    BLANK_ID,
    CTCLoss,
    MaskedBlank,
    Upsample1D,
    ctc_alignable,
)

# How many left-out examples the console line names.
NAMED = 3


def repeats(tokens):
    """How many tokens equal the one before them (each needs a blank between)."""
    return sum(a == b for a, b in itertools.pairwise(tokens))


class CTC(Builder):
    """Builder for `type: seq2seq` with `model.decoder: ctc`."""

    echo = staticmethod(print)

    def fit_vocabs(self, examples, echo=print):
        self.echo = echo
        return super().fit_vocabs(examples, echo)

    # Data -------------------------------------------------------------------

    def encode(self, vocabs, strings):
        source = self.ids("source", vocabs, strings["source"][None])[0]
        target = self.ids("target", vocabs, strings["target"][None])[0]
        # One weight per sequence: the loss is one number per sequence.
        return {"source": source}, target, tf.constant(1.0)

    def encode_batch(self, vocabs, strings):
        """`encode` over a batch of examples: one ragged row (one weight) each."""
        source = self.ids("source", vocabs, strings["source"])
        target = self.ids("target", vocabs, strings["target"])
        return {"source": source}, target, tf.ones(tf.shape(strings["source"]), tf.float32)

    def unalignable(self, examples):
        """The examples whose target does not fit the upsampled source.

        Lengths are counted as the model reads them: in tokens, each side cut
        to its `max_length`.
        """
        factor = self.recipe["model"]["upsample"]
        cuts = {side: self.tokenizers[side].max_length for side in self.SIDES}
        out = []
        for chunk in pipeline.chunks(examples):
            sides = {
                side: self.tokenizers[side].split_py([as_text(getattr(ex, side)) for ex in chunk])
                for side in self.SIDES
            }
            for ex, source, target in zip(chunk, sides["source"], sides["target"]):
                source = source[: cuts["source"]] if cuts["source"] else source
                target = target[: cuts["target"]] if cuts["target"] else target
                if not ctc_alignable(len(target), repeats(target), factor * len(source)):
                    out.append(ex)
        return out

    def alignable(self, examples):
        """`examples` without the unalignable ones, reported once per split."""
        memo = self.__dict__.setdefault("_alignable", {})
        held = memo.get(id(examples))
        if held and held[0] is examples:
            return held[1]
        left_out = self.unalignable(examples)
        kept = examples
        if left_out:
            self.echo(self.report(left_out, len(examples)))
            dropped = {id(ex) for ex in left_out}
            if pipeline.in_memory(examples):
                kept = [ex for ex in examples if id(ex) not in dropped]
            else:
                # A stream reads new objects on every pass: drop by content.
                keys = {(ex.source, ex.target) for ex in left_out}
                kept = examples.narrowed(
                    lambda exs: (ex for ex in exs if (ex.source, ex.target) not in keys),
                    length=len(examples) - len(left_out),
                )
        memo[id(examples)] = (examples, kept)
        return kept

    def report(self, left_out, total):
        """One console line: how many examples cannot be aligned, the first few named."""
        factor = self.recipe["model"]["upsample"]
        named = ", ".join(
            (f"{ex.origin} " if getattr(ex, "origin", None) else "")
            + f"{as_text(ex.source)!r} -> {as_text(ex.target)!r}"
            for ex in left_out[:NAMED]
        )
        more = ", ..." if len(left_out) > NAMED else ""
        return (
            f"ctc: {len(left_out):,} of {total:,} examples left out, their target longer than "
            f"model.upsample ({factor}) x the source allows (a repeat needs a blank between): "
            f"{named}{more}"
        )

    def buckets(self):
        # One bucket per source length: every step of a batch is real, and the
        # encoder's time is most of the training time (0.7x of BUCKETS' on CMUdict).
        longest = self.tokenizers["source"].max_length or 64
        return tuple(range(2, longest + 1)) + tuple(b for b in super().buckets() if b > longest)

    def dataset(self, examples, vocabs, training=False, batch_size=None):
        return super().dataset(self.alignable(examples), vocabs, training, batch_size)

    # Model ------------------------------------------------------------------

    def build(self, vocabs):
        m = self.recipe["model"]
        self.vocab_sizes = {side: len(v) for side, v in vocabs.items()}
        source = keras.Input((None,), dtype="int32", name="source")
        x = keras.layers.Embedding(
            self.vocab_sizes["source"], m["embedding_dim"], mask_zero=True, name="source_embedding"
        )(source)
        split = m["upsample_mode"] == "split"
        if not split:
            x = Upsample1D(m["upsample"], name="upsample")(x)
        x = self.recurrent_stack(
            x, "encoder", bidirectional=m["bidirectional"], cached=False,
            dropout_name="encoder_dropout_{i}", residual_name="encoder_residual_{i}",
        )
        # Class BLANK_ID (0, never a label) is the blank.
        classes = self.vocab_sizes["target"]
        logits = keras.layers.Dense(classes * m["upsample"] if split else classes, name="logits")(x)
        if split:
            logits = Upsample1D(m["upsample"], mode="split", name="upsample")(logits)
        logits = MaskedBlank(name="ctc_logits")(logits)
        return keras.Model({"source": source}, logits, name="ctc")

    def loss(self):
        return CTCLoss()

    def metrics(self):
        return []

    # Inference --------------------------------------------------------------

    def scorer(self, model, vocabs):
        """A function `sources -> [batch, steps, classes]` logits (NumPy), in float32."""
        model = float32_model(model)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        def score(strings):
            ids = self.ids("source", vocabs, strings).to_tensor()
            return model({"source": ids}, training=False)

        return lambda sources: score(tf.constant(sources, tf.string)).numpy()

    def width(self):
        """Prefixes kept per step: the beam's width, 1 for greedy decoding."""
        dec = self.recipe["decoding"]
        return dec["beam_width"] if dec["strategy"] == "beam" else 1

    def collapse(self, logits, width=None):
        """Scores -> label ids per row, by the recipe's decoding strategy.

        `[batch, members, steps, classes]` scores are an ensemble's
        (`kerasrnn.ensembles`), joined per sequence by `decoding.ctc_ensemble`.
        """
        width = self.width() if width is None else width
        if logits.ndim == 4:
            return decoding.ctc_ensemble(logits, width, blank=BLANK_ID)
        if width > 1:
            return decoding.ctc_beam_search(logits, width, blank=BLANK_ID)
        return decoding.ctc_greedy(logits, blank=BLANK_ID)

    def generator(self, model, vocabs):
        """A function `sources -> decoded token lists`, per the recipe's decoding."""
        score = self.scorer(model, vocabs)

        def generate(sources, batch_size=256, seed=None, progress=None):
            results = []
            for start in range(0, len(sources), batch_size):
                results.extend(self.collapse(score(sources[start : start + batch_size])))
                if progress:
                    progress(len(results) - start)
            return [vocabs["target"].decode(row) for row in results]

        return generate

    # Serving and export -----------------------------------------------------
    #
    # One pass of scores is the export (`EXPORT = "logits"`): the TFLite model
    # and the SavedModel's `logits` give `[batch, steps, classes]`, which the
    # runner collapses on the host like `generator`; the SavedModel's
    # `serving_default` collapses inside the graph.

    EXPORT = "logits"
    METRIC = "token_error_rate"
    # Each member's label spikes fall on its own steps: scores are not averaged.
    ENSEMBLE = "stack"

    def export_meta(self, model):
        return {"ctc": {"blank": BLANK_ID, "upsample": self.recipe["model"]["upsample"]}}

    def serving_inputs(self, vocabs, texts):
        """Texts -> `{"source": ragged ids}` (an export's `logits` signature)."""
        return {"source": self.ids("source", vocabs, tf.constant(texts, tf.string))}

    def rows(self, texts, hyps):
        join = self.tokenizers["target"].join
        return [{"input": t, "output": join(h)} for t, h in zip(texts, hyps)]

    def runner_predict(self, runner, texts):
        target = runner.vocabs["target"]
        hyps = [target.decode(self.collapse(row[None])[0]) for row in runner.logits(texts)]
        return self.rows(texts, hyps)

    def runner_metric(self, runner, texts, references):
        target = runner.vocabs["target"]
        hyps = [target.decode(self.collapse(row[None], width=1)[0]) for row in runner.logits(texts)]
        split = self.tokenizers["target"].split_py
        return metrics.error_rates(hyps, [split(refs) for refs in references])["token_error_rate"]

    def serve_function(self, models, vocabs):
        """Raw source strings -> the decoded target text and its ids, decoded in the graph.

        Greedy decoding is the collapse of `decoding.ctc_greedy` in TensorFlow
        ops (padded steps are certain blanks, so rows need no lengths); beam
        decoding is TensorFlow's CTC beam search (`keras.ops.ctc_decode`),
        which can differ from the host's prefix beam search in near ties. An
        ensemble's candidates are rescored in the graph as on the host
        (`ensemble_paths`).
        """
        (model,) = models
        width = self.width()

        @tf.function(input_signature=text_signature())
        def serve(text):
            ids = self.ids("source", vocabs, text).to_tensor()
            logits = tf.cast(model({"source": ids}, training=False), tf.float32)
            if logits.shape.rank == 4:
                out = ensemble_paths(logits, width)
            elif width > 1:
                out = beam_paths(logits, width, 1)[0]
            else:
                out = best_path(logits)
            out = out.to_tensor(default_value=0)
            return {"output": ids_to_text(out, vocabs["target"], self.tokenizers["target"]), "ids": out}

        return serve

    # Evaluation -------------------------------------------------------------

    # The encoder-decoder's, over this generator: error rates and BLEU against
    # every reference of a source (unalignable examples count too), and rows
    # {"input", "output"}.
    evaluate = Seq2Seq.evaluate
    predict = Seq2Seq.predict
    # Sources with every reference of each, as `evaluate` scores them.
    held_out = Seq2Seq.held_out


# In-graph decoding (TensorFlow ops), for the SavedModel -------------------------


def best_path(logits):
    """`[batch, steps, classes]` -> ragged best-path labels: repeats merged, blanks dropped."""
    best = tf.argmax(logits, -1, output_type=tf.int32)
    previous = tf.pad(best[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    return tf.ragged.boolean_mask(best, (best != BLANK_ID) & (best != previous))


def beam_paths(logits, width, paths):
    """The `paths` best labellings of TensorFlow's CTC beam search, each ragged `[batch, None]`."""
    steps = tf.fill([tf.shape(logits)[0]], tf.shape(logits)[1])
    decoded = keras.ops.ctc_decode(
        logits, steps, strategy="beam_search", beam_width=width, top_paths=paths,
        mask_index=BLANK_ID,
    )[0]
    return [tf.ragged.boolean_mask(decoded[i], decoded[i] > 0) for i in range(paths)]


def ensemble_paths(logits, width):
    """`decoding.ctc_ensemble` in TensorFlow ops.

    `[batch, members, steps, classes]` -> ragged labels: each member's best
    path (and `width` beam paths when `width` > 1) is scored by every
    member's CTC log-likelihood (`tf.nn.ctc_loss`), the highest sum wins.
    """
    members = [logits[:, m] for m in range(logits.shape[1])]
    candidates = []
    for scores in members:
        candidates.append(best_path(scores))
        if width > 1:
            candidates.extend(beam_paths(scores, width, width))
    count = len(candidates)
    stacked = tf.concat([tf.expand_dims(c, 1) for c in candidates], axis=1)  # [batch, count, None]
    flat = stacked.merge_dims(0, 1)
    # One spare padding column: the loss needs a label axis even if every candidate is empty.
    labels = tf.pad(flat.to_tensor(default_value=0), [[0, 0], [0, 1]])
    steps = tf.fill([tf.shape(labels)[0]], tf.shape(logits)[2])
    total = 0.0
    for scores in members:
        total -= tf.nn.ctc_loss(
            labels, tf.repeat(scores, count, axis=0), tf.cast(flat.row_lengths(), tf.int32), steps,
            logits_time_major=False, blank_index=BLANK_ID,
        )
    best = tf.argmax(tf.reshape(total, [-1, count]), axis=1, output_type=tf.int32)
    return tf.gather(stacked, best, batch_dims=1)
