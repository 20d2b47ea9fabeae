"""kerasrnn: recurrent text models in Keras 3, from recipe to phone.

`fit` trains a recipe, `load` opens a run folder or an export, `ensemble`
joins runs; each gives a
`Model` with `predict`, `evaluate`, `sample`, `score` and `export`. Every
error a user can cause is a `KerasRNNError`. Importing the package
registers every layer with Keras, so a saved `.keras` model that uses them
loads with no `custom_objects`.

The `kerasrnn` command is the exception: it starts TensorFlow only for the
commands that need it (see `kerasrnn.cli`), so `fit`, `load` and `Model`
are imported when first used there.
"""

import os
import sys

from kerasrnn.errors import KerasRNNError

__version__ = "0.2.0"
__all__ = ["KerasRNNError", "Model", "ensemble", "fit", "load", "__version__"]

COMMAND_LINE = os.path.basename(sys.argv[0] if sys.argv else "") == "kerasrnn"

if not COMMAND_LINE:
    from kerasrnn import layers  # noqa: F401
    from kerasrnn.api import Model, ensemble, fit, load


def __getattr__(name):
    # Reached only where the names above were not imported: in the command line.
    if name in ("Model", "ensemble", "fit", "load"):
        from kerasrnn import api

        return getattr(api, name)
    raise AttributeError(f"module 'kerasrnn' has no attribute {name!r}")
