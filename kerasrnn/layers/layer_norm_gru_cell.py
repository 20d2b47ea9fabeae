"""Cell of the layer-normalized GRU."""

import keras

from kerasrnn.layers.gru_cell import GRUCell


@keras.saving.register_keras_serializable(package="kerasrnn")
class LayerNormGRUCell(GRUCell):
    """One step of a GRU with layer normalization.

    The input projection `x W` and the recurrent projection `h U` are each
    normalized over all three gate blocks together (a learned scale, no
    shift: the cell's `bias` plays that role). Only `reset_after=True` is
    supported, since the recurrent projection is then computed in one piece.

    Args:
        units: Positive integer, width of the state.
        epsilon: Small float added to the variance. Default `1e-3`.
        **kwargs: The arguments of `GRUCell`.

    Example:

    >>> cell = LayerNormGRUCell(4)
    >>> output, states = cell(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(output.shape)
    (2, 4)

    Reference:
        Ba et al., "Layer Normalization", 2016.
    """

    def __init__(self, units, epsilon=1e-3, **kwargs):
        super().__init__(units, **kwargs)
        if not self.reset_after:
            raise ValueError(
                "LayerNormGRUCell supports only `reset_after=True`. "
                f"Received: reset_after={self.reset_after!r}"
            )
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(
                f"Argument `epsilon` must be a positive float. Received: epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        norm = dict(epsilon=self.epsilon, center=False, dtype=self.dtype_policy)
        self.input_norm = keras.layers.LayerNormalization(name="input_norm", **norm)
        self.recurrent_norm = keras.layers.LayerNormalization(name="recurrent_norm", **norm)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_norm.build((None, 3 * self.units))
        self.recurrent_norm.build((None, 3 * self.units))

    def normalize_input(self, x):
        return self.input_norm(x)

    def normalize_recurrent(self, x):
        return self.recurrent_norm(x)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
