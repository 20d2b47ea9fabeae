"""A recipe's data: its train, valid and test examples, and their statistics.

Example:

>>> splits = load_splits(recipe)  # doctest: +SKIP
Examples: train 113,438, valid 6,015, test 5,979
>>> held_out = load_split(recipe, "test")  # doctest: +SKIP
"""

import random

from kerasrnn.data import catalog, inspect, pipeline, readers, splits
from kerasrnn.data.errors import DataError
from kerasrnn.errors import RecipeError

# The recipe's `data` keys that are reader options.
READER_OPTIONS = readers.RECIPE_OPTIONS


def load_splits(recipe, echo=print):
    """Reads the recipe's train, valid and test examples.

    Files named in the recipe win over the catalog data set's and are read
    first, so a mistake in them shows before any download. Splits with no
    file are carved from train by a seeded hash of each example's key (or by
    position). With `data.streaming` (by default: files above
    `pipeline.STREAMING_BYTES`) each split is an `ExampleStream` that reads
    the files again on every pass; each is read through once here, so a bad
    line stops the run before training starts.

    Args:
        recipe: a resolved recipe.
        echo: called with the line that counts the examples.

    Returns:
        A dict "train" / "valid" / "test" -> list of `Example`s, or of
        `kerasrnn.data.pipeline.ExampleStream`s when streaming.
    """
    data = recipe["data"]
    entry = catalog.get(data["dataset"]) if data["dataset"] else None
    own = {split: data[split] for split in splits.SPLITS if data[split]}
    from_catalog = [split for split in entry.splits if split not in own] if entry else []
    if "train" not in own and "train" not in from_catalog:
        raise DataError("data -> train: no training data (name a dataset or a train file)")
    fmt = data["format"]
    if fmt == "auto":
        fmt = entry.format if entry else readers.guess_format(own["train"])
    options = readers.recipe_options(data, entry.options if entry else {})
    missing = [split for split in ("valid", "test") if split not in own and split not in from_catalog]
    streaming = _streaming(data, own, entry if from_catalog else None, missing)
    report = readers.ReadReport()

    def load(split, paths):
        if not streaming:
            return list(readers.read_examples(paths, fmt, options, report))
        stream = pipeline.ExampleStream(paths, fmt, options)
        if not (split == "train" and missing):  # else carving counts it
            stream.length = sum(1 for _ in stream.examples(report))
        return stream

    read = {split: load(split, paths) for split, paths in own.items()}
    if from_catalog:
        fetched = catalog.fetch(data["dataset"])
        read.update({split: load(split, fetched[split]) for split in from_catalog})
    seed = recipe["training"]["seed"] if data["split_seed"] is None else data["split_seed"]
    if missing:
        shares = (data["valid_split"], data["test_split"])
        if streaming:
            carved = pipeline.carve(read["train"], seed, *shares, need=missing, report=report)
        elif data["split_by"] == "position":
            carved = splits.split_by_position(read["train"], seed, *shares, need=missing)
        else:
            carved = splits.split_examples(read["train"], seed, *shares, need=missing)
        read["train"] = carved["train"]
        for split in missing:
            read[split] = carved[split]
    cap = data["max_examples"]
    if cap:
        for split, examples in read.items():
            if len(examples) > cap:
                picked = pipeline.sample if streaming else _sample
                read[split] = picked(examples, cap, seed)
    skipped = f"{report.skipped:,} bad lines skipped, first: {' | '.join(report.reasons)}" if report.skipped else ""
    if not read["train"]:
        raise DataError(
            "data -> train: no training examples left after reading and splitting"
            + (f" ({skipped})" if skipped else "")
        )
    counts = ", ".join(f"{s} {len(read.get(s, [])):,}" for s in splits.SPLITS)
    notes = [note for note in ("streamed from the files" if streaming else "", skipped) if note]
    echo(f"Examples: {counts}" + (f" ({'; '.join(notes)})" if notes else ""))
    return read


def load_split(recipe, name):
    """One split of `load_splits` ("train", "valid" or "test"), read without a word."""
    return load_splits(recipe, echo=_silent)[name]


def _silent(_):
    pass


def _sample(examples, count, seed):
    return random.Random(seed).sample(examples, count)


def _streaming(data, own, entry, missing):
    """Whether to stream the data files rather than hold them in memory."""
    if data["streaming"] is False:
        return False
    if missing and data["split_by"] == "position":
        if data["streaming"]:
            raise RecipeError(
                ["data -> streaming: split_by: position needs the data in memory; set streaming: false"]
            )
        return False
    if data["streaming"]:
        return True
    size = sum(pipeline.file_bytes(paths) for paths in own.values()) + (entry.size if entry else 0)
    return size > pipeline.STREAMING_BYTES


def inspect_splits(data, tokenizers, vocabularies, out_png=None):
    """`kerasrnn.data.inspect.inspect_examples` of each split that has examples.

    Args:
        data: split -> examples, as `load_splits` returns them.
        tokenizers: side -> `Tokenizer`; lengths are counted in its tokens and
            truncation against its `max_length`.
        vocabularies: side -> the vocabulary to measure out-of-vocabulary
            rates against.
        out_png: where to draw the train split's histograms, or `None`.
    """
    lengths = {side: tokenizer.max_length for side, tokenizer in tokenizers.items()}
    return {
        split: inspect.inspect_examples(
            data[split], lengths, out_png if split == "train" else None, tokenizers, vocabularies
        )
        for split in splits.SPLITS
        if data[split]
    }
