"""Tiny recipes of every type, on data the tests write: quick fits for end-to-end tests."""

import random

from kerasrnn import config
from support import RECIPES

TINY = {"epochs": 1, "batch_size": 16, "learning_rate": 0.01, "verbose": 0, "tensorboard": False}
# Inputs each type is asked about, in `kerasrnn predict` and in a fresh process.
INPUTS = {
    "seq2seq": ["hello", "export", "zebra"],
    "language_model": ["ab", "cab AB", ""],
    "one_to_many": ["Lowland", "Upland"],
    "many_to_one": ["w1 blue w2 w3", "red", "w4 w5 green w6 w7 w8"],
    "one_to_one": ["dog", "sees", "unheard"],
    "many_to_many": ["the big Dog sees IBM .", "a cat !"],
}
# Dynamic-range quantization leaves tensors under 1,024 values in float: at
# 40 units, over inputs of 32, the LSTM kernels are large enough to be
# quantized, and the quantized file is smaller than the float one.
QUANTIZED_UNITS = 40
QUANTIZED_INPUTS = 32


def _g2p(tmp):
    # The recurrent decoder (encode/step signatures), whatever the default recipe uses.
    overrides = ["data.max_examples=150", "model.decoder=rnn", "model.upsample=1", "model.layers=1",
                 "model.cell=lstm", f"model.units={QUANTIZED_UNITS}", "model.embedding_dim=8",
                 "model.dropout=0.0", "training.precision=float32", "decoding.max_length=12"]
    recipe = config.load_recipe(str(RECIPES / "g2p_cmudict.yaml"), overrides)
    return {**recipe, "training": {**recipe["training"], **TINY}}


def _lm(tmp):
    rng = random.Random(0)
    words = ["".join(rng.choice("abc") for _ in range(rng.randint(2, 4))) for _ in range(150)]
    (tmp / "lm.txt").write_text("".join(f"{w} {w.upper()}.\n" for w in words))
    return {"name": "tiny_lm", "type": "language_model",
            "data": {"train": str(tmp / "lm.txt"), "test_split": 0.1, "source": {"tokenizer": "char"}},
            "model": {"cell": "lstm", "units": QUANTIZED_UNITS, "embedding_dim": QUANTIZED_INPUTS},
            "decoding": {"max_length": 12}}


def _names(tmp):
    folder = tmp / "names"
    folder.mkdir()
    rng = random.Random(0)
    for language, letters in {"Lowland": "abcd", "Upland": "wxyz"}.items():
        names = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 5))).title() for _ in range(80)}
        (folder / f"{language}.txt").write_text("\n".join(sorted(names)) + "\n")
    return {"name": "tiny_names", "type": "one_to_many",
            "data": {"train": str(folder), "format": "folder", "swap_sides": True, "test_split": 0.1,
                     "source": {"tokenizer": "label"}, "target": {"tokenizer": "char"}},
            "model": {"cell": "lstm", "units": 16, "embedding_dim": 8, "conditioning": "both"},
            "decoding": {"strategy": "greedy", "max_length": 10}}


def _colours(tmp):
    rng = random.Random(0)
    rows = []
    for _ in range(150):
        colour = rng.choice(["red", "green", "blue"])
        words = [f"w{rng.randint(1, 9)}" for _ in range(rng.randint(0, 5))]
        words.insert(rng.randint(0, len(words)), colour)
        rows.append(f"{' '.join(words)}\t{colour}\n")
    (tmp / "colours.tsv").write_text("".join(rows))
    return {"name": "tiny_colours", "type": "many_to_one",
            "data": {"train": str(tmp / "colours.tsv"), "test_split": 0.1, "source": {"tokenizer": "word"}},
            "model": {"cell": "lstm", "units": 16, "embedding_dim": 8, "bidirectional": True, "pooling": "last"}}


LEXICON = {"the": "DT", "a": "DT", "big": "JJ", "red": "JJ", "old": "JJ", "dog": "NN", "cat": "NN",
           "house": "NN", "ibm": "NNP", "sees": "VBZ", "likes": "VBZ", "in": "IN", "on": "IN", ".": "."}


def _lexicon(tmp):
    rng = random.Random(0)
    words = list(LEXICON) * 10
    rng.shuffle(words)
    (tmp / "lexicon.tsv").write_text("".join(f"{w}\t{LEXICON[w]}\n" for w in words))
    return {"name": "tiny_lexicon", "type": "one_to_one",
            "data": {"train": str(tmp / "lexicon.tsv"), "test_split": 0.1,
                     "source": {"tokenizer": "label"}, "target": {"tokenizer": "label"}},
            "model": {"cell": "gru", "units": 16, "embedding_dim": 8}}


def _chunks(tmp):
    rng = random.Random(0)
    lines = []
    for _ in range(120):
        words = [rng.choice(["the", "a", "The"]), rng.choice(["Big", "red", "old"]), rng.choice(["dog", "IBM", "cat"]),
                 rng.choice(["sees", "likes"]), rng.choice(["a", "the"]), rng.choice(["house", "car2"]), "."]
        tags = ["B-NP", "I-NP", "I-NP", "B-VP", "B-NP", "I-NP", "O"]
        cut = rng.randint(3, 7)
        lines += [f"{w} {t}" for w, t in zip(words[:cut], tags[:cut])] + [""]
    (tmp / "chunks.conll").write_text("\n".join(lines) + "\n")
    return {"name": "tiny_chunks", "type": "many_to_many",
            "data": {"train": str(tmp / "chunks.conll"), "test_split": 0.1,
                     "source": {"tokenizer": "pretokenized", "lowercase": True},
                     "target": {"tokenizer": "pretokenized"}},
            "model": {"cell": "lstm", "units": 16, "embedding_dim": 8, "bidirectional": True,
                      "spelling_features": True}}


RECIPES_BY_TYPE = {"seq2seq": _g2p, "language_model": _lm, "one_to_many": _names,
                   "many_to_one": _colours, "one_to_one": _lexicon, "many_to_many": _chunks}


def tiny_recipe(kind, tmp):
    """The resolved tiny recipe of a type, its data written into `tmp`."""
    recipe = RECIPES_BY_TYPE[kind](tmp)
    if kind != "seq2seq":
        recipe = config.resolve({**recipe, "training": TINY})
    return recipe
