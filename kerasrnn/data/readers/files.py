"""Opening data files (plain, `.gz`, `.zip` and `archive.zip:member`) and reading their lines.

Every line is decoded on its own, so an undecodable byte is reported with
its file, line and column, and with an encoding that reads the file where
one of a few common ones does; `ReadReport` counts what was read and what
was skipped.
"""

import codecs
import contextlib
import dataclasses
import glob
import gzip
import os
import re
import zipfile
import zlib

from kerasrnn.data.errors import DataError

# How many skip messages a `ReadReport` keeps.
MAX_REASONS = 5
ZIP_MEMBER = re.compile(r"^(.+\.zip):([^/\\].*)$", re.IGNORECASE)
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile)


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
class Options:
    columns: dict
    delimiter: str | None
    header: bool
    on_bad_line: str
    strip_stress: bool
    encoding: str
    multiword_tokens: bool
    empty_nodes: bool
    limit: int | None


class BadLine(Exception):
    """A reason a single line (or sentence) cannot be read."""


def expand_paths(paths, folders=False):
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise DataError("no data files given")
    specs = []
    for path in paths:
        for spec in expand_path(path, folders):
            if not folders and os.path.isdir(spec):
                raise DataError(f"{spec}: is a folder; name its files, e.g. {os.path.join(spec, '*.txt')}")
            specs.append(spec)
    return specs


def expand_path(path, folders=False):
    path = os.path.expanduser(os.fspath(path))
    member = ZIP_MEMBER.match(path)
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
def open_binary(spec):
    with contextlib.ExitStack() as stack:
        member = ZIP_MEMBER.match(spec)
        if member or spec.lower().endswith(".zip"):
            archive_path = member.group(1) if member else spec
            archive = stack.enter_context(zipfile.ZipFile(archive_path))
            if member:
                name = member.group(2)
                if name not in archive.namelist():
                    raise DataError(f"{archive_path}: no file {name!r} in the archive; it holds {archive_members(archive)}")
            else:
                names = archive_members(archive)
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


def archive_members(archive):
    return [i.filename for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]


def read_lines(spec, opts, report):
    """Yields `(line_number, text)`; `text` is None for a skipped undecodable line."""
    report.files += 1
    suggestion = None
    try:
        with open_binary(spec) as stream:
            for number, raw in enumerate(stream, 1):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                raw = raw.rstrip(b"\r\n")
                try:
                    text = raw.decode(opts.encoding)
                except UnicodeDecodeError as error:
                    if suggestion is None:
                        suggestion = suggest_encoding(spec, opts.encoding)
                    bad_line(
                        f"{spec}:{number}:{_column(raw, error, opts.encoding)}: invalid "
                        f"{_encoding_name(opts.encoding)} byte 0x{raw[error.start]:02x}{suggestion}",
                        opts,
                        report,
                    )
                    yield number, None
                    continue
                report.lines += 1
                yield number, text
    except READ_ERRORS as error:
        raise DataError(f"{spec}: cannot read the file: {error}") from None


def _encoding_name(encoding):
    return "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding


def _column(raw, error, encoding):
    """The 1-based column, in characters, of the byte that failed to decode."""
    try:
        return len(raw[: error.start].decode(encoding)) + 1
    except UnicodeDecodeError:
        return error.start + 1


# Tried in order when a file does not decode; latin-1 decodes any bytes at
# all, so it is offered last, and only for files with no NUL bytes (those are
# binary, or UTF-16, which a line-by-line reader cannot read).
CANDIDATE_ENCODINGS = ("utf-8", "cp1252", "latin-1")


def suggest_encoding(spec, encoding):
    """`"; set data.encoding: cp1252 ..."` naming an encoding that decodes the whole file, or `""`."""
    decoders = {name: codecs.getincrementaldecoder(name)() for name in CANDIDATE_ENCODINGS
                if codecs.lookup(name).name != codecs.lookup(encoding).name}
    high_controls = False  # bytes 0x80-0x9f: cp1252 letters and signs, latin-1 control codes
    try:
        with open_binary(spec) as stream:
            while decoders:
                chunk = stream.read(1 << 20)
                if b"\0" in chunk:
                    return ""
                high_controls = high_controls or any(0x80 <= byte <= 0x9F for byte in chunk)
                for name, decoder in list(decoders.items()):
                    try:
                        decoder.decode(chunk, final=not chunk)
                    except UnicodeDecodeError:
                        del decoders[name]
                if not chunk:
                    break
    except (DataError, *READ_ERRORS):
        return ""
    if "cp1252" in decoders and not high_controls:
        # The same text as cp1252 then; latin-1 is the name people know.
        decoders.pop("cp1252")
    for name in decoders:
        return f"; the file reads as {name}: set data.encoding: {name}"
    return ""


def bad_line(message, opts, report):
    if opts.on_bad_line == "error":
        raise DataError(message)
    report.skip(message)
