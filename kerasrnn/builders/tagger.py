"""Aligned tagging (many_to_many): one tag per token (chunking, POS, BIO NER).

Tokens are embedded (padding masked), optionally joined by embeddings of
their spelling and of their features (`data.source.factors`: a POS tag
joined to each word by U+FFE8, say), run through the recipe's
(bi)directional recurrent stack, and a dense layer scores every tag at
every step: a softmax per token, or with `model.crf` a linear-chain CRF
over the whole sequence (`kerasrnn.layers.CRF`, decoded by Viterbi). The
tag vocabulary keeps <pad> at id 0; padded steps, and tags the training
data never had, are kept out of the loss and the metrics, and <pad> is
never predicted. Evaluation tags whole sentences, never truncated, and
scores them by conlleval's rules.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from kerasrnn import metrics
from kerasrnn.builders.base import Builder, as_text
from kerasrnn.builders.classifier import batched_outputs, dense, dropout, recurrent_stack, word_dropout
from kerasrnn.builders.graph import text_signature
from kerasrnn.config import RecipeError
from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import FACTOR_SEPARATOR
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.data.vocab import Vocabulary, count_tokens
from kerasrnn.layers import CharCNN
from kerasrnn.layers.crf import CRF, CRFLoss, ViterbiAccuracy, crf_marginals, viterbi_decode

# Spelling classes: 0 <pad>, lower case, Title case, UPPER case, mIxEd case,
# contains a digit, no letter at all (punctuation, symbols).
SHAPES = 7
SHAPE_DIM = 8
SUFFIX = 3
FACTOR_DIM = 16
# The character encoder reads at most this many characters of a word.
MAX_CHARS = 20
# The CRF's weights, in the order export.json and `viterbi_decode` take them.
CRF_KEYS = ("transitions", "start", "end")


def spelling(tokens):
    """String tokens (any shape) -> (shape class ids, lower-cased last 3 characters)."""
    lower = tf_text.case_fold_utf8(tokens)
    upper = tf.strings.upper(tokens, encoding="utf-8")
    shape = tf.where(
        ~tf.strings.regex_full_match(tokens, r".*\pL.*"),
        6,
        tf.where(
            tf.strings.regex_full_match(tokens, r".*\pN.*"),
            5,
            tf.where(
                tokens == lower,
                1,
                tf.where(
                    tokens == upper,
                    3,
                    tf.where(tf.strings.regex_full_match(tokens, r"\p{Lu}\P{Lu}*"), 2, 4),
                ),
            ),
        ),
    )
    chars = tf.strings.unicode_split(lower, "UTF-8", errors="replace")
    suffix = tf.strings.reduce_join(chars[..., -SUFFIX:], axis=-1)
    return tf.cast(shape, tf.int32), suffix


def crf_weights(model):
    """(transitions, start, end) of a tagger's CRF layer as NumPy arrays, or None."""
    layer = next((found for found in model.layers if isinstance(found, CRF)), None)
    return None if layer is None else tuple(w.numpy() for w in layer.weights_tuple())


def best_tags(rows, lengths, names, crf=None):
    """Each row's tags (never <pad>, id 0) for its first `length` tokens.

    Args:
        rows: per-text `[steps, tags]` scores, steps >= length.
        lengths: tokens per text.
        names: the tag vocabulary's tokens.
        crf: the CRF's (transitions, start, end): Viterbi over the whole
            sequence; None: each token's highest-scoring tag.
    """
    if crf is None:
        return [[names[1 + int(i)] for i in np.argmax(r[:n, 1:], axis=-1)] for r, n in zip(rows, lengths)]
    steps = max(max(lengths, default=0), 1)
    scores = np.zeros((len(rows), steps, len(names)), np.float32)
    for i, (r, n) in enumerate(zip(rows, lengths)):
        scores[i, :n] = r[:n]
    scores[..., 0] = -1e9
    ids = viterbi_decode(scores, np.maximum(lengths, 1), *crf).numpy() if len(rows) else []
    return [[names[int(i)] for i in row[:n]] for row, n in zip(ids, lengths)]


def characters(tokens):
    """String tokens (any shape) -> each token's first MAX_CHARS characters, as it is written."""
    return tf.strings.unicode_split(tokens, "UTF-8", errors="replace")[..., :MAX_CHARS]


def _ragged(fn, tokens):
    """Applies a function of flat string tokens to a ragged tensor's values."""
    return [tokens.with_flat_values(v) for v in fn(tokens.flat_values)]


class Tagger(Builder):
    """Builder for `type: many_to_many`."""

    # An ensemble averages the members' logits, and their CRF weights with a CRF.
    ENSEMBLE = "mean"

    def __init__(self, recipe):
        super().__init__(recipe)
        section = recipe["data"]["source"]
        self.spelled = recipe["model"]["spelling_features"]
        self.char_cnn = recipe["model"]["char_cnn"]
        for key in ("spelling_features", "char_cnn"):
            if recipe["model"][key] and section["tokenizer"] not in ("word", "pretokenized", "script"):
                raise RecipeError(
                    [
                        f"model -> {key}: needs word tokens (tokenizer word, "
                        f"pretokenized or script), not {section['tokenizer']!r}"
                    ]
                )
        # The spelling is read before any lower-casing of the source.
        self.raw = Tokenizer(
            section["tokenizer"], normalize=section["normalize"], max_length=section["max_length"],
            factors=section["factors"],
        )
        self.factors = section["factors"]

    def specials(self, side):
        return 1 if side == "target" else super().specials(side)

    # Vocabularies -----------------------------------------------------------

    def fit_vocabs(self, examples, echo=print):
        vocabs = super().fit_vocabs(examples, echo=echo)
        suffixes, chars = [], []
        texts = [as_text(ex.source) for ex in examples] if self.spelled or self.char_cnn else []
        for start in range(0, len(texts), 4096):
            tokens = self.raw.split(tf.constant(texts[start : start + 4096], tf.string)).flat_values
            if self.spelled:
                suffixes.append([s.decode("utf-8") for s in spelling(tokens)[1].numpy()])
            if self.char_cnn:
                chars.append([c.decode("utf-8") for c in characters(tokens).flat_values.numpy()])
        if self.spelled:
            vocabs["suffix"] = Vocabulary.build(count_tokens(suffixes), min_freq=2)
        if self.char_cnn:
            # Characters seen once train <unk> too.
            vocabs["char"] = Vocabulary.build(count_tokens(chars), min_freq=2)
        tokens = [t.split(FACTOR_SEPARATOR) for text in self._check_factors(examples)
                  for t in text.split()] if self.factors else []
        for k in range(self.factors):
            values = [parts[k + 1] for parts in tokens]
            vocabs[f"factor_{k + 1}"] = Vocabulary.build(count_tokens([values]))
        return vocabs

    # Data -------------------------------------------------------------------

    def inputs(self, vocabs, strings, truncate=True):
        """A 1-D string tensor -> the model's inputs as ragged ids, row per string."""
        cut = (lambda t: t.tokenize(strings)) if truncate else (lambda t: t.split(strings))
        inputs = {"source": vocabs["source"].lookup(cut(self.tokenizers["source"]))}
        # Spelling and characters are read as written, before any lower-casing.
        raw = cut(self.raw) if self.spelled or self.char_cnn else None
        if self.spelled:
            shape, suffix = _ragged(spelling, raw)
            inputs["shape"] = shape
            inputs["suffix"] = vocabs["suffix"].lookup(suffix)
        if self.char_cnn:
            inputs["chars"] = raw.with_flat_values(vocabs["char"].lookup(characters(raw.flat_values)))
        for k, values in enumerate(self.raw.factor_values(strings, truncate), 1):
            inputs[f"factor_{k}"] = vocabs[f"factor_{k}"].lookup(values)
        return inputs

    def encode(self, vocabs, strings):
        # One sentence: ids per token, and a [tokens, characters] block for the characters.
        inputs = {k: v[0].to_tensor() if k == "chars" else v[0]
                  for k, v in self.inputs(vocabs, strings["source"][None]).items()}
        steps = tf.shape(inputs["source"])[0]
        tags = self.ids("target", vocabs, strings["target"][None])[0][:steps]
        # Unknown tags (-1) go to <pad> with weight 0, like padding.
        return inputs, tf.maximum(tags, 0), tf.cast(tags > 0, tf.float32)

    def _check_factors(self, examples):
        """The examples' source texts, each token checked to carry `factors` features."""
        texts = [as_text(ex.source) for ex in examples]
        for i, text in enumerate(texts):
            bad = [w for w in text.split() if w.count(FACTOR_SEPARATOR) != self.factors]
            if bad:
                raise DataError(
                    f"example {i + 1}: token {bad[0]!r} has {bad[0].count(FACTOR_SEPARATOR) + 1} "
                    f"part(s) but data.source.factors: {self.factors} needs the word and "
                    f"{self.factors} feature(s), joined by U+FFE8"
                )
        return texts

    def gold(self, examples):
        """Each example's source tokens and tags, checked to align one to one."""
        texts = self._check_factors(examples)
        sources = self.tokenizers["source"].split_py(texts)
        tags = self.tokenizers["target"].split_py([as_text(ex.target) for ex in examples])
        for i, (s, t) in enumerate(zip(sources, tags)):
            if len(s) != len(t):
                raise DataError(
                    f"example {i + 1} ({' '.join(s[:6])}...): {len(s)} tokens but "
                    f"{len(t)} tags; a tagger needs one tag per token"
                )
        return sources, tags

    def dataset(self, examples, vocabs, training=False, batch_size=None):
        self.gold(examples)
        return super().dataset(examples, vocabs, training, batch_size)

    # Model ------------------------------------------------------------------

    def build(self, vocabs):
        m = self.recipe["model"]
        inputs = {"source": keras.Input((None,), dtype="int32", name="source")}
        words = word_dropout(self, inputs["source"])
        x = self.embed("source", words, len(vocabs["source"]), "source_embedding", mask_zero=True)
        if self.spelled:
            inputs["shape"] = keras.Input((None,), dtype="int32", name="shape")
            inputs["suffix"] = keras.Input((None,), dtype="int32", name="suffix")
            shape = keras.layers.Embedding(
                SHAPES, SHAPE_DIM, mask_zero=True, name="shape_embedding"
            )(inputs["shape"])
            suffix = keras.layers.Embedding(
                len(vocabs["suffix"]), max(8, m["embedding_dim"] // 2), mask_zero=True,
                name="suffix_embedding",
            )(inputs["suffix"])
            x = keras.layers.Concatenate(name="token_features")([x, shape, suffix])
        if self.char_cnn:
            inputs["chars"] = keras.Input((None, None), dtype="int32", name="chars")
            spelled = CharCNN(len(vocabs["char"]), self.char_cnn, name="char_cnn")(inputs["chars"])
            x = keras.layers.Concatenate(name="char_features")([x, spelled])
        features = []
        for k in range(1, self.factors + 1):
            name = f"factor_{k}"
            inputs[name] = keras.Input((None,), dtype="int32", name=name)
            features.append(keras.layers.Embedding(
                len(vocabs[name]), FACTOR_DIM, mask_zero=True, name=f"{name}_embedding"
            )(inputs[name]))
        if features:
            x = keras.layers.Concatenate(name="factor_features")([x, *features])
        x = dropout(self, x, "embedding_dropout")
        x = recurrent_stack(self, x)
        logits = keras.layers.Dense(len(vocabs["target"]), name="tags")(x)
        if m["crf"]:
            self.crf = CRF(name="crf")
            logits = self.crf(logits)
        return keras.Model(inputs, logits, name="tagger")

    def loss(self):
        return CRFLoss(self.crf) if self.recipe["model"]["crf"] else super().loss()

    def metrics(self):
        return [ViterbiAccuracy(self.crf)] if self.recipe["model"]["crf"] else super().metrics()

    # Inference --------------------------------------------------------------

    def tag(self, model, vocabs, texts):
        """The best tag (never <pad>) for every token of each text."""
        def make(chunk):
            ragged = self.inputs(vocabs, tf.constant(chunk, tf.string), truncate=False)
            return {k: dense(v) for k, v in ragged.items()}

        tokens = self.tokenizers["source"].split_py(texts)
        lengths = [len(t) for t in tokens]
        rows = batched_outputs(model, make, texts, lengths)
        return tokens, best_tags(rows, lengths, vocabs["target"].tokens, crf_weights(model))

    def evaluate(self, model, vocabs, examples):
        """Chunk tags (BIO, IOB, IOBES): conlleval's token accuracy and chunk P, R and F1.

        Other tags (parts of speech, say) get token accuracy and per-tag and
        macro F1 instead: conlleval would read each of them as a one-token
        chunk. `scheme` says which. Gold tags that training never saw count
        as errors; `unseen_labels` says how many tokens had one.
        """
        _, gold = self.gold(examples)
        _, predicted = self.tag(model, vocabs, [as_text(ex.source) for ex in examples])
        if metrics.is_chunk_tagging([vocabs["target"].tokens[1:], *gold]):
            result = {"scheme": "chunks", **metrics.chunk_scores(gold, predicted)}
        else:
            result = {"scheme": "tags", **metrics.tagging_scores(gold, predicted)}
        known = vocabs["target"]
        result["unseen_labels"] = sum(t not in known for tags in gold for t in tags)
        result["sentences"] = len(examples)
        return result

    def predict(self, model, vocabs, texts):
        """A tag per token; `output` is the tags, space-separated."""
        return _rows(texts, *self.tag(model, vocabs, texts))

    # Serving ----------------------------------------------------------------

    def export_meta(self, model):
        crf = crf_weights(model)
        if crf is None:
            return {}
        # A CRF tagger's tags are the Viterbi path over the logits and these scores.
        return {"crf": {k: w.tolist() for k, w in zip(CRF_KEYS, crf)}}

    def serving_inputs(self, vocabs, texts):
        """Texts -> the model's inputs as ragged ids, whole sentences (an export's `logits`)."""
        return self.inputs(vocabs, tf.constant(texts, tf.string), truncate=False)

    def _runner_tags(self, runner, texts):
        tokens = self.tokenizers["source"].split_py(texts)
        crf = runner.meta.get("crf")
        crf = crf and tuple(np.asarray(crf[k], np.float32) for k in CRF_KEYS)
        names = runner.vocabs["target"].tokens
        return tokens, best_tags(runner.logits(texts), [len(t) for t in tokens], names, crf)

    def runner_predict(self, runner, texts):
        return _rows(texts, *self._runner_tags(runner, texts))

    def runner_metric(self, runner, texts, references):
        gold = self.tokenizers["target"].split_py(references)
        _, tags = self._runner_tags(runner, texts)
        return float(np.mean([p == g for row, want in zip(tags, gold) for p, g in zip(row, want)]))

    def serve_function(self, models, vocabs):
        """Raw strings -> tokens, a tag per token and each tag's probability.

        A CRF tagger gives the Viterbi path and the CRF's marginals.
        """
        (model,) = models
        crf = crf_weights(model)

        @tf.function(input_signature=text_signature())
        def serve(text):
            ragged = self.inputs(vocabs, text, truncate=False)
            logits = tf.cast(model({k: v.to_tensor() for k, v in ragged.items()}, training=False), tf.float32)
            lengths = ragged["source"].row_lengths()
            if crf is None:
                probs = tf.nn.softmax(logits[..., 1:])
                best = tf.argmax(probs, -1)
            else:
                never_pad = logits - 1e9 * tf.one_hot(0, tf.shape(logits)[-1])
                probs = crf_marginals(never_pad, lengths, *crf)[..., 1:]
                best = viterbi_decode(never_pad, lengths, *crf) - 1
            tags = tf.gather(tf.constant(vocabs["target"].tokens[1:]), best)
            words = self.tokenizers["source"].split(text).to_tensor("")
            mask = tf.sequence_mask(lengths, tf.shape(tags)[1])
            return {"tokens": words[:, : tf.shape(tags)[1]], "tags": tf.where(mask, tags, ""),
                    "length": tf.cast(lengths, tf.int32), "probabilities": probs}

        return serve


def _rows(texts, tokens, tags):
    return [
        {"input": text, "output": " ".join(t), "tokens": w, "tags": t}
        for text, w, t in zip(texts, tokens, tags)
    ]
