"""Tokenizers on arbitrary Unicode text: no errors, and nothing lost that should be kept."""

import collections
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasrnn.data import subword
from kerasrnn.data.tokenizers import KINDS, Tokenizer

CORPUS = [
    "the cat sat on the mat",
    "a hat that fits the cat",
    "cats and hats and mats",
    "that mat is the cat's",
    "sat sitting sits",
]
WORDS = sorted({w for line in CORPUS for w in line.split()})
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPTIONS = [(False, False), (True, False), (False, True), (True, True)]

# Traced tokenizers are kept, one per (kind, lowercase, normalize).
_TOKENIZERS = {}


def tokenizer(kind, lowercase=False, normalize=False, max_length=None):
    key = (kind, lowercase, normalize, max_length)
    if key not in _TOKENIZERS:
        made = Tokenizer(kind, lowercase=lowercase, normalize=normalize, max_length=max_length)
        if kind == "subword":
            counts = collections.Counter(w for words in made.words_py(CORPUS) for w in words)
            made.attach(subword.learn(counts, vocab_size=60))
        _TOKENIZERS[key] = made
    return _TOKENIZERS[key]


def unicode_words(text):
    """Words between Unicode White_Space, which (unlike str.split) leaves out U+001C..U+001F."""
    return [w for w in re.split(r"[^\S\x1c-\x1f]+", text) if w]


texts = st.lists(st.text(max_size=30), min_size=1, max_size=4)


@settings(SETTINGS, max_examples=60)
@given(texts=texts, kind=st.sampled_from(KINDS), options=st.sampled_from([(False, False), (True, True)]))
def test_any_text_tokenizes_without_error(texts, kind, options):
    made = tokenizer(kind, *options)
    rows = made.split_py(texts)
    assert len(rows) == len(texts)
    assert all(isinstance(t, str) and t for row in rows for t in row if kind != "label")
    assert all(isinstance(made.join(row), str) for row in rows)


@SETTINGS
@given(text=st.text(max_size=40))
def test_characters_join_back_to_the_text(text):
    assert tokenizer("char").join(tokenizer("char").split_py([text])[0]) == text


@SETTINGS
@given(text=st.text(max_size=40), options=st.sampled_from(OPTIONS[1:]))
def test_characters_join_back_to_the_normalized_text(text, options):
    # The label kind keeps the whole prepared (case-folded, NFKC) text as its one token.
    prepared = tokenizer("label", *options).split_py([text])[0][0]
    assert tokenizer("char", *options).join(tokenizer("char", *options).split_py([text])[0]) == prepared


@SETTINGS
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_lowercase_folds_ascii_like_python(text):
    assert "".join(tokenizer("char", lowercase=True).split_py([text])[0]) == text.lower()


@pytest.mark.parametrize("kind", ["word", "pretokenized"])
@SETTINGS
@given(text=st.text(max_size=40))
def test_words_join_back_to_the_whitespace_normalized_text(kind, text):
    made = tokenizer(kind)
    assert made.join(made.split_py([text])[0]) == " ".join(unicode_words(text))


@SETTINGS
@given(words=st.lists(st.sampled_from(WORDS + ["thats", "mats", "sitting"]), max_size=8))
def test_subwords_round_trip_known_words(words):
    made = tokenizer("subword")
    pieces = made.split_py([" ".join(words)])[0]
    assert "<unk>" not in pieces
    assert made.join(pieces) == " ".join(words)


@SETTINGS
@given(text=st.text(max_size=60), kind=st.sampled_from(["char", "word", "subword"]))
def test_tokenize_truncates_to_max_length(text, kind):
    made = tokenizer(kind, max_length=3)
    full = made.split_py([text])[0]
    cut = [t.decode("utf-8", "replace") for t in made.tokenize([text]).to_list()[0]]
    assert cut == full[:3]


def test_subword_without_a_vocabulary_says_so():
    with pytest.raises(ValueError, match="no vocabulary yet"):
        Tokenizer("subword").split_py(["text"])


def test_lowercased_words_keep_their_factors_apart():
    # Case folding turns the factor separator U+FFE8 into U+2502; the word
    # must still come apart from its features.
    tokenizer = Tokenizer("pretokenized", lowercase=True, factors=1)
    text = ["The\uffe8DT Cat\uffe8NN"]
    assert tokenizer.split_py(text) == [["the", "cat"]]
    assert tokenizer.factor_values(text)[0].to_list() == [[b"DT", b"NN"]]
