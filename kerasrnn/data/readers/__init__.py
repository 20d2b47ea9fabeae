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

import difflib
import os
from collections.abc import Iterator

from kerasrnn.data.errors import DataError
from kerasrnn.data.examples import Example
from kerasrnn.data.readers.files import Options, ReadReport, expand_path, expand_paths
from kerasrnn.data.readers.formats import CONLLU_COLUMNS, READERS, read_aligned

__all__ = ["CONLLU_COLUMNS", "DEFAULT_COLUMNS", "FORMATS", "OPTION_DEFAULTS", "RECIPE_OPTIONS", "ReadReport",
           "check_options", "guess_format", "read_examples", "recipe_options"]

# The formats, each with its reader in `formats.READERS`.
FORMATS = tuple(READERS)

# Default `columns` per format; formats missing here take no columns.
DEFAULT_COLUMNS = {
    "tsv": {"source": 0, "target": 1},
    "csv": {"source": 0, "target": 1},
    "parallel": {"source": 0, "target": 1},
    "jsonl": {"source": "source", "target": "target"},
    "conll": {"source": 0, "target": -1},
    "conllu": {"source": "form", "target": "upos"},
}
OPTION_DEFAULTS = {
    "columns": None,
    "delimiter": None,
    "header": False,
    "on_bad_line": "error",
    "strip_stress": True,
    "encoding": "utf-8",
    "multiword_tokens": False,
    "empty_nodes": False,
    "limit": None,
}
# The recipe's `data` keys that are reader options.
RECIPE_OPTIONS = tuple(key for key in OPTION_DEFAULTS if key != "limit")
# The format `auto` reads for a file name's extension (after any `.gz`); others are `text`.
EXTENSIONS = {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".conll": "conll", ".conllu": "conllu"}


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
    opts = check_options(fmt, options)
    report = report if report is not None else ReadReport()
    if fmt == "parallel" and isinstance(paths, (list, tuple)) and len(paths) == 2:
        pair = [expand_path(p) for p in paths]
        for side, files in zip(paths, pair):
            if len(files) != 1:
                raise DataError(f"{side}: an aligned parallel pair needs one file per side, found {len(files)}")
        examples = read_aligned(pair[0][0], pair[1][0], opts, report)
    else:
        specs = expand_paths(paths, folders=fmt == "folder")
        examples = READERS[fmt](specs, opts, report)
    return _counted(examples, opts, report)


def check_options(fmt, options=None):
    """Checks a format's reader options and returns them resolved.

    Raises:
        DataError: an unknown format, or an option it cannot use; the message
            names the option, e.g. `columns -> target: 'upox' is not a
            CoNLL-U column (did you mean 'upos'?)`.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return _parse_options(fmt, {} if options is None else options)


def guess_format(paths):
    """The format `auto` reads a file in, from its name: `train.conllu.gz` -> `conllu`."""
    first = paths[0] if isinstance(paths, (list, tuple)) else paths
    name = os.fspath(first).lower().removesuffix(".gz")
    return EXTENSIONS.get(os.path.splitext(name)[1], "text")


def recipe_options(data, catalog_options=None):
    """The reader options of a recipe's `data` section, over a catalog data set's own.

    A catalog option stays unless the recipe sets that key to something other
    than its default.
    """
    options = dict(catalog_options or {})
    for key in RECIPE_OPTIONS:
        if key in data and (key not in options or data[key] != OPTION_DEFAULTS[key]):
            options[key] = data[key]
    return options


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
        raise DataError(f"on_bad_line: must be error or skip, got {values['on_bad_line']!r}")
    for name in ("header", "strip_stress", "multiword_tokens", "empty_nodes"):
        if not isinstance(values[name], bool):
            raise DataError(f"{name}: must be true or false, got {values[name]!r}")
    if values["delimiter"] is not None and (not isinstance(values["delimiter"], str) or not values["delimiter"]):
        raise DataError(f"delimiter: must be a non-empty string, got {values['delimiter']!r}")
    limit = values["limit"]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise DataError(f"limit: must be a non-negative integer, got {limit!r}")
    try:
        "\n".encode(values["encoding"])
    except (LookupError, TypeError):
        raise DataError(f"encoding: unknown encoding {values['encoding']!r}") from None
    values["columns"] = _parse_columns(fmt, values["columns"], values["header"])
    return Options(**values)


def _parse_columns(fmt, columns, header):
    defaults = DEFAULT_COLUMNS.get(fmt)
    if columns is not None and defaults is None:
        raise DataError(
            f"columns: the {fmt} format has no columns to choose; "
            f"formats with columns: {', '.join(DEFAULT_COLUMNS)}"
        )
    if columns is None:
        return _conllu_columns(defaults) if fmt == "conllu" else defaults
    if not isinstance(columns, dict) or "source" not in columns or set(columns) - {"source", "target", "key"}:
        raise DataError(f"columns: must be a mapping with source and optional target and key, got {columns!r}")
    for side, value in columns.items():
        if value is None and side != "source":
            continue
        if fmt == "conllu":
            continue
        if side == "source" and isinstance(value, list) and fmt != "jsonl":
            if not value or any(isinstance(v, bool) or not isinstance(v, (int, str)) for v in value):
                raise DataError(f"columns -> source: must be column indexes or header names, got {value!r}")
            continue
        if fmt == "jsonl":
            if not isinstance(value, str):
                raise DataError(f"columns -> {side}: must be a JSON field name for jsonl, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, str)):
            raise DataError(f"columns -> {side}: must be a column index or header name, got {value!r}")
        elif isinstance(value, str) and not header:
            raise DataError(f"columns -> {side}: {value!r} is a name, and naming columns needs header: true")
    columns = {"target": None, **columns}
    return _conllu_columns(columns) if fmt == "conllu" else columns


def _conllu_columns(columns):
    return {side: _conllu_column(side, value) for side, value in columns.items()}


def _conllu_column(side, value):
    """A CoNLL-U column by name (`upos`) or number (0-9), as its index; a list for factors."""
    if value is None:
        if side == "source":
            raise DataError("columns -> source: missing; name a CoNLL-U column, e.g. form")
        return None
    if isinstance(value, list) and side == "source" and value:
        return [_conllu_column(side, v) for v in value]
    if isinstance(value, str) and value.lower() in CONLLU_COLUMNS:
        return CONLLU_COLUMNS.index(value.lower())
    if isinstance(value, int) and not isinstance(value, bool) and -len(CONLLU_COLUMNS) <= value < len(CONLLU_COLUMNS):
        return value % len(CONLLU_COLUMNS)
    match = difflib.get_close_matches(str(value).lower(), CONLLU_COLUMNS, n=1, cutoff=0.6)
    hint = f" (did you mean '{match[0]}'?)" if match else ""
    raise DataError(
        f"columns -> {side}: {value!r} is not a CoNLL-U column{hint}; "
        f"name one of {', '.join(CONLLU_COLUMNS)} or give its number, 0 to 9"
    )
