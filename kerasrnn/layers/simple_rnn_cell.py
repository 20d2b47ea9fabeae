"""Cell of the Elman recurrent network."""

import keras
from keras import ops

from kerasrnn.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="kerasrnn")
class SimpleRNNCell(RecurrentCell):
    """One step of an Elman network: `h = activation(x W + h U + b)`.

    The weights have the layout of `keras.layers.SimpleRNNCell`: `kernel`
    `(input_dim, units)`, `recurrent_kernel` `(units, units)`, `bias`
    `(units,)`. Arguments are those of `RecurrentCell`.

    Example:

    >>> cell = SimpleRNNCell(4)
    >>> output, states = cell(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(output.shape)
    (2, 4)

    Reference:
        Elman, "Finding structure in time", Cognitive Science 1990.
    """

    num_gates = 1

    def build(self, input_shape):
        self.add_standard_weights(input_shape[-1])

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h = self.drop_inputs(inputs, h, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        output = self.activation(z)
        return output, [output]
