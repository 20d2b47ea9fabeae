"""Vocabularies: tokens <-> ids, built from counts, saved as JSON in the run."""

import collections
import json

import tensorflow as tf

from kerasrnn.fileio import write_json

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)


class Vocabulary:
    """An ordered token list; with `specials`, ids 0-3 are <pad> <unk> <bos> <eos>.

    Label vocabularies (classes, tags) have no specials unless they need padding:
    tag vocabularies keep <pad> at id 0 so padded positions can be masked.

    Args:
        tokens: the tokens, in id order, specials included.
        specials: how many leading tokens are specials (0 or 4, or 1 for <pad> only).
    """

    def __init__(self, tokens, specials=4):
        self.tokens = list(tokens)
        self.specials = specials
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("Vocabulary tokens must be unique.")
        self._table = None

    @classmethod
    def build(cls, counts, min_freq=1, max_size=None, specials=4):
        """From a `Counter` of tokens: most frequent first, ties by token."""
        head = list(SPECIALS[:specials]) if specials else []
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_freq and t not in head),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(head))]
        return cls(head + ranked, specials=specials)

    def __len__(self):
        return len(self.tokens)

    def __contains__(self, token):
        return token in self.index

    @property
    def unk_id(self):
        return UNK_ID if self.specials >= 2 else -1

    def encode(self, tokens):
        """Python tokens -> ids (unknown tokens -> <unk>, or KeyError without one)."""
        if self.unk_id < 0:
            return [self.index[t] for t in tokens]
        return [self.index.get(t, self.unk_id) for t in tokens]

    def decode(self, ids, strip=True):
        """Ids -> tokens; with `strip`, stops at <eos> and drops <pad> and <bos>.

        <unk> is kept: an output that says "unknown word" must not be shown,
        or scored, as if the word were simply left out.
        """
        out = []
        for i in ids:
            i = int(i)
            if strip and self.specials >= 4 and i == EOS_ID:
                break
            if strip and i < self.specials and i != self.unk_id:
                continue
            out.append(self.tokens[i])
        return out

    def table(self):
        """A TF lookup table string -> id for use inside graphs."""
        if self._table is None:
            # Made outside any function being traced, so every graph can use it.
            with tf.init_scope():
                init = tf.lookup.KeyValueTensorInitializer(
                    tf.constant(self.tokens, tf.string),
                    tf.range(len(self.tokens), dtype=tf.int64),
                )
                self._table = tf.lookup.StaticHashTable(init, default_value=self.unk_id)
        return self._table

    def lookup(self, tokens):
        """String tensor (dense or ragged) -> int32 ids, inside the graph."""
        table = self.table()
        if isinstance(tokens, tf.RaggedTensor):
            return tf.cast(tokens.with_flat_values(table.lookup(tokens.flat_values)), tf.int32)
        return tf.cast(table.lookup(tokens), tf.int32)

    def to_json(self):
        return {"tokens": self.tokens, "specials": self.specials}

    @classmethod
    def from_json(cls, obj):
        return cls(obj["tokens"], specials=obj["specials"])

    def save(self, path):
        """Writes the vocabulary as JSON, atomically."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_json(json.load(f))


def count_tokens(token_lists):
    """A Counter over an iterable of token lists."""
    counts = collections.Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return counts
