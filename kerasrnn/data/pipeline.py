"""Examples for tf.data: held in memory, or streamed from their files pass after pass.

`ExampleStream` stands in for the list of a split's examples when the files
are too large to hold: each pass reads the files again and keeps the
split's examples (by the same seeded hash of each example's key as
`kerasrnn.data.splits.split_examples`), so both give the same examples in
the same order. `text_dataset` turns either into a dataset of strings.

Example:

>>> stream = ExampleStream("big.tsv", "tsv")
>>> parts = carve(stream, seed=1337, valid_share=0.05, test_share=0.05)
>>> len(parts["train"])  # counted in the pass `carve` made  # doctest: +SKIP
1900000
"""

import glob
import itertools
import os
import random

import tensorflow as tf

from kerasrnn.data import readers, splits

# Files above this many bytes are streamed when the recipe leaves it open.
STREAMING_BYTES = 200 * 1000**2
CHUNK = 4096
# Examples tokenized and looked up together by `encoded_in_batches`.
ENCODE_BATCH = 1024


class ExampleStream:
    """A split's examples, read from the files on every pass, never all held.

    Iterates like the list `list(read_examples(paths, fmt, options))` (then
    narrowed by `where`), any number of times; `len` is counted once and
    kept; slices `[start::step]` shard it.

    Args:
        paths: the files, as `kerasrnn.data.readers.read_examples` takes them.
        fmt: the reader format.
        options: the reader options.
        where: functions from an iterator of examples to the examples kept.
        length: the number of examples, when already counted.
    """

    def __init__(self, paths, fmt, options=None, where=(), length=None):
        self.paths = paths
        self.fmt = fmt
        self.options = options
        self.where = tuple(where)
        self.length = length

    def examples(self, report=None):
        """One pass over the examples, counting what is read in `report`."""
        examples = readers.read_examples(self.paths, self.fmt, self.options, report)
        for keep in self.where:
            examples = keep(examples)
        return examples

    def __iter__(self):
        return iter(self.examples())

    def __len__(self):
        if self.length is None:
            self.length = sum(1 for _ in self)
        return self.length

    def __bool__(self):
        return len(self) > 0

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("an ExampleStream is read in order: index it with a slice")
        return self.narrowed(lambda examples: itertools.islice(examples, index.start, index.stop, index.step))

    def narrowed(self, keep, length=None):
        """The same files with one more filter `keep(examples) -> examples`."""
        return ExampleStream(self.paths, self.fmt, self.options, self.where + (keep,), length)


def chunks(examples, size=CHUNK):
    """Lists of up to `size` consecutive examples."""
    iterator = iter(examples)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def carve(stream, seed, valid_share, test_share, need=("valid", "test"), report=None):
    """Splits a stream as `splits.split_examples` splits a list, in one counting pass.

    Returns:
        A dict "train" / "valid" / "test" -> `ExampleStream`, each with its
        length counted in this pass (which also meets any bad line now,
        before training starts).
    """

    def part(name):
        def keep(examples):
            for chunk in chunks(examples):
                yield from splits.split_examples(chunk, seed, valid_share, test_share, need)[name]

        return stream.narrowed(keep, length=0)

    parts = {name: part(name) for name in splits.SPLITS}
    for chunk in chunks(stream.examples(report)):
        for name, examples in splits.split_examples(chunk, seed, valid_share, test_share, need).items():
            parts[name].length += len(examples)
    return parts


def sample(stream, count, seed):
    """`count` examples of a stream, the ones `random.Random(seed).sample` picks from a list.

    They come in file order, not in the sampled order.
    """
    picked = frozenset(random.Random(seed).sample(range(len(stream)), count))

    def keep(examples):
        return (ex for i, ex in enumerate(examples) if i in picked)

    return stream.narrowed(keep, length=count)


def file_bytes(paths):
    """The size on disk of data files (paths, globs, `archive.zip:member`)."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else paths
    total = 0
    for path in paths:
        path = os.path.expanduser(os.fspath(path))
        if ".zip:" in path:
            path = path.split(".zip:", 1)[0] + ".zip"
        for name in glob.glob(path) if glob.has_magic(path) else [path]:
            if os.path.isdir(name):
                total += sum(entry.stat().st_size for entry in os.scandir(name) if entry.is_file())
            elif os.path.isfile(name):
                total += os.path.getsize(name)
    return total


def text_dataset(examples, strings):
    """A dataset of one dict of scalar strings per example.

    Args:
        examples: a list of examples, or an `ExampleStream`.
        strings: `strings(list of examples) -> {name: 1-D string tensor}`.

    A list becomes tensors at once; a stream is read in chunks by a
    generator, each time the dataset is iterated.
    """
    if in_memory(examples):
        return tf.data.Dataset.from_tensor_slices(strings(examples))
    names = list(strings([]))

    def generate():
        for chunk in chunks(examples):
            yield {name: values.numpy() for name, values in strings(chunk).items()}

    signature = {name: tf.TensorSpec([None], tf.string) for name in names}
    return tf.data.Dataset.from_generator(generate, output_signature=signature).unbatch()


def encoded_in_batches(ds, encode_batch, size=ENCODE_BATCH):
    """Examples encoded `size` at a time, then given out one by one again.

    Args:
        ds: a dataset of single examples (dicts of scalar strings).
        encode_batch: 1-D string tensors -> tensors with one row per example
            (ragged or dense), as `Builder.encode_batch` gives them.

    Returns:
        A dataset of the same examples, in order, each a structure of plain
        tensors as a per-example `encode` gives it.
    """
    batches = ds.batch(size).map(encode_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    spec = batches.element_spec
    ragged = [isinstance(leaf, tf.RaggedTensorSpec) for leaf in tf.nest.flatten(spec)]
    if any(is_ragged and leaf.ragged_rank > 1 for is_ragged, leaf in zip(ragged, tf.nest.flatten(spec))):
        # Rows of rows: one-row ragged values, made plain one example per call.
        return batches.unbatch().map(_plain, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def padded(*parts):
        # Unbatching ragged rows costs far more than unbatching dense ones, so
        # each ragged tensor travels as (zero-padded rows, row lengths).
        flat = []
        for leaf in tf.nest.flatten(parts):
            flat += [leaf.to_tensor(), leaf.row_lengths()] if isinstance(leaf, tf.RaggedTensor) else [leaf]
        return tuple(flat)

    def cut(*flat):
        flat, leaves = iter(flat), []
        for is_ragged in ragged:
            row = next(flat)
            leaves.append(row[: next(flat)] if is_ragged else row)
        return tf.nest.pack_sequence_as(spec, leaves)

    rows = batches.map(padded, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
    return rows.map(cut, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _plain(*parts):
    return parts if len(parts) > 1 else parts[0]


def in_memory(examples):
    """Whether `examples` are held in memory (so their encoding can be cached)."""
    return not isinstance(examples, ExampleStream)
