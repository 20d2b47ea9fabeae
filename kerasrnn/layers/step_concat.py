"""One vector per row joined to every step of a sequence."""

import keras


@keras.saving.register_keras_serializable(package="kerasrnn")
class StepConcat(keras.layers.Layer):
    """Joins one vector per row to every step of a sequence.

    A conditioned generator reads its condition at every step: the
    condition's vector is repeated along time and concatenated to each
    step's features.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[sequences (batch, time, features), vectors (batch, size)]`;
            the vectors are cast to the sequences' dtype.

    Returns:
        `(batch, time, features + size)`.

    The layer does not pass a mask on: a mask on the sequences stops here.

    Example:

    >>> tuple(StepConcat()([np.zeros((2, 5, 3)), np.ones((2, 4))]).shape)
    (2, 5, 7)
    """

    def call(self, inputs):
        sequences, vectors = inputs
        vectors = keras.ops.cast(vectors, sequences.dtype)
        steps = keras.ops.shape(sequences)[1]
        tiled = keras.ops.repeat(keras.ops.expand_dims(vectors, 1), steps, axis=1)
        return keras.ops.concatenate([sequences, tiled], axis=-1)

    def compute_output_shape(self, input_shape):
        sequences, vectors = input_shape
        return tuple(sequences[:-1]) + (sequences[-1] + vectors[-1],)
