"""Errors the package reports to the user as one line each, without a traceback.

Every error a user can cause (a recipe, data, a path, an export that cannot
be made) is a `KerasRNNError`; the command line prints its message and exits
with its `exit_code`, and Python callers can catch the one class.
"""


class KerasRNNError(Exception):
    """Base class of kerasrnn's errors; the message is meant for the user as it is."""

    # The command line's exit code: 2 for a usage, recipe or input error, 1 for a failed job.
    exit_code = 2

    @property
    def lines(self):
        """The message, one problem per line."""
        return str(self).splitlines() or [type(self).__name__]


class RecipeError(KerasRNNError):
    """A recipe that cannot be used; `errors` holds one line per problem."""

    def __init__(self, errors, source=None):
        self.errors = list(errors)
        self.source = source
        super().__init__("\n".join(self.errors))
