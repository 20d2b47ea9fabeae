"""Cell of the gated recurrent unit."""

import keras
from keras import ops

from kerasrnn.layers.recurrent_cell import RecurrentCell, _resolve, gate_matmul


@keras.saving.register_keras_serializable(package="kerasrnn")
class GRUCell(RecurrentCell):
    """One step of a GRU with update gate `z` and reset gate `r`.

    `h = z * h_prev + (1 - z) * activation(x W_h + r * (h_prev U_h + b_rh))`
    when `reset_after=True` (the default, as in Keras and cuDNN), or
    `activation(x W_h + (r * h_prev) U_h + b_h)` when `reset_after=False`.

    The weights have the layout of `keras.layers.GRUCell`: gate blocks in the
    order z, r, h; `bias` is `(2, 3 * units)` (input and recurrent bias) when
    `reset_after=True`, else `(3 * units,)`.

    Args:
        units: Positive integer, width of the state.
        recurrent_activation: Activation of the gates. Default `"sigmoid"`.
        reset_after: Whether the reset gate multiplies the recurrent
            projection (`True`) or the previous state before it (`False`).
            Default `True`.
        implementation: As in `keras.layers.GRUCell`: `1` draws a dropout
            mask per gate, `2` (default; legacy `0` alike) one for all gates;
            recurrent dropout always draws one per gate. Otherwise the same.
        **kwargs: The shared arguments of `RecurrentCell` (activation,
            initializers, regularizers, constraints, dropout, seed, ...).

    Example:

    >>> cell = GRUCell(4)
    >>> output, states = cell(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(output.shape)
    (2, 4)

    Reference:
        Cho et al., "Learning Phrase Representations using RNN
        Encoder-Decoder for Statistical Machine Translation", 2014.
    """

    num_gates = 3

    def __init__(
        self, units, recurrent_activation="sigmoid", reset_after=True, implementation=2, **kwargs
    ):
        super().__init__(units, **kwargs)
        self.recurrent_activation = _resolve(
            keras.activations.get, "recurrent_activation", recurrent_activation
        )
        if not isinstance(reset_after, bool):
            raise ValueError(
                f"Argument `reset_after` must be a bool. Received: reset_after={reset_after!r}"
            )
        self.reset_after = reset_after
        self.use_implementation(implementation)

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else None
        self.add_standard_weights(input_shape[-1], bias_shape=bias_shape)

    def normalize_input(self, x):
        """Hook applied to the input projection `x W` before the bias."""
        return x

    def normalize_recurrent(self, x):
        """Hook applied to the recurrent projection `h U` before the bias."""
        return x

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_drop = self.drop_inputs(inputs, h_prev, training)
        x = self.normalize_input(gate_matmul(inputs, self.kernel))
        input_bias = recurrent_bias = None
        if self.use_bias and self.reset_after:
            input_bias, recurrent_bias = self.bias[0], self.bias[1]
        elif self.use_bias:
            input_bias = self.bias
        if input_bias is not None:
            x = x + input_bias
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        u = self.recurrent_kernel
        if self.reset_after:
            rec = self.normalize_recurrent(gate_matmul(h_drop, u))
            if recurrent_bias is not None:
                rec = rec + recurrent_bias
            rec_z, rec_r, rec_h = ops.split(rec, 3, axis=-1)
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            candidate = self.activation(x_h + r * rec_h)
        else:
            h_zr, h_h = (h_drop[:2], h_drop[2]) if isinstance(h_drop, list) else (h_drop, h_drop)
            rec = gate_matmul(h_zr, u[:, : 2 * self.units])
            rec_z, rec_r = ops.split(rec, 2, axis=-1)
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            candidate = self.activation(x_h + ops.matmul(r * h_h, u[:, 2 * self.units :]))
        h = z * h_prev + (1 - z) * candidate
        return h, [h]

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
            "implementation": self.implementation,
        }
        return {**super().get_config(), **config}
