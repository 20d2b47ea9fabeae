"""WordPiece subwords: a vocabulary learned from the training words, applied in-graph.

The vocabulary is learned with tensorflow-text's WordPiece learner from word
counts (so it can be counted in one streaming pass over the data) and is the
side's `Vocabulary`: the specials first, then single characters, then longer
pieces; pieces that continue a word start with `##`. Saved in the run, it is
all that is needed to rebuild the tokenizer, in training and in an export.

Example:

>>> import collections
>>> counts = collections.Counter("the cat sat on the mat with the hat".split())
>>> vocabulary = learn(counts, vocab_size=40)
>>> table = wordpiece(vocabulary)
>>> table.tokenize([["that"]]).to_list()  # doctest: +SKIP
[[[b'th', b'##at']]]
"""

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

from kerasrnn.data.vocab import SPECIALS, UNK, Vocabulary

JOINER = "##"
DEFAULT_SIZE = 8000
# Longer words are never split into known pieces: they read as <unk>.
MAX_WORD_BYTES = 100


def learn(word_counts, vocab_size=DEFAULT_SIZE, min_freq=1):
    """Learns a WordPiece vocabulary of about `vocab_size` tokens.

    Args:
        word_counts: a mapping word -> count (a `collections.Counter`).
        vocab_size: the target size, specials included. Every character of
            the words is kept (alone and as `##` continuation), so a very
            small target is exceeded rather than leave words unspellable.
        min_freq: the least count a piece needs to be kept.

    Returns:
        A `Vocabulary` with the four specials first.
    """
    counts = [(word, n) for word, n in word_counts.items() if word and word not in SPECIALS]
    if not counts:
        return Vocabulary(SPECIALS)
    tokens = learner.learn(
        counts,
        vocab_size,
        list(SPECIALS),
        lower_thresh=min_freq,
        include_joiner_token=True,
        joiner=JOINER,
    )
    return Vocabulary(tokens, specials=len(SPECIALS))


def wordpiece(vocabulary):
    """The in-graph tokenizer of a learned vocabulary: words -> string pieces.

    A word it cannot spell from the vocabulary's pieces becomes `<unk>`. The
    specials other than `<unk>` are left out, so text that happens to read
    `<pad>` is not mistaken for padding.
    """
    pieces = [UNK] + vocabulary.tokens[vocabulary.specials :]
    # Made outside any function being traced, so every graph can capture it.
    with tf.init_scope():
        return tf_text.FastWordpieceTokenizer(
            pieces,
            suffix_indicator=JOINER,
            max_bytes_per_word=MAX_WORD_BYTES,
            token_out_type=tf.string,
            unknown_token=UNK,
            no_pretokenization=True,
        )
