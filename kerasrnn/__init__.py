"""kerasrnn: recurrent text models in Keras 3, from recipe to phone.

`fit` trains a recipe, `load` opens a run folder or an export; both give a
`Model` with `predict`, `evaluate`, `sample`, `score` and `export`. Every
error a user can cause is a `KerasRNNError`. Importing the package
registers every layer with Keras, so a saved `.keras` model that uses them
loads with no `custom_objects`.
"""

import os
import sys

__version__ = "0.2.0"

# The command line keeps TensorFlow's start-up chatter off the user's screen.
if os.path.basename(sys.argv[0] if sys.argv else "") == "kerasrnn":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasrnn import layers  # noqa: E402,F401
from kerasrnn.api import Model, fit, load  # noqa: E402
from kerasrnn.errors import KerasRNNError  # noqa: E402

__all__ = ["KerasRNNError", "Model", "fit", "load", "__version__"]
