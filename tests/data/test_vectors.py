"""Reading pretrained word vectors: formats, compression, coverage, bad input."""

import gzip
import struct
import zipfile

import numpy as np
import pytest

from kerasrnn.data import catalog, vectors
from kerasrnn.data.errors import DataError
from kerasrnn.data.vocab import Vocabulary

ROWS = {"the": [0.5, -1.0, 2.0], "paris": [1.0, 2.0, 3.0], "Berlin": [4.0, 5.0, 6.0],
        "dog": [-0.25, 0.0, 1.5], "zebra": [9.0, 8.0, 7.0], "Zebra": [7.0, 7.0, 7.0]}


def glove_text(rows=ROWS):
    return "".join(f"{w} {' '.join(str(v) for v in vec)}\n" for w, vec in rows.items())


def word2vec_text(rows=ROWS):
    return f"{len(rows)} 3\n" + glove_text(rows)


def word2vec_binary(rows=ROWS):
    out = f"{len(rows)} 3\n".encode()
    for w, vec in rows.items():
        out += w.encode() + b" " + struct.pack("<3f", *vec) + b"\n"
    return out


FIXTURES = {"glove": (glove_text, ".txt"), "word2vec": (word2vec_text, ".vec"),
            "word2vec_binary": (word2vec_binary, ".bin")}


def write_as(tmp_path, name, content, packing):
    data = content.encode() if isinstance(content, str) else content
    if packing == "plain":
        path = tmp_path / name
        path.write_bytes(data)
    elif packing == "gz":
        path = tmp_path / f"{name}.gz"
        path.write_bytes(gzip.compress(data))
    else:
        path = tmp_path / "vectors.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
            archive.writestr("README", "another member")
        return f"{path}:{name}"
    return str(path)


def vocab_of(*words):
    return Vocabulary(["<pad>", "<unk>", "<bos>", "<eos>", *words])


@pytest.mark.parametrize("packing", ["plain", "gz", "zip"])
@pytest.mark.parametrize("fmt", list(FIXTURES))
def test_every_format_plain_and_compressed(tmp_path, fmt, packing):
    make, suffix = FIXTURES[fmt]
    path = write_as(tmp_path, f"vectors{suffix}", make(), packing)
    for given in ("auto", fmt):
        rows = list(vectors.read_vectors(path, given))
        assert [w for _, w, _ in rows] == list(ROWS)
        for (_, word, vector) in rows:
            assert vector.dtype == np.float32
            np.testing.assert_array_equal(vector, ROWS[word])


def test_coverage_and_case_fallback(tmp_path):
    path = write_as(tmp_path, "v.txt", glove_text(), "plain")
    vocab = vocab_of("the", "Paris", "berlin", "dog", "unseen", "Zebra")
    matrix, same, coverage = vectors.load(path, vocab, dim=3)
    assert same is vocab and matrix.shape == (10, 3)
    index = vocab.index
    np.testing.assert_array_equal(matrix[index["Paris"]], ROWS["paris"])  # Paris -> paris
    np.testing.assert_array_equal(matrix[index["berlin"]], ROWS["Berlin"])  # and the other way
    # A word's own form wins over another case, wherever it comes in the file.
    np.testing.assert_array_equal(matrix[index["Zebra"]], ROWS["Zebra"])
    assert not matrix[0].any() and matrix[index["unseen"]].any()
    assert (coverage.words, coverage.found, coverage.by_case) == (6, 5, 2)
    assert coverage.line() == "vectors for 5 of 6 words (83.3%); 2 by another case"
    _, _, strict = vectors.load(path, vocab, dim=3, case_fallback=False)
    assert (strict.found, strict.by_case) == (3, 0)


def test_added_words_come_in_file_order(tmp_path):
    path = write_as(tmp_path, "v.txt", glove_text(), "plain")
    vocab = vocab_of("the", "Paris")
    matrix, grown, coverage = vectors.load(path, vocab, dim=3, add=2)
    # paris is Paris's in another case, so not added; zebra and Zebra are one word.
    assert grown.tokens[6:] == ["Berlin", "dog"] and coverage.added == 2
    np.testing.assert_array_equal(matrix[grown.index["dog"]], ROWS["dog"])
    assert coverage.line() == "vectors for 2 of 2 words (100.0%); 1 by another case, 2 words added from the file"
    _, everything, _ = vectors.load(path, vocab, dim=3, add=100)
    assert everything.tokens[6:] == ["Berlin", "dog", "zebra"]


def test_coverage_line_uses_thousands_separators():
    line = vectors.Coverage(words=16655, found=14212).line()
    assert line == "vectors for 14,212 of 16,655 words (85.3%)"


@pytest.mark.parametrize("packing", ["plain", "gz"])
@pytest.mark.parametrize(
    "content, message",
    [
        ("a 1 2 3\nb 1 2\n", r"v\.txt(\.gz)?:2: 2 values where the first vector has 3$"),
        ("a 1 2 3\nb 1 two 3\n", r"v\.txt(\.gz)?:2: 'two' is not a finite number$"),
        ("a 1 2 3\nb 1 nan 3\n", r"v\.txt(\.gz)?:2: 'nan' is not a finite number$"),
        ("", r"v\.txt(\.gz)?: no vectors in the file$"),
        ("\n\n", r"v\.txt(\.gz)?: no vectors in the file$"),
        ("2 3\n", r"v\.txt(\.gz)?: no vectors in the file$"),
        ("a 1 2 3 4\nb 1 2 3 4\n", r"v\.txt(\.gz)?:1: vectors of 4 values, but model\.embedding_dim is 3 "),
        ("lonely\n", r"v\.txt(\.gz)?:1: the word 'lonely' has no values$"),
    ],
)
def test_bad_text_input_names_file_and_line(tmp_path, content, message, packing):
    path = write_as(tmp_path, "v.txt", content, packing)
    with pytest.raises(DataError, match=message) as error:
        vectors.load(path, vocab_of("a", "b"), dim=3)
    assert len(str(error.value).splitlines()) == 1


def test_unused_rows_are_checked_for_size(tmp_path):
    path = write_as(tmp_path, "v.txt", "a 1 2 3\nzz 1 2 3\nyy 1\n", "plain")
    with pytest.raises(DataError, match=r"v\.txt:3: 1 values where the first vector has 3"):
        vectors.load(path, vocab_of("a"), dim=3)


def test_bad_binary_input(tmp_path):
    good = word2vec_binary()
    cut = write_as(tmp_path, "cut.bin", good[:-8], "plain")
    with pytest.raises(DataError, match=r"cut\.bin: word 6: 1 values where the header gives 3"):
        vectors.load(cut, vocab_of("a"), dim=3)
    short = write_as(tmp_path, "short.bin", good.replace(b"6 3", b"7 3", 1), "plain")
    with pytest.raises(DataError, match=r"short\.bin: word 7: the file ends after 6 of the 7 vectors"):
        vectors.load(short, vocab_of("a"), dim=3)
    nan = write_as(tmp_path, "nan.bin", b"1 3\nx " + struct.pack("<3f", 1, float("nan"), 2), "plain")
    with pytest.raises(DataError, match=r"nan\.bin: word 1: a value is not a finite number"):
        vectors.load(nan, vocab_of("a"), dim=3)
    empty = write_as(tmp_path, "empty.bin", b"0 3\n", "plain")
    with pytest.raises(DataError, match=r"empty\.bin: no vectors in the file"):
        vectors.load(empty, vocab_of("a"), dim=3)
    wide = write_as(tmp_path, "wide.bin", good, "gz")
    with pytest.raises(DataError, match=r"wide\.bin\.gz:1: vectors of 3 values, but model\.embedding_dim is 5"):
        vectors.load(wide, vocab_of("a"), dim=5)


def test_projection_takes_the_files_size(tmp_path):
    path = write_as(tmp_path, "v.txt", glove_text(), "plain")
    matrix, _, coverage = vectors.load(path, vocab_of("dog"), dim=None)
    assert matrix.shape == (5, 3) and coverage.dim == 3


def test_catalog_vectors(tmp_path, monkeypatch):
    assert {"glove_6B_50d", "glove_6B_100d", "glove_6B_200d", "glove_6B_300d"} <= set(catalog.VECTORS)
    for entry in catalog.VECTORS.values():
        assert entry.path.split(".zip:")[0] + (".zip" if ".zip:" in entry.path else "") in {f.path for f in entry.files}
    monkeypatch.delenv("KERASRNN_DATA_MIRROR", raising=False)
    # A mirrored archive is checked against the catalog's sha256, and a wrong one is not kept.
    mirror = tmp_path / "mirror"
    (mirror / "glove_6B").mkdir(parents=True)
    (mirror / "glove_6B" / "glove.6B.zip").write_bytes(b"not the archive")
    with pytest.raises(DataError, match="glove_6B_300d: checksum mismatch .* expected sha256 617afb2f"):
        catalog.fetch_vectors("glove_6B_300d", data_dir=str(tmp_path / "cache"), mirror=str(mirror))
    assert not (tmp_path / "cache" / "glove_6B" / "glove.6B.zip").exists()
    with pytest.raises(DataError, match="has no download; put it in the offline mirror"):
        catalog.fetch_vectors("glove_6B_50d_100k", data_dir=str(tmp_path))


@pytest.mark.shared_data
def test_mirrored_glove_100k(shared_data, tmp_path):
    path = catalog.fetch_vectors("glove_6B_50d_100k", data_dir=str(tmp_path), mirror=str(shared_data))
    matrix, _, coverage = vectors.load(path, vocab_of("the", "Paris", "qqqxxq"), dim=50)
    assert coverage.found == 2 and matrix[4, 0] == np.float32(0.418)  # the file's first row, "the"
