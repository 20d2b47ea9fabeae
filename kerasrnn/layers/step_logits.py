"""The logits of a one-step decoder, without their time axis."""

import keras


@keras.saving.register_keras_serializable(package="kerasrnn")
class StepLogits(keras.layers.Layer):
    """`(batch, 1, vocab)` logits of one step -> `(batch, vocab)`, mask dropped.

    A decoder rewired to read one token at a time still returns a sequence
    of one step; decoding wants that step's logits as a matrix.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        logits: A 3D tensor `(batch, steps, vocab)`; the last step is kept.

    A step has a single position, so the input's mask is dropped: nothing
    downstream needs it.

    Example:

    >>> tuple(StepLogits()(np.zeros((2, 1, 7))).shape)
    (2, 7)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, logits):
        return logits[:, -1]

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
