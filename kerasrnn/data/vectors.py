"""Pretrained word vectors (GloVe, word2vec): read in a stream, matched to a vocabulary.

A vectors file is read one row at a time, plain, `.gz`, `.zip` or
`archive.zip:member`; only the rows of the vocabulary's words are kept, in a
matrix allocated once: a 400,000 x 300 file (1 GB of text) matched to a
15,000-word vocabulary, with 20,000 words added, peaks at 107 MB of Python
memory. Formats:

- `glove`: `word v1 ... vD` per line, no header (Pennington et al. 2014);
- `word2vec`: the same after a header line `COUNT D`;
- `word2vec_binary`: the header line, then per word its bytes, a space and
  D little-endian float32 values (Mikolov et al. 2013);
- `auto`: `word2vec_binary` for `.bin` files, else `word2vec` when the
  first line is two integers, else `glove`.

Bad input raises `DataError` naming the file and the line (the word's
number in a binary file): a row whose size differs from the first, a value
that is not a finite number, a file with no vectors, or vectors of another
size than the model's embeddings. Every row's size is checked; the values
are parsed, and checked, in the first row and the rows that are kept, since
parsing the 120 million numbers of such a file would make loading
several times slower.

Example:

>>> matrix, vocab, coverage = load("glove.6B.50d.txt.gz", vocab, dim=50)  # doctest: +SKIP
>>> coverage.line()  # doctest: +SKIP
'vectors for 14,212 of 16,655 words (85.3%)'
"""

import dataclasses
import io
import re
import struct

import numpy as np

from kerasrnn.data.errors import DataError
from kerasrnn.data.readers.files import READ_ERRORS, open_binary
from kerasrnn.data.vocab import Vocabulary

FORMATS = ("auto", "glove", "word2vec", "word2vec_binary")
_HEADER = re.compile(r"^\s*\d+\s+\d+\s*$")


@dataclasses.dataclass
class Coverage:
    """How many of a vocabulary's words got a vector.

    Attributes:
        words: the vocabulary's words (specials left out).
        found: words with a vector, by their own form or another case.
        by_case: of `found`, those matched only in another case (`Paris` -> `paris`).
        added: words of the file that training never saw, added to the vocabulary.
        dim: the vectors' size.
    """

    words: int = 0
    found: int = 0
    by_case: int = 0
    added: int = 0
    dim: int = 0

    def line(self):
        share = 100.0 * self.found / self.words if self.words else 0.0
        text = f"vectors for {self.found:,} of {self.words:,} words ({share:.1f}%)"
        notes = []
        if self.by_case:
            notes.append(f"{self.by_case:,} by another case")
        if self.added:
            notes.append(f"{self.added:,} word{'' if self.added == 1 else 's'} added from the file")
        return text + (f"; {', '.join(notes)}" if notes else "")


def guess_format(path):
    """`word2vec_binary` for a `.bin` file (also `.bin.gz`), else `auto` (decided by the first line)."""
    name = path.lower().removesuffix(".gz")
    return "word2vec_binary" if name.endswith(".bin") else "auto"


def read_vectors(path, fmt="auto", encoding="utf-8", wanted=None):
    """Yields `(line, word, vector)` for each row of a vectors file, checked.

    Args:
        path: a plain, `.gz` or `.zip` file, or `archive.zip:member`.
        fmt: one of `FORMATS`.
        encoding: the text encoding of the words.
        wanted: `wanted(word) -> bool`, or None for every word. In a text
            file only the wanted rows' values are parsed (and checked to be
            numbers; every row's size is checked); the others give `None`.
            The first row is always parsed.

    Yields:
        The row's line number (its word's number in a binary file), the word,
        and its values as a new float32 array (or None, see `wanted`).

    Raises:
        DataError: naming the file and line of a bad row, or a file with no vectors.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if fmt == "auto":
        fmt = guess_format(path)
    rows = 0
    try:
        with open_binary(path) as stream:
            if fmt == "word2vec_binary":
                rows_of = _binary_rows(path, io.BufferedReader(stream), encoding)
            else:
                rows_of = _text_rows(path, stream, fmt, encoding, wanted)
            for row in rows_of:
                rows += 1
                yield row
    except READ_ERRORS as error:
        raise DataError(f"{path}: cannot read the file: {error}") from None
    if not rows:
        raise DataError(f"{path}: no vectors in the file")


def _text_rows(path, stream, fmt, encoding, wanted):
    dim = None
    for number, raw in enumerate(stream, 1):
        try:
            text = raw.decode(encoding).rstrip()
        except UnicodeDecodeError as error:
            raise DataError(f"{path}:{number}: invalid {encoding} byte 0x{raw[error.start]:02x}") from None
        if number == 1:
            text = text.lstrip("\ufeff")
            if fmt == "word2vec" or (fmt == "auto" and _HEADER.match(text)):
                if not _HEADER.match(text):
                    raise DataError(f"{path}:1: expected the word2vec header 'COUNT DIMENSION', got {text[:40]!r}")
                continue
        if not text:
            continue
        word, _, values = text.partition(" ")
        # Counting spaces is the cheap check of every row; other white space is counted properly.
        size = values.count(" ") + 1 if values else 0
        if size != dim:
            size = len(values.split())
        first = dim is None
        if first:
            dim = size
            if not dim:
                raise DataError(f"{path}:{number}: the word {word[:40]!r} has no values")
        if size != dim:
            raise DataError(f"{path}:{number}: {size} values where the first vector has {dim}")
        if not first and wanted is not None and not wanted(word):
            yield number, word, None
            continue
        try:
            vector = np.array(values.split(), dtype=np.float32)
        except ValueError:
            vector = None
        if vector is None or not np.isfinite(vector).all():
            bad = next(v for v in values.split() if not _finite(v))
            raise DataError(f"{path}:{number}: {bad[:40]!r} is not a finite number")
        yield number, word, vector


def _binary_rows(path, stream, encoding):
    header = stream.readline()
    try:
        count, dim = (int(v) for v in header.decode("ascii").split())
    except (UnicodeDecodeError, ValueError):
        if not header:
            return
        raise DataError(f"{path}:1: expected the word2vec header 'COUNT DIMENSION', got {header[:40]!r}") from None
    if dim < 1:
        raise DataError(f"{path}:1: the header gives {dim} values per vector")
    width = 4 * dim
    unpack = struct.Struct(f"<{dim}f").unpack
    for number in range(1, count + 1):
        word = bytearray()
        while True:
            byte = stream.read(1)
            if not byte:
                if word.strip():
                    raise DataError(f"{path}: word {number}: the file ends inside the word {bytes(word[:40])!r}")
                raise DataError(f"{path}: word {number}: the file ends after {number - 1:,} of the {count:,} "
                                "vectors its header announces")
            if byte == b" ":
                break
            if byte != b"\n" or word:
                word += byte
        data = stream.read(width)
        if len(data) != width:
            raise DataError(f"{path}: word {number}: {len(data) // 4} values where the header gives {dim}")
        vector = np.array(unpack(data), dtype=np.float32)
        if not np.isfinite(vector).all():
            raise DataError(f"{path}: word {number}: a value is not a finite number")
        yield number, word.decode(encoding, errors="replace"), vector


def _finite(text):
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


def load(path, vocab, fmt="auto", dim=None, add=0, case_fallback=True, seed=0, encoding="utf-8"):
    """The embedding matrix of `vocab` from a vectors file, in one pass.

    Words of `vocab` take their vector; with `case_fallback` a word absent
    from the file takes the vector of the same word in another case
    (`Paris` -> `paris`, the first such row of the file). Words without a
    vector are drawn from a normal distribution with the vectors' standard
    deviation; the padding row is zero.

    Args:
        path: the vectors file (see `read_vectors`).
        vocab: a `Vocabulary` with specials.
        fmt: one of `FORMATS`.
        dim: the size the vectors must have, or None to take the file's.
        add: how many of the file's words that `vocab` lacks to add to it,
            first rows first (GloVe and word2vec files list the most frequent
            words first). Words `vocab` has in another case are not added.
        case_fallback: match words in another case.
        seed: seed of the rows drawn for words without a vector.

    Returns:
        `(matrix, vocab, coverage)`: a float32 `(len(vocab), dim)` matrix, the
        vocabulary (a new one when words were added), and a `Coverage`.

    Raises:
        DataError: a bad file (see `read_vectors`), or vectors whose size is not `dim`.
    """
    index = vocab.index
    folded = {}
    if case_fallback:
        for token, i in index.items():
            if i >= vocab.specials:
                folded.setdefault(token.lower(), []).append(i)
    matrix = added_rows = None
    filled = np.zeros(len(vocab), np.int8)  # 0 none, 1 another case, 2 its own form
    added, added_set = [], set()

    def wanted(word):
        if word in index or word.lower() in folded:
            return True
        return len(added) < add and word not in added_set and word.lower() not in added_set

    for number, word, vector in read_vectors(path, fmt, encoding, wanted):
        if vector is None:
            continue
        if matrix is None:
            size = vector.shape[0]
            if dim is not None and size != dim:
                raise DataError(
                    f"{path}:{number}: vectors of {size} values, but model.embedding_dim is {dim} "
                    f"(set model.embedding_dim: {size}, or model.embeddings.project: true)"
                )
            matrix = np.zeros((len(vocab), size), np.float32)
            added_rows = np.zeros((add, size), np.float32)
        i = index.get(word)
        if i is not None:
            if i >= vocab.specials and filled[i] < 2:
                matrix[i], filled[i] = vector, 2
            continue
        matches = folded.get(word.lower(), ())
        for j in matches:
            if not filled[j]:
                matrix[j], filled[j] = vector, 1
        if not matches and len(added) < add and word not in added_set:
            # A word of the file in another case than one already added is not added again.
            lower = word.lower()
            if lower not in added_set:
                added_rows[len(added)] = vector
                added.append(word)
                added_set.update((word, lower))
    coverage = Coverage(
        words=len(vocab) - vocab.specials,
        found=int((filled > 0).sum()),
        by_case=int((filled == 1).sum()),
        added=len(added),
        dim=matrix.shape[1],
    )
    present = matrix[filled > 0]
    scale = float(present.std()) if present.size else 0.1
    missing = np.flatnonzero(filled == 0)
    missing = missing[missing > 0]  # the padding row stays zero
    rng = np.random.default_rng(seed)
    matrix[missing] = rng.normal(0.0, scale, (len(missing), matrix.shape[1])).astype(np.float32)
    if added:
        vocab = Vocabulary(vocab.tokens + added, specials=vocab.specials)
        matrix = np.concatenate([matrix, added_rows[: len(added)]])
    return matrix, vocab, coverage

