"""Character CNN: a vector for every word from its spelling."""

import keras


@keras.saving.register_keras_serializable(package="kerasrnn")
class CharCNN(keras.layers.Layer):
    """`(batch, steps, chars)` character ids -> `(batch, steps, filters)` word vectors.

    Each word's characters are embedded, convolved (`tanh`) and max-pooled
    over the word: a vector for every word, seen in training or not, from
    its spelling. Character id 0 is padding: it reads as zeros, so a word's
    vector does not depend on the width of its batch, and it never wins the
    pooling; a word with no characters (a padded step) gets zeros.

    Args:
        chars: Positive integer, size of the character vocabulary.
        filters: Positive integer, size of each word vector.
        dim: Character embedding size. Default `25`.
        width: Convolution width in characters. Default `3`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        ids: Integer tensor `(batch, steps, chars)`, 0 for padding.

    The layer takes no mask and gives none: padding is read from id 0.

    Example:

    >>> layer = CharCNN(30, 8)
    >>> tuple(layer(np.ones((2, 5, 7), "int32")).shape)
    (2, 5, 8)

    Reference:
        Ma and Hovy, "End-to-end Sequence Labeling via Bi-directional
        LSTM-CNNs-CRF", 2016.
    """

    def __init__(self, chars, filters, dim=25, width=3, **kwargs):
        super().__init__(**kwargs)
        self.chars, self.filters, self.dim, self.width = chars, filters, dim, width
        # The parts compute in this layer's dtype policy, not the global one, so a
        # layer given its own policy (or made float32 for inference) stays consistent.
        self.embedding = keras.layers.Embedding(chars, dim, dtype=self.dtype_policy, name="embedding")
        self.conv = keras.layers.Conv1D(
            filters, width, padding="same", activation="tanh", dtype=self.dtype_policy, name="conv"
        )

    def build(self, input_shape):
        self.embedding.build((None, None))
        self.conv.build((None, None, self.dim))

    def call(self, ids):
        shape = keras.ops.shape(ids)
        words = keras.ops.reshape(ids, (-1, shape[2]))
        real = keras.ops.expand_dims(words > 0, -1)
        # Padding reads as zeros, as past the word's ends, however wide the batch.
        embedded = self.embedding(words) * keras.ops.cast(real, self.compute_dtype)
        # tanh is above -1, so padding (-2) never wins; a word without characters gets 0.
        pooled = keras.ops.max(keras.ops.where(real, self.conv(embedded), -2.0), axis=1)
        pooled = keras.ops.where(keras.ops.any(real, axis=1), pooled, 0.0)
        return keras.ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.filters)

    def get_config(self):
        return {**super().get_config(), "chars": self.chars, "filters": self.filters,
                "dim": self.dim, "width": self.width}
