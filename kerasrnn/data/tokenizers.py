"""Tokenizers that run inside the TensorFlow graph (tensorflow-text).

Because tokenization is a graph op, the same code prepares training batches
and serves raw strings in an exported SavedModel.
"""

import tensorflow as tf
import tensorflow_text as tf_text

KINDS = ("char", "word", "script", "subword", "pretokenized", "label")


class Tokenizer:
    """Splits strings into string tokens.

    Args:
        kind: `char` (Unicode code points), `word` (split on white space),
            `script` (split where the Unicode script changes, so punctuation
            stands apart), `pretokenized` (space-separated tokens kept as
            they are), `label` (the whole string is one token), or `subword`
            (WordPiece over a learned vocabulary, see `kerasrnn.data.subword`).
        lowercase: fold case (Unicode-aware) first.
        normalize: apply NFKC normalization first.
        max_length: keep at most this many tokens.
    """

    def __init__(self, kind="char", lowercase=False, normalize=False, max_length=None):
        if kind not in KINDS:
            raise ValueError(f"Tokenizer kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.lowercase = lowercase
        self.normalize = normalize
        self.max_length = max_length
        self.wordpiece = None

    @classmethod
    def from_section(cls, section):
        """From a recipe's `data -> source` or `data -> target` section."""
        return cls(
            section["tokenizer"],
            lowercase=section["lowercase"],
            normalize=section["normalize"],
            max_length=section["max_length"],
        )

    def _prepare(self, strings):
        if self.normalize:
            strings = tf_text.normalize_utf8(strings, "NFKC")
        if self.lowercase:
            strings = tf_text.case_fold_utf8(strings)
        return strings

    def split(self, strings):
        """A 1-D string tensor -> a ragged [batch, None] tensor of tokens."""
        strings = self._prepare(tf.convert_to_tensor(strings, tf.string))
        if self.kind == "char":
            tokens = tf.strings.unicode_split(strings, "UTF-8", errors="replace")
        elif self.kind in ("word", "pretokenized"):
            tokens = tf_text.WhitespaceTokenizer().tokenize(strings)
        elif self.kind == "script":
            tokens = tf_text.UnicodeScriptTokenizer().tokenize(strings)
        elif self.kind == "label":
            tokens = tf.RaggedTensor.from_tensor(tf.expand_dims(strings, -1))
        else:
            if self.wordpiece is None:
                raise ValueError("The subword tokenizer has no WordPiece vocabulary yet.")
            words = tf_text.WhitespaceTokenizer().tokenize(strings)
            tokens = self.wordpiece.tokenize(words).merge_dims(-2, -1)
        return tokens

    def tokenize(self, strings):
        """Like `split`, truncated to `max_length`."""
        tokens = self.split(strings)
        if self.max_length:
            tokens = tokens[:, : self.max_length]
        return tokens

    def split_py(self, texts, batch_size=4096):
        """Python strings -> lists of Python string tokens (untruncated)."""
        out = []
        for start in range(0, len(texts), batch_size):
            ragged = self.split(tf.constant(texts[start : start + batch_size], tf.string))
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
