"""The unit every reader yields."""

import dataclasses

# Joins a word and its features (factors) into one token: "Confidence\uffe8NN".
FACTOR_SEPARATOR = "\uffe8"


@dataclasses.dataclass(frozen=True)
class Example:
    """One training example.

    Args:
        source: the input text, or its tokens for pre-tokenized formats.
        target: the label, target text or tags; `None` for language models.
        key: a grouping key for splits: examples sharing a key land in the
            same split (the word in G2P, where pronunciations share a word).
        origin: where it was read, `"file:line"`, for messages about it;
            not part of the example's identity (equality, repr, hash).
    """

    source: str | tuple[str, ...]
    target: str | tuple[str, ...] | None = None
    key: str | None = None
    origin: str | None = dataclasses.field(default=None, compare=False, repr=False)
