"""The SavedModel format: raw strings in, readable answers out.

Its `serving_default` is the builder's `serve_function` (tokenization,
vocabularies and decoding inside the graph); `tokenize` gives the ids an app
would feed the other signatures (`encode`/`step`, or `logits`).
"""

import os
import shutil

import tensorflow as tf

from kerasrnn.builders.graph import text_signature
from kerasrnn.export.signatures import functions


class _Serving(tf.Module):
    """The SavedModel's tracked state: models and lookup tables."""

    def __init__(self, vocabs, models):
        super().__init__()
        self.models = list(models)
        self.tables = [v.table() for v in vocabs.values()]


def signatures(builder, vocabs, models):
    """Every signature of the SavedModel, as concrete functions by name."""
    out = {
        name: tf.function(fn, input_signature=specs).get_concrete_function()
        for name, (fn, specs) in functions(builder, models, None, lite=False).items()
    }

    @tf.function(input_signature=text_signature())
    def tokenize(text):
        ids = builder.ids(builder.SIDES[0], vocabs, text)
        return {"tokens": ids.to_tensor(), "length": tf.cast(ids.row_lengths(), tf.int32)}

    out["serving_default"] = builder.serve_function(models, vocabs).get_concrete_function()
    out["tokenize"] = tokenize.get_concrete_function()
    return out


def save_savedmodel(builder, vocabs, models, folder):
    """Writes the SavedModel into `folder` (replaced if it exists); returns its signature names."""
    module = _Serving(vocabs, models)
    traced = signatures(builder, vocabs, models)
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tf.saved_model.save(module, tmp, signatures=traced)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return sorted(traced)
