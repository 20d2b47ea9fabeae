"""The error an export raises when it cannot be made."""

from kerasrnn.errors import KerasRNNError


class ExportError(KerasRNNError):
    """An export that cannot be made (a layer with no builtin TFLite form, ...)."""
