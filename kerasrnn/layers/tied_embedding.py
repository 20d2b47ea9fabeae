"""Embedding whose matrix is also the output layer (weight tying)."""

import keras


@keras.saving.register_keras_serializable(package="kerasrnn")
class TiedEmbedding(keras.layers.Layer):
    """An embedding that can also project vectors back onto the vocabulary.

    `layer(ids)` looks tokens up; `layer(vectors, reverse=True)` returns
    `vectors @ embeddings.T + output_bias`, logits over the vocabulary, so
    the input and output layers share one matrix.

    Args:
        input_dim: Positive integer, vocabulary size.
        output_dim: Positive integer, embedding size.
        embeddings_initializer: Initializer of the `(input_dim, output_dim)`
            matrix. Default `"uniform"`, as `keras.layers.Embedding`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: Token ids of any shape, or with `reverse=True` vectors
            `(..., output_dim)`.
        reverse: Whether to project vectors onto the vocabulary instead of
            looking ids up. Default `False`.

    The layer neither makes nor reads a mask: id 0 is embedded like any
    other id (use it next to a masking embedding or a `Masking` layer).

    Example:

    >>> layer = TiedEmbedding(10, 4)
    >>> tuple(layer(np.zeros((2, 3), "int32")).shape)
    (2, 3, 4)
    >>> tuple(layer(np.zeros((2, 3, 4), "float32"), reverse=True).shape)
    (2, 3, 10)

    Reference:
        Press and Wolf, "Using the Output Embedding to Improve Language
        Models", 2017.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Argument `{name}` must be a positive integer. Received: {name}={value!r}")
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
        )
        self.output_bias = self.add_weight(
            shape=(self.input_dim,), initializer="zeros", name="output_bias"
        )

    def call(self, inputs, reverse=False):
        if not reverse:
            return keras.ops.take(self.embeddings, keras.ops.cast(inputs, "int32"), axis=0)
        logits = keras.ops.matmul(
            inputs, keras.ops.transpose(keras.ops.cast(self.embeddings, inputs.dtype))
        )
        return logits + keras.ops.cast(self.output_bias, logits.dtype)

    def compute_output_spec(self, inputs, reverse=False):
        if reverse:
            shape = tuple(inputs.shape[:-1]) + (self.input_dim,)
        else:
            shape = tuple(inputs.shape) + (self.output_dim,)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        }
