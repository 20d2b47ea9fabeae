"""Reverses each row's real tokens, leaving padding where it is."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="kerasrnn")
class ReverseTokens(keras.layers.Layer):
    """Reads each row of token ids backwards, up to its own length.

    Sutskever et al. (2014) found that an encoder-decoder without attention
    learns much faster when it reads the source reversed: the first target
    words then sit close to the first source words in time. A row's real
    tokens (ids other than 0) are reversed in place; right padding stays at
    the end, so the layer's output is padded and masked like its input.

    Call arguments:
        ids: int tensor `(batch, time)`, right-padded with 0.

    Returns:
        The same shape and dtype: `[a, b, c, 0]` becomes `[c, b, a, 0]`.

    Example:

    >>> ReverseTokens()(np.array([[5, 6, 7, 0], [8, 9, 0, 0]])).numpy()
    array([[7, 6, 5, 0],
           [9, 8, 0, 0]])

    Reference:
        Sutskever, Vinyals and Le, "Sequence to Sequence Learning with
        Neural Networks", NeurIPS 2014.
    """

    def call(self, ids):
        lengths = tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1)
        return tf.reverse_sequence(ids, lengths, seq_axis=1, batch_axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape
