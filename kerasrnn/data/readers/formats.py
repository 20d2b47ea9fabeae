"""One reader per data format: `(files, options, report) -> Example`s.

`READERS` maps each format name to its reader; `read_aligned` reads a
parallel pair of files line by line.
"""

import csv
import itertools
import json
import os
import re

from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import FACTOR_SEPARATOR, Example
from kerasrnn.data.readers.files import ZIP_MEMBER, BadLine, bad_line, read_lines

_CMUDICT_ALTERNATE = re.compile(r"\(\d+\)$")
_CMUDICT_PHONE = re.compile(r"^[A-Za-z]+[0-9]?$")


def _read_text(specs, opts, report):
    for spec in specs:
        for _, line in read_lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            yield Example(line)


def _read_label_sentence(specs, opts, report):
    for spec in specs:
        for number, line in read_lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            parts = line.split(opts.delimiter, 1) if opts.delimiter else line.split(None, 1)
            if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
                bad_line(f"{spec}:{number}: expected a label, then a sentence", opts, report)
                continue
            yield Example(parts[1].strip(), parts[0].strip())


def _read_folder(specs, opts, report):
    for spec in specs:
        member = ZIP_MEMBER.match(spec)
        name = os.path.basename(member.group(2) if member else spec)
        label = os.path.splitext(name[:-3] if name.lower().endswith(".gz") else name)[0]
        for _, line in read_lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            yield Example(line.strip(), label)


def _read_cmudict(specs, opts, report):
    for spec in specs:
        for number, line in read_lines(spec, opts, report):
            if line is None:
                continue
            if line.startswith(";;;"):
                report.comment_lines += 1
                continue
            # The cmudict package's file ends some entries with "# comment".
            line = line.split("#", 1)[0]
            if not line.strip():
                report.empty_lines += 1
                continue
            word, _, phones = line.partition("\t") if "\t" in line else line.strip().partition(" ")
            word, phones = word.strip(), phones.split()
            try:
                if not word or not phones:
                    raise BadLine("expected a word, then its phones")
                for phone in phones:
                    if not _CMUDICT_PHONE.match(phone):
                        raise BadLine(f"{phone!r} is not a phone")
            except BadLine as reason:
                bad_line(f"{spec}:{number}: {reason}", opts, report)
                continue
            if opts.strip_stress:
                phones = [phone.rstrip("0123456789") for phone in phones]
            word = _CMUDICT_ALTERNATE.sub("", word).lower()
            yield Example(word, " ".join(phone.upper() for phone in phones), key=word,
                          origin=f"{_short(spec)}:{number}")


def _field(value, side):
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise BadLine(f"the {side} is empty")
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadLine(f"the {side} is not text: {json.dumps(value)[:40]}")


def _short(spec):
    """A data file as messages name it: its base name (an archive's member's)."""
    return os.path.basename(spec)


def _pick(row, columns, names=None, origin=None):
    """Builds an Example from a row (list or JSON object) and resolved columns."""
    values = {"origin": origin}
    for side, column in columns.items():
        if column is None:
            values[side] = None
            continue
        if isinstance(row, dict):
            if column not in row:
                raise BadLine(f"no field {column!r}")
            values[side] = _field(row[column], side)
            continue
        if isinstance(column, list):
            # A word and its features, one token: "Confidence\uffe8NN".
            values[side] = FACTOR_SEPARATOR.join(_column(row, c, side, names) for c in column)
            continue
        values[side] = _column(row, column, side, names)
    return Example(**values)


def _column(row, column, side, names):
    index = names.index(column) if isinstance(column, str) else column
    if not -len(row) <= index < len(row):
        raise BadLine(f"no column {column} for the {side}: the line has {len(row)} columns")
    return _field(row[index], side)


def _resolve_header(spec, number, header, columns):
    for side, column in columns.items():
        if isinstance(column, str) and column not in header:
            raise DataError(f"{spec}:{number}: columns.{side} names {column!r}, not in the header {header}")
    return header


def _read_delimited(specs, opts, report, split, fixed_width=True):
    for spec in specs:
        header, width = None, None
        for number, row in split(spec):
            if row is None:
                continue
            if not any(field.strip() for field in row):
                report.empty_lines += 1
                continue
            if opts.header and header is None:
                header = _resolve_header(spec, number, row, opts.columns)
                width = len(row)
                continue
            try:
                if fixed_width:
                    width = width or len(row)
                    if len(row) != width:
                        raise BadLine(f"expected {width} columns, found {len(row)}")
                yield _pick(row, opts.columns, header, f"{_short(spec)}:{number}")
            except BadLine as reason:
                bad_line(f"{spec}:{number}: {reason}", opts, report)


def _read_tsv(specs, opts, report, fixed_width=True):
    delimiter = opts.delimiter or "\t"

    def split(spec):
        for number, line in read_lines(spec, opts, report):
            yield number, None if line is None else line.split(delimiter)

    return _read_delimited(specs, opts, report, split, fixed_width)


def _read_csv(specs, opts, report):
    def split(spec):
        where = [0]

        def text():
            for number, line in read_lines(spec, opts, report):
                if line is not None:
                    where[0] = number
                    yield line + "\n"

        rows = csv.reader(text(), delimiter=opts.delimiter or ",")
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as error:
                bad_line(f"{spec}:{where[0]}: {error}", opts, report)
                continue
            yield where[0], row

    return _read_delimited(specs, opts, report, split)


def _read_parallel(specs, opts, report):
    return _read_tsv(specs, opts, report, fixed_width=False)


def read_aligned(source_spec, target_spec, opts, report):
    end = object()
    pairs = itertools.zip_longest(read_lines(source_spec, opts, report), read_lines(target_spec, opts, report), fillvalue=end)
    count = 0
    for source, target in pairs:
        if source is end or target is end:
            longer, shorter = (target_spec, source_spec) if source is end else (source_spec, target_spec)
            raise DataError(
                f"{source_spec} and {target_spec} differ in length: {shorter} ends after line {count} "
                f"while {longer} goes on"
            )
        count += 1
        (number, source_line), (_, target_line) = source, target
        if source_line is None or target_line is None:
            continue
        if not source_line.strip() and not target_line.strip():
            report.empty_lines += 1
            continue
        if not source_line.strip() or not target_line.strip():
            empty = source_spec if not source_line.strip() else target_spec
            bad_line(f"{empty}:{number}: empty line where the other file has text", opts, report)
            continue
        yield Example(source_line.strip(), target_line.strip(), origin=f"{_short(source_spec)}:{number}")


def _read_jsonl(specs, opts, report):
    for spec in specs:
        for number, line in read_lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            try:
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError) as error:
                    raise BadLine(f"not valid JSON: {str(error)[:80]}") from None
                if not isinstance(row, dict):
                    raise BadLine("expected a JSON object")
                yield _pick(row, opts.columns, origin=f"{_short(spec)}:{number}")
            except BadLine as reason:
                bad_line(f"{spec}:{number}: {reason}", opts, report)


def _sentences(spec, opts, report, comment):
    """Yields a file's sentences, each a list of `(line_number, line)`; blank lines end them.

    Lines for which `comment(line)` holds are counted and left out; a
    sentence with an undecodable line (already reported) is dropped whole.
    """
    rows, broken = [], False
    for number, line in itertools.chain(read_lines(spec, opts, report), [(None, "")]):
        if line is None:
            broken = True
            continue
        if comment(line):
            report.comment_lines += 1
            continue
        if line.strip():
            rows.append((number, line))
            continue
        if rows and not broken:
            yield rows
        elif not rows and not broken and number is not None:
            report.empty_lines += 1
        rows, broken = [], False


def _bad_sentence(spec, error, opts, report):
    line_number, reason = error.args
    # Only a skipped sentence is said to be skipped: an error stops the run.
    skipped = "; sentence skipped" if opts.on_bad_line == "skip" else ""
    bad_line(f"{spec}:{line_number}: {reason}{skipped}", opts, report)


def _read_conll(specs, opts, report):
    columns = {side: c for side, c in opts.columns.items() if c is not None}
    for spec in specs:
        for rows in _sentences(spec, opts, report, lambda line: line.startswith("-DOCSTART-")):
            try:
                yield _conll_sentence(rows, columns, opts.delimiter)
            except BadLine as error:
                if rows[0][1].startswith("#"):
                    number, reason = error.args
                    error = BadLine(number, f"{reason} (a CoNLL-U file? read it with format: conllu)")
                _bad_sentence(spec, error, opts, report)


def _conll_sentence(rows, columns, delimiter):
    rows = [(number, line.split(delimiter) if delimiter else line.split()) for number, line in rows]
    width = len(rows[0][1])
    picked = []
    for number, fields in rows:
        if len(fields) != width:
            raise BadLine(number, f"{len(fields)} columns where the sentence's first line has {width}")
        try:
            picked.append(_pick(fields, columns))
        except BadLine as error:
            raise BadLine(number, str(error)) from None
    return Example(**{side: tuple(getattr(example, side) for example in picked) for side in columns})


# CoNLL-U's ten columns (universaldependencies.org/format.html), by name.
CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
# A space inside a CoNLL-U token (allowed in FORM and LEMMA) becomes this, so
# the token stays one token when a tokenizer splits the sentence on spaces.
SPACE_IN_TOKEN = "\u2581"
_WORD_ID = re.compile(r"^[1-9][0-9]*$")
_RANGE_ID = re.compile(r"^[1-9][0-9]*-[1-9][0-9]*$")
_EMPTY_ID = re.compile(r"^[0-9]+\.[1-9][0-9]*$")
_SPACES = re.compile(r"\s+")


def _read_conllu(specs, opts, report):
    columns = {side: c for side, c in opts.columns.items() if c is not None}
    for spec in specs:
        words, unspecified, first = 0, dict.fromkeys(columns, 0), None
        for rows in _sentences(spec, opts, report, lambda line: line.startswith("#")):
            try:
                tokens = _conllu_tokens(rows, opts)
                example = Example(**{
                    side: tuple(_conllu_value(fields, column, side, number) for number, fields in tokens)
                    for side, column in columns.items()
                })
            except BadLine as error:
                _bad_sentence(spec, error, opts, report)
                continue
            first = first or tokens[0][0]
            words += len(tokens)
            for side, column in columns.items():
                unspecified[side] += sum(_conllu_unspecified(fields, column) for _, fields in tokens)
            yield example
        for side, count in unspecified.items():
            if words and count == words:
                raise DataError(
                    f"{spec}:{first}: columns -> {side} reads {_conllu_name(columns[side])}, which is _ "
                    "(unspecified) on every word of the file; choose another column"
                )


def _conllu_tokens(rows, opts):
    """The `(line_number, fields)` of a sentence's tokens, ranges and empty nodes left out unless kept."""
    tokens = []
    for number, line in rows:
        fields = line.split("\t")
        if len(fields) != len(CONLLU_COLUMNS):
            raise BadLine(number, f"expected {len(CONLLU_COLUMNS)} tab-separated columns, found {len(fields)}")
        word_id = fields[0]
        if _RANGE_ID.match(word_id):
            if opts.multiword_tokens:
                tokens.append((number, fields))
        elif _EMPTY_ID.match(word_id):
            if opts.empty_nodes:
                tokens.append((number, fields))
        elif _WORD_ID.match(word_id):
            tokens.append((number, fields))
        else:
            raise BadLine(number, f"{word_id[:20]!r} is not a word ID (7), a range (3-4) or an empty node (8.1)")
    if not tokens:
        raise BadLine(rows[0][0], "the sentence has no words")
    return tokens


def _conllu_value(fields, column, side, number):
    if isinstance(column, list):
        return FACTOR_SEPARATOR.join(_conllu_value(fields, c, side, number) for c in column)
    value = _SPACES.sub(SPACE_IN_TOKEN, fields[column].strip())
    if not value:
        raise BadLine(number, f"the {side} ({_conllu_name(column)}) is empty; CoNLL-U writes _ for none")
    return value


def _conllu_unspecified(fields, column):
    return all(fields[c] == "_" for c in (column if isinstance(column, list) else [column]))


def _conllu_name(column):
    return "+".join(CONLLU_COLUMNS[c] for c in column) if isinstance(column, list) else CONLLU_COLUMNS[column]


READERS = {
    "text": _read_text,
    "tsv": _read_tsv,
    "csv": _read_csv,
    "jsonl": _read_jsonl,
    "label_sentence": _read_label_sentence,
    "conll": _read_conll,
    "conllu": _read_conllu,
    "parallel": _read_parallel,
    "folder": _read_folder,
    "cmudict": _read_cmudict,
}
