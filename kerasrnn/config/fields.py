"""What a recipe key is (`Field`), and the names the schema's choices come from."""

import dataclasses
from typing import Any

from kerasrnn.data import readers

TYPES = (
    "one_to_one",
    "one_to_many",
    "many_to_one",
    "many_to_many",
    "seq2seq",
    "language_model",
)
# The names of `kerasrnn.layers.registry.CELLS` and `kerasrnn.data.tokenizers.KINDS`,
# written out: importing those modules starts TensorFlow, which checking a
# recipe does without (tests/test_console.py keeps the lists equal).
CELLS = ("simple_rnn", "gru", "minimal_gru", "lstm", "layer_norm_lstm", "layer_norm_gru", "min_gru", "min_lstm")
FORMATS = ("auto", *readers.FORMATS)
TOKENIZERS = ("char", "word", "script", "subword", "pretokenized", "label", "vector")


@dataclasses.dataclass(frozen=True)
class Field:
    """One recipe key: its type(s), default, allowed values and help text."""

    types: tuple
    default: Any = None
    help: str = ""
    choices: tuple = None
    min: float = None
    max: float = None
    nullable: bool = False
    required: bool = False
    path: bool = False


def tokenizer_section(tokenizer, help_side):
    return {
        "tokenizer": Field(
            (str,),
            tokenizer,
            f"How {help_side} text becomes tokens: characters, words split on "
            "white space, words split by Unicode script, WordPiece subwords, "
            "space-separated tokens kept as they are, one label, or (one_to_one "
            "inputs) a fixed-length vector of numbers separated by spaces or commas.",
            choices=TOKENIZERS,
        ),
        "lowercase": Field((bool,), False, "Lower-case before tokenizing."),
        "normalize": Field(
            (bool,), False, "Apply Unicode NFKC normalization before tokenizing."
        ),
        "max_length": Field(
            (int,),
            None,
            "Longest sequence in tokens; longer ones are truncated and counted.",
            min=1,
            nullable=True,
        ),
        "min_freq": Field(
            (int,), 1, "Tokens seen fewer times than this map to <unk>.", min=1
        ),
        "max_vocab": Field(
            (int,),
            None,
            "Keep at most this many tokens (most frequent first), specials included; "
            "for subword, the size the WordPiece vocabulary is learned to "
            "(default 8000).",
            min=5,
            nullable=True,
        ),
    }
