"""Cell of the GRU with a single (update) gate."""

import keras
from keras import ops

from kerasrnn.layers.recurrent_cell import RecurrentCell, _resolve


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinimalGRUCell(RecurrentCell):
    """One step of a GRU without reset gate.

    `z = recurrent_activation(x W_z + h_prev U_z + b_z)`,
    `h = z * h_prev + (1 - z) * activation(x W_h + h_prev U_h + b_h)`.

    `kernel` is `(input_dim, 2 * units)`, `recurrent_kernel`
    `(units, 2 * units)` and `bias` `(2 * units,)`, gate blocks in the order
    z, h.

    Args:
        units: Positive integer, width of the state.
        recurrent_activation: Activation of the gate. Default `"sigmoid"`.
        **kwargs: The shared arguments of `RecurrentCell`.

    Example:

    >>> cell = MinimalGRUCell(4)
    >>> output, states = cell(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(output.shape)
    (2, 4)

    Reference:
        Zhou et al., "Minimal Gated Unit for Recurrent Neural Networks", 2016;
        Ravanelli et al., "Light Gated Recurrent Units for Speech
        Recognition", 2018.
    """

    num_gates = 2

    def __init__(self, units, recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = _resolve(
            keras.activations.get, "recurrent_activation", recurrent_activation
        )

    def build(self, input_shape):
        self.add_standard_weights(input_shape[-1])

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_drop = self.drop_inputs(inputs, h_prev, training)
        x = ops.matmul(inputs, self.kernel) + ops.matmul(h_drop, self.recurrent_kernel)
        if self.use_bias:
            x = x + self.bias
        x_z, x_h = ops.split(x, 2, axis=-1)
        z = self.recurrent_activation(x_z)
        h = z * h_prev + (1 - z) * self.activation(x_h)
        return h, [h]

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation)
        }
        return {**super().get_config(), **config}
