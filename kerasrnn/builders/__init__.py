"""One builder per RNN architecture type, chosen by the recipe's `type`."""

from kerasrnn.builders.classifier import ManyToOne, OneToOne
from kerasrnn.builders.ctc import CTC
from kerasrnn.builders.generator import OneToMany
from kerasrnn.builders.language_model import LanguageModel
from kerasrnn.builders.seq2seq import Seq2Seq
from kerasrnn.builders.tagger import Tagger
from kerasrnn.config import TYPES

# One builder per recipe type, in the order of `config.TYPES`.
BUILDERS = dict(
    zip(TYPES, (OneToOne, OneToMany, ManyToOne, Tagger, Seq2Seq, LanguageModel), strict=True)
)


def get(recipe):
    """The builder for a resolved recipe."""
    kind = recipe["type"]
    if kind not in BUILDERS:
        raise ValueError(
            f"type: no builder for {kind!r} yet; available: {', '.join(sorted(BUILDERS))}"
        )
    if kind == "seq2seq" and recipe["model"]["decoder"] == "ctc":
        return CTC(recipe)
    return BUILDERS[kind](recipe)
