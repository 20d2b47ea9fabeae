"""The error raised for bad input data."""

from kerasrnn.errors import KerasRNNError


class DataError(KerasRNNError):
    """Bad input data, reported as one line the command line prints as is.

    The message says where and what: `PATH:LINE: what is wrong`, `PATH: what
    is wrong` for a whole file, or `PATH:LINE:COLUMN: invalid UTF-8 byte
    0xff` for undecodable bytes, where COLUMN counts characters from 1 within
    the line.
    """
