"""Readers that stream data files as `Example`s.

`read_examples(paths, fmt, options)` reads plain, gzip-compressed (`.gz`) or
zipped files (`archive.zip` with a single file in it, or
`archive.zip:member.txt`), one line at a time. Bad input raises `DataError`
naming the file and line, or with `on_bad_line: skip` is skipped and counted
in a `ReadReport`.

Example:

>>> report = ReadReport()
>>> for example in read_examples("g014b2b.train", "cmudict", report=report):
...     print(example)  # doctest: +SKIP
Example(source='aaa', target='T R IH P AH L EY', key='aaa')
"""

import contextlib
import csv
import dataclasses
import glob
import gzip
import itertools
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator

from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import FACTOR_SEPARATOR, Example

FORMATS = ("text", "tsv", "csv", "jsonl", "label_sentence", "conll", "parallel", "folder", "cmudict")

# Default `columns` per format; formats missing here take no columns.
DEFAULT_COLUMNS = {
    "tsv": {"source": 0, "target": 1},
    "csv": {"source": 0, "target": 1},
    "parallel": {"source": 0, "target": 1},
    "jsonl": {"source": "source", "target": "target"},
    "conll": {"source": 0, "target": -1},
}
OPTION_DEFAULTS = {
    "columns": None,
    "delimiter": None,
    "header": False,
    "on_bad_line": "error",
    "strip_stress": True,
    "encoding": "utf-8",
    "limit": None,
}
MAX_REASONS = 5

_ZIP_MEMBER = re.compile(r"^(.+\.zip):([^/\\].*)$", re.IGNORECASE)
_CMUDICT_ALTERNATE = re.compile(r"\(\d+\)$")
_CMUDICT_PHONE = re.compile(r"^[A-Za-z]+[0-9]?$")
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile)


@dataclasses.dataclass
class ReadReport:
    """Counts filled in while reading, to tell the user what was read.

    Attributes:
        files: files opened.
        lines: lines decoded.
        examples: examples yielded.
        empty_lines: blank lines ignored.
        comment_lines: comment or `-DOCSTART-` lines ignored.
        skipped: bad lines (or CoNLL sentences) skipped under `on_bad_line: skip`.
        reasons: the first `MAX_REASONS` skip messages.
        truncated: reading stopped early at the `limit` option.
    """

    files: int = 0
    lines: int = 0
    examples: int = 0
    empty_lines: int = 0
    comment_lines: int = 0
    skipped: int = 0
    reasons: list[str] = dataclasses.field(default_factory=list)
    truncated: bool = False

    def skip(self, reason):
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)

    def summary(self):
        """Returns a short, human-readable account of the read."""
        files = "file" if self.files == 1 else "files"
        text = f"{self.examples} examples from {self.files} {files}"
        if self.truncated:
            text += " (stopped at the limit)"
        if self.empty_lines:
            text += f"; {self.empty_lines} empty lines ignored"
        if self.comment_lines:
            text += f"; {self.comment_lines} comment lines ignored"
        if self.skipped:
            text += f"; {self.skipped} bad lines skipped, first: " + " | ".join(self.reasons)
        return text


@dataclasses.dataclass(frozen=True)
class _Options:
    columns: dict
    delimiter: str | None
    header: bool
    on_bad_line: str
    strip_stress: bool
    encoding: str
    limit: int | None


class _BadLine(Exception):
    """A reason a single line (or sentence) cannot be read."""


def read_examples(paths, fmt, options=None, report=None) -> Iterator[Example]:
    """Streams the examples of data files.

    Args:
        paths: a path, a glob, or a list of them. `.gz` files are decompressed;
            `archive.zip` reads its single file and `archive.zip:name` the
            named one. For `parallel`, a list of two files is an aligned
            source/target pair; for `folder`, folders are expanded to files.
        fmt: one of `FORMATS`.
        options: reader options (the recipe's `data` section); keys outside
            `OPTION_DEFAULTS` are ignored. See `OPTION_DEFAULTS` and
            `DEFAULT_COLUMNS` for the defaults.
        report: a `ReadReport` to fill in while reading.

    Returns:
        An iterator of `Example`s. Option and path errors raise `DataError`
        at once; errors in the data raise when the reader gets there.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; known formats: {', '.join(FORMATS)}")
    opts = _parse_options(fmt, options or {})
    report = report if report is not None else ReadReport()
    if fmt == "parallel" and isinstance(paths, (list, tuple)) and len(paths) == 2:
        pair = [_expand_one(p) for p in paths]
        for side, files in zip(paths, pair):
            if len(files) != 1:
                raise DataError(f"{side}: an aligned parallel pair needs one file per side, found {len(files)}")
        examples = _read_aligned(pair[0][0], pair[1][0], opts, report)
    else:
        specs = _expand(paths, folders=fmt == "folder")
        examples = _READERS[fmt](specs, opts, report)
    return _counted(examples, opts, report)


def _counted(examples, opts, report):
    for example in examples:
        if opts.limit is not None and report.examples >= opts.limit:
            report.truncated = True
            return
        report.examples += 1
        yield example


def _parse_options(fmt, options):
    if not isinstance(options, dict):
        raise DataError(f"reader options must be a mapping, got {type(options).__name__}")
    values = {**OPTION_DEFAULTS, **{k: v for k, v in options.items() if k in OPTION_DEFAULTS}}
    if values["on_bad_line"] not in ("error", "skip"):
        raise DataError(f"on_bad_line must be 'error' or 'skip', got {values['on_bad_line']!r}")
    for name in ("header", "strip_stress"):
        if not isinstance(values[name], bool):
            raise DataError(f"{name} must be true or false, got {values[name]!r}")
    if values["delimiter"] is not None and (not isinstance(values["delimiter"], str) or not values["delimiter"]):
        raise DataError(f"delimiter must be a non-empty string, got {values['delimiter']!r}")
    limit = values["limit"]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise DataError(f"limit must be a non-negative integer, got {limit!r}")
    try:
        "\n".encode(values["encoding"])
    except (LookupError, TypeError):
        raise DataError(f"unknown encoding {values['encoding']!r}") from None
    values["columns"] = _parse_columns(fmt, values["columns"], values["header"])
    return _Options(**values)


def _parse_columns(fmt, columns, header):
    defaults = DEFAULT_COLUMNS.get(fmt)
    if columns is None or defaults is None:
        return defaults
    if not isinstance(columns, dict) or "source" not in columns or set(columns) - {"source", "target", "key"}:
        raise DataError(f"columns must be a mapping with 'source' and optional 'target' and 'key', got {columns!r}")
    for side, value in columns.items():
        if value is None and side != "source":
            continue
        if side == "source" and isinstance(value, list) and fmt != "jsonl":
            if not value or any(isinstance(v, bool) or not isinstance(v, (int, str)) for v in value):
                raise DataError(f"columns.source must be column indexes or header names, got {value!r}")
            continue
        if fmt == "jsonl":
            if not isinstance(value, str):
                raise DataError(f"columns.{side} must be a JSON field name for jsonl, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, str)):
            raise DataError(f"columns.{side} must be a column index or header name, got {value!r}")
        elif isinstance(value, str) and not header:
            raise DataError(f"columns.{side} is the name {value!r}: naming columns needs header: true")
    return {"target": None, **columns}


# Paths and opening files.


def _expand(paths, folders=False):
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise DataError("no data files given")
    specs = []
    for path in paths:
        for spec in _expand_one(path, folders):
            if not folders and os.path.isdir(spec):
                raise DataError(f"{spec}: is a folder; name its files, e.g. {os.path.join(spec, '*.txt')}")
            specs.append(spec)
    return specs


def _expand_one(path, folders=False):
    path = os.path.expanduser(os.fspath(path))
    member = _ZIP_MEMBER.match(path)
    if member:
        if not os.path.isfile(member.group(1)):
            raise DataError(f"{member.group(1)}: no such file")
        return [path]
    if glob.has_magic(path):
        found = sorted(p for p in glob.glob(path) if os.path.isfile(p))
        if not found:
            raise DataError(f"{path}: no files match this pattern")
        return found
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or folder")
    if folders and os.path.isdir(path):
        found = sorted(
            os.path.join(path, name)
            for name in os.listdir(path)
            if not name.startswith(".") and os.path.isfile(os.path.join(path, name))
        )
        if not found:
            raise DataError(f"{path}: the folder holds no files")
        return found
    return [path]


@contextlib.contextmanager
def _open_binary(spec):
    with contextlib.ExitStack() as stack:
        member = _ZIP_MEMBER.match(spec)
        if member or spec.lower().endswith(".zip"):
            archive_path = member.group(1) if member else spec
            archive = stack.enter_context(zipfile.ZipFile(archive_path))
            if member:
                name = member.group(2)
                if name not in archive.namelist():
                    raise DataError(f"{archive_path}: no file {name!r} in the archive; it holds {_members(archive)}")
            else:
                names = _members(archive)
                if len(names) != 1:
                    raise DataError(
                        f"{spec}: the archive holds {len(names)} files ({', '.join(names)}); "
                        f"name one as {spec}:NAME"
                    )
                name = names[0]
            yield stack.enter_context(archive.open(name))
        elif spec.lower().endswith(".gz"):
            yield stack.enter_context(gzip.open(spec, "rb"))
        else:
            yield stack.enter_context(open(spec, "rb"))


def _members(archive):
    return [i.filename for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]


def _lines(spec, opts, report):
    """Yields `(line_number, text)`; `text` is None for a skipped undecodable line."""
    report.files += 1
    try:
        with _open_binary(spec) as stream:
            offset = 0
            for number, raw in enumerate(stream, 1):
                start = offset
                offset += len(raw)
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                    start += 3
                raw = raw.rstrip(b"\r\n")
                try:
                    text = raw.decode(opts.encoding)
                except UnicodeDecodeError as error:
                    encoding = "UTF-8" if opts.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else opts.encoding
                    _bad(
                        f"{spec}:{number}:{start + error.start}: invalid {encoding} byte 0x{raw[error.start]:02x}",
                        opts,
                        report,
                    )
                    yield number, None
                    continue
                report.lines += 1
                yield number, text
    except _READ_ERRORS as error:
        raise DataError(f"{spec}: cannot read the file: {error}") from None


def _bad(message, opts, report):
    if opts.on_bad_line == "error":
        raise DataError(message)
    report.skip(message)


# The formats.


def _read_text(specs, opts, report):
    for spec in specs:
        for _, line in _lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            yield Example(line)


def _read_label_sentence(specs, opts, report):
    for spec in specs:
        for number, line in _lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            parts = line.split(opts.delimiter, 1) if opts.delimiter else line.split(None, 1)
            if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
                _bad(f"{spec}:{number}: expected a label, then a sentence", opts, report)
                continue
            yield Example(parts[1].strip(), parts[0].strip())


def _read_folder(specs, opts, report):
    for spec in specs:
        member = _ZIP_MEMBER.match(spec)
        name = os.path.basename(member.group(2) if member else spec)
        label = os.path.splitext(name[:-3] if name.lower().endswith(".gz") else name)[0]
        for _, line in _lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            yield Example(line.strip(), label)


def _read_cmudict(specs, opts, report):
    for spec in specs:
        for number, line in _lines(spec, opts, report):
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
                    raise _BadLine("expected a word, then its phones")
                for phone in phones:
                    if not _CMUDICT_PHONE.match(phone):
                        raise _BadLine(f"{phone!r} is not a phone")
            except _BadLine as reason:
                _bad(f"{spec}:{number}: {reason}", opts, report)
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
            raise _BadLine(f"the {side} is empty")
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _BadLine(f"the {side} is not text: {json.dumps(value)[:40]}")


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
                raise _BadLine(f"no field {column!r}")
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
        raise _BadLine(f"no column {column} for the {side}: the line has {len(row)} columns")
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
                        raise _BadLine(f"expected {width} columns, found {len(row)}")
                yield _pick(row, opts.columns, header, f"{_short(spec)}:{number}")
            except _BadLine as reason:
                _bad(f"{spec}:{number}: {reason}", opts, report)


def _read_tsv(specs, opts, report, fixed_width=True):
    delimiter = opts.delimiter or "\t"

    def split(spec):
        for number, line in _lines(spec, opts, report):
            yield number, None if line is None else line.split(delimiter)

    return _read_delimited(specs, opts, report, split, fixed_width)


def _read_csv(specs, opts, report):
    def split(spec):
        where = [0]

        def text():
            for number, line in _lines(spec, opts, report):
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
                _bad(f"{spec}:{where[0]}: {error}", opts, report)
                continue
            yield where[0], row

    return _read_delimited(specs, opts, report, split)


def _read_parallel(specs, opts, report):
    return _read_tsv(specs, opts, report, fixed_width=False)


def _read_aligned(source_spec, target_spec, opts, report):
    end = object()
    pairs = itertools.zip_longest(_lines(source_spec, opts, report), _lines(target_spec, opts, report), fillvalue=end)
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
            _bad(f"{empty}:{number}: empty line where the other file has text", opts, report)
            continue
        yield Example(source_line.strip(), target_line.strip(), origin=f"{_short(source_spec)}:{number}")


def _read_jsonl(specs, opts, report):
    for spec in specs:
        for number, line in _lines(spec, opts, report):
            if line is None:
                continue
            if not line.strip():
                report.empty_lines += 1
                continue
            try:
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError) as error:
                    raise _BadLine(f"not valid JSON: {str(error)[:80]}") from None
                if not isinstance(row, dict):
                    raise _BadLine("expected a JSON object")
                yield _pick(row, opts.columns, origin=f"{_short(spec)}:{number}")
            except _BadLine as reason:
                _bad(f"{spec}:{number}: {reason}", opts, report)


def _read_conll(specs, opts, report):
    columns = {side: c for side, c in opts.columns.items() if c is not None}
    for spec in specs:
        rows, broken = [], False
        for number, line in itertools.chain(_lines(spec, opts, report), [(None, "")]):
            if line is None:
                broken = True  # already reported; drop the sentence it belongs to
                continue
            if line.startswith("-DOCSTART-"):
                report.comment_lines += 1
                continue
            if line.strip():
                rows.append((number, line.split(opts.delimiter) if opts.delimiter else line.split()))
                continue
            if rows and not broken:
                try:
                    yield _conll_sentence(rows, columns)
                except _BadLine as error:
                    line_number, reason = error.args
                    _bad(f"{spec}:{line_number}: {reason}; sentence skipped", opts, report)
            elif not rows and not broken and number is not None:
                report.empty_lines += 1
            rows, broken = [], False


def _conll_sentence(rows, columns):
    width = len(rows[0][1])
    picked = []
    for number, fields in rows:
        if len(fields) != width:
            raise _BadLine(number, f"{len(fields)} columns where the sentence's first line has {width}")
        try:
            picked.append(_pick(fields, columns))
        except _BadLine as error:
            raise _BadLine(number, str(error)) from None
    return Example(**{side: tuple(getattr(example, side) for example in picked) for side in columns})


_READERS = {
    "text": _read_text,
    "tsv": _read_tsv,
    "csv": _read_csv,
    "jsonl": _read_jsonl,
    "label_sentence": _read_label_sentence,
    "conll": _read_conll,
    "parallel": _read_parallel,
    "folder": _read_folder,
    "cmudict": _read_cmudict,
}
