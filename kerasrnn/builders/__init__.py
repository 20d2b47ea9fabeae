"""One builder per RNN architecture type, chosen by the recipe's `type`."""

from kerasrnn.builders.classifier import ManyToOne, OneToOne
from kerasrnn.builders.generator import OneToMany
from kerasrnn.builders.language_model import LanguageModel
from kerasrnn.builders.seq2seq import Seq2Seq
from kerasrnn.builders.tagger import Tagger

BUILDERS = {
    "seq2seq": Seq2Seq,
    "language_model": LanguageModel,
    "one_to_many": OneToMany,
    "many_to_one": ManyToOne,
    "one_to_one": OneToOne,
    "many_to_many": Tagger,
}


def get(recipe):
    """The builder for a resolved recipe."""
    kind = recipe["type"]
    if kind not in BUILDERS:
        raise ValueError(
            f"type: no builder for {kind!r} yet; available: {', '.join(sorted(BUILDERS))}"
        )
    return BUILDERS[kind](recipe)
