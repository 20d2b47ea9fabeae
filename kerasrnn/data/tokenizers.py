"""Tokenizers that run inside the TensorFlow graph (tensorflow-text).

Because tokenization is a graph op, the same code prepares training batches
and serves raw strings in an exported SavedModel.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from kerasrnn.data import subword
from kerasrnn.data.examples import FACTOR_SEPARATOR

KINDS = ("char", "word", "script", "subword", "pretokenized", "label", "vector")

# White space beyond ASCII: separators (Zs, Zl, Zp) and U+0085 (next line).
_WIDE_SPACE = r"[\p{Z}\x{85}]"


def _ascii_spaces(strings):
    # tensorflow-text's tokenizers leave the first bytes of a multi-byte space
    # on the word before it ("a\u00a0b" -> "a\xc2", "b"); plain spaces are safe.
    return tf.strings.regex_replace(strings, _WIDE_SPACE, " ")


class Tokenizer:
    """Splits strings into string tokens.

    Args:
        kind: `char` (Unicode code points), `word` (split on white space),
            `script` (split where the Unicode script changes, so punctuation
            stands apart), `pretokenized` (space-separated tokens kept as
            they are), `label` (the whole string is one token), or `subword`
            (words split into WordPiece pieces of a learned vocabulary, see
            `kerasrnn.data.subword` and `attach`).
        lowercase: fold case (Unicode-aware) first.
        normalize: apply NFKC normalization first.
        max_length: keep at most this many tokens.
        factors: features joined to each word by `FACTOR_SEPARATOR`
            (`word` and `pretokenized` only): tokens are the words alone,
            and `factor_values` gives the features.
    """

    def __init__(self, kind="char", lowercase=False, normalize=False, max_length=None,
                 factors=0):
        if kind not in KINDS:
            raise ValueError(f"Tokenizer kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.lowercase = lowercase
        self.normalize = normalize
        self.max_length = max_length
        self.factors = factors
        self.vocabulary = None
        self.wordpiece = None
        self._graphs = {}

    @classmethod
    def from_section(cls, section):
        """From a recipe's `data -> source` or `data -> target` section."""
        return cls(
            section["tokenizer"],
            lowercase=section["lowercase"],
            normalize=section["normalize"],
            max_length=section["max_length"],
            factors=section.get("factors", 0),
        )

    def _prepare(self, strings):
        if self.normalize:
            strings = tf_text.normalize_utf8(strings, "NFKC")
        if self.lowercase:
            strings = tf_text.case_fold_utf8(strings)
        return strings

    def attach(self, vocabulary):
        """Gives a subword tokenizer its learned WordPiece `Vocabulary`.

        Other kinds ignore it. Attaching the same vocabulary again does nothing.
        """
        if self.kind != "subword" or vocabulary is self.vocabulary:
            return self
        self.vocabulary = vocabulary
        self.wordpiece = subword.wordpiece(vocabulary)
        self._graphs.pop("split", None)
        return self

    def words(self, strings):
        """A 1-D string tensor -> ragged words: the text between white space.

        White space is Unicode's White_Space property (ICU), which leaves out
        the information separators U+001C..U+001F that Python's `str.split`
        also splits on.
        """
        strings = tf.convert_to_tensor(strings, tf.string)
        if not self.factors:
            return tf_text.WhitespaceTokenizer().tokenize(_ascii_spaces(self._prepare(strings)))
        # Case folding maps the factor separator (U+FFE8) to U+2502, so the
        # features come off before the word is prepared.
        words = self._parts(tf_text.WhitespaceTokenizer().tokenize(_ascii_spaces(strings)))[0]
        return words.with_flat_values(self._prepare(words.flat_values))

    def _parts(self, words):
        """Ragged `word<sep>f1<sep>f2` tokens -> [words, f1, f2, ...]; a missing part is ""."""
        parts = tf.strings.split(words.flat_values, FACTOR_SEPARATOR).to_tensor("")
        parts = tf.pad(parts, [[0, 0], [0, tf.maximum(0, self.factors + 1 - tf.shape(parts)[1])]])
        return [words.with_flat_values(parts[:, k]) for k in range(self.factors + 1)]

    def factor_values(self, strings, truncate=True):
        """A 1-D string tensor -> one ragged tensor per factor, aligned with `tokenize`."""
        strings = _ascii_spaces(tf.convert_to_tensor(strings, tf.string))
        factors = self._parts(tf_text.WhitespaceTokenizer().tokenize(strings))[1:]
        if truncate and self.max_length:
            factors = [f[:, : self.max_length] for f in factors]
        return factors

    def split(self, strings):
        """A 1-D string tensor -> a ragged [batch, None] tensor of tokens."""
        if self.kind in ("word", "pretokenized"):
            return self.words(strings)
        if self.kind == "subword":
            if self.wordpiece is None:
                raise ValueError("The subword tokenizer has no vocabulary yet: call attach(vocabulary).")
            return self.wordpiece.tokenize(self.words(strings)).merge_dims(-2, -1)
        strings = self._prepare(tf.convert_to_tensor(strings, tf.string))
        if self.kind == "char":
            return tf.strings.unicode_split(strings, "UTF-8", errors="replace")
        if self.kind == "script":
            return tf_text.UnicodeScriptTokenizer().tokenize(_ascii_spaces(strings))
        if self.kind == "vector":
            # Commas, white space, or the separator of several columns read as one.
            spaced = tf.strings.regex_replace(strings, rf"[,\s{FACTOR_SEPARATOR}]+", " ")
            return tf.strings.split(tf.strings.strip(spaced))
        return tf.RaggedTensor.from_tensor(tf.expand_dims(strings, -1))

    def tokenize(self, strings):
        """Like `split`, truncated to `max_length`."""
        tokens = self.split(strings)
        if self.max_length:
            tokens = tokens[:, : self.max_length]
        return tokens

    def split_py(self, texts, batch_size=4096):
        """Python strings -> lists of Python string tokens (untruncated)."""
        return self._run_py("split", texts, batch_size)

    def words_py(self, texts, batch_size=4096):
        """Python strings -> lists of their (prepared) words, as `words` splits them."""
        return self._run_py("words", texts, batch_size)

    def _run_py(self, name, texts, batch_size):
        if name not in self._graphs:
            # Eager ragged ops cost milliseconds each; one traced graph does not.
            self._graphs[name] = tf.function(
                getattr(self, name), input_signature=[tf.TensorSpec([None], tf.string)]
            )
        out = []
        for start in range(0, len(texts), batch_size):
            ragged = self._graphs[name](tf.constant(texts[start : start + batch_size], tf.string))
            out.extend(
                [t.decode("utf-8", "replace") for t in row] for row in ragged.to_list()
            )
        return out

    def join(self, tokens):
        """Tokens -> display text: characters concatenated, others space-joined."""
        if self.kind == "char":
            return "".join(tokens)
        if self.kind == "subword":
            text = " ".join(tokens)
            return text.replace(" ##", "")
        return " ".join(tokens)
