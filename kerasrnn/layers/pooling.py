"""Pooling over the real (unmasked) steps of a sequence."""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="kerasrnn")
class MaskedMaxPooling1D(keras.layers.Layer):
    """Maximum over the unmasked steps of a sequence.

    `keras.layers.GlobalMaxPooling1D` lets padded steps take part in the
    maximum; here padded steps never win it, and a row with no real step
    gives zeros.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: A 3D tensor `(batch, steps, features)`.
        mask: Optional boolean tensor `(batch, steps)`; without one every
            step counts.

    The output `(batch, features)` carries no mask.

    Example:

    >>> x = keras.ops.convert_to_tensor([[[1.0], [5.0], [2.0]]])
    >>> mask = keras.ops.convert_to_tensor([[True, False, True]])
    >>> float(MaskedMaxPooling1D()(x, mask=mask)[0, 0])
    2.0
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1)
        keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
        # The lowest float16, so the fill stays finite under mixed precision.
        lowest = ops.full_like(inputs, float(np.finfo(np.float16).min))
        best = ops.max(ops.where(keep, inputs, lowest), axis=1)
        return ops.where(ops.any(keep, axis=1), best, ops.zeros_like(best))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])
