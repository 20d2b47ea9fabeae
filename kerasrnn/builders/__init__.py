"""One builder per RNN architecture type, chosen by the recipe's `type`."""

from kerasrnn.builders.seq2seq import Seq2Seq

BUILDERS = {
    "seq2seq": Seq2Seq,
}


def get(recipe):
    """The builder for a resolved recipe."""
    kind = recipe["type"]
    if kind not in BUILDERS:
        raise ValueError(
            f"type: no builder for {kind!r} yet; available: {', '.join(sorted(BUILDERS))}"
        )
    return BUILDERS[kind](recipe)
