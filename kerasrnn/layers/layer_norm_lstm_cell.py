"""Cell of the layer-normalized LSTM."""

import keras

from kerasrnn.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="kerasrnn")
class LayerNormLSTMCell(LSTMCell):
    """One step of an LSTM with layer normalization.

    The input projection `x W` and the recurrent projection `h U` are each
    normalized over all gate blocks together (a learned scale, no shift:
    the cell's `bias` plays that role), and the cell state is normalized
    (scale and shift) before the output activation. The recurrence carries
    the unnormalized cell state.

    Args:
        units: Positive integer, width of the cell state.
        epsilon: Small float added to the variance. Default `1e-3`.
        **kwargs: The arguments of `LSTMCell` (peephole, coupled_gates,
            projection_units, ...).

    Example:

    >>> cell = LayerNormLSTMCell(4)
    >>> states = [keras.ops.zeros((2, 4)), keras.ops.zeros((2, 4))]
    >>> output, states = cell(keras.ops.ones((2, 3)), states)
    >>> tuple(output.shape)
    (2, 4)

    Reference:
        Ba et al., "Layer Normalization", 2016.
    """

    def __init__(self, units, epsilon=1e-3, **kwargs):
        super().__init__(units, **kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(
                f"Argument `epsilon` must be a positive float. Received: epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        norm = dict(epsilon=self.epsilon, dtype=self.dtype_policy)
        self.input_norm = keras.layers.LayerNormalization(center=False, name="input_norm", **norm)
        self.recurrent_norm = keras.layers.LayerNormalization(
            center=False, name="recurrent_norm", **norm
        )
        self.cell_norm = keras.layers.LayerNormalization(name="cell_norm", **norm)

    def build(self, input_shape):
        super().build(input_shape)
        width = self.num_gates * self.units
        self.input_norm.build((None, width))
        self.recurrent_norm.build((None, width))
        self.cell_norm.build((None, self.units))

    def normalize_input(self, x):
        return self.input_norm(x)

    def normalize_recurrent(self, x):
        return self.recurrent_norm(x)

    def normalize_cell(self, c):
        return self.cell_norm(c)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
