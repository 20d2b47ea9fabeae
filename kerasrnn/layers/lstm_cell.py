"""Cell of the long short-term memory network and its common variants."""

import keras
from keras import ops

from kerasrnn.layers.recurrent_cell import RecurrentCell, _check_units, _resolve, gate_matmul


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"Argument `{name}` must be a bool. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="kerasrnn")
class LSTMCell(RecurrentCell):
    """One step of an LSTM, with optional peepholes, CIFG and projection.

    With default arguments the cell computes exactly what
    `keras.layers.LSTMCell` computes, with the same weights: `kernel`
    `(input_dim, 4 * units)`, `recurrent_kernel` `(units, 4 * units)` and
    `bias` `(4 * units,)`, gate blocks in the order i (input), f (forget),
    c (candidate), o (output).

    Args:
        units: Positive integer, width of the cell state.
        recurrent_activation: Activation of the gates. Default `"sigmoid"`.
        unit_forget_bias: Whether the forget-gate bias starts at 1 (the
            other biases use `bias_initializer`). Ignored when
            `coupled_gates=True`. Default `True`.
        peephole: Whether the gates also see the cell state through a
            diagonal `peephole_kernel` of shape `(gates - 1, units)`
            (rows i, f, o, or i, o with coupled gates), initialized to zeros.
            Default `False`.
        coupled_gates: Whether the forget gate is `1 - i` (CIFG). The
            kernels then hold three blocks, i, c, o. Default `False`.
        projection_units: Optional positive integer. When set, the output
            and recurrent state are `(o * tanh(c)) P` with a
            `projection_kernel` `P` of shape `(units, projection_units)`
            (LSTMP), initialized, regularized and constrained like `kernel`.
            Default `None`.
        implementation: As in `keras.layers.LSTMCell`: `1` draws a dropout
            mask per gate, `2` (default; legacy `0` alike) one for all gates;
            recurrent dropout always draws one per gate. Otherwise the same.
        **kwargs: The shared arguments of `RecurrentCell`.

    The states are `[h, c]`; `h` is `projection_units` wide when projected.

    Example:

    >>> cell = LSTMCell(4, projection_units=2)
    >>> states = [keras.ops.zeros((2, 2)), keras.ops.zeros((2, 4))]
    >>> output, states = cell(keras.ops.ones((2, 3)), states)
    >>> tuple(output.shape)
    (2, 2)

    References:
        Hochreiter and Schmidhuber, "Long Short-Term Memory", 1997;
        Gers and Schmidhuber, "Recurrent nets that time and count", 2000;
        Greff et al., "LSTM: A Search Space Odyssey", 2017 (CIFG);
        Sak et al., "Long Short-Term Memory Recurrent Neural Network
        Architectures for Large Scale Acoustic Modeling", 2014 (LSTMP).
    """

    def __init__(
        self,
        units,
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        peephole=False,
        coupled_gates=False,
        projection_units=None,
        implementation=2,
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        _check_bool("unit_forget_bias", unit_forget_bias)
        _check_bool("peephole", peephole)
        _check_bool("coupled_gates", coupled_gates)
        _check_units("projection_units", projection_units, allow_none=True)
        self.recurrent_activation = _resolve(
            keras.activations.get, "recurrent_activation", recurrent_activation
        )
        self.unit_forget_bias = unit_forget_bias
        self.peephole = peephole
        self.coupled_gates = coupled_gates
        self.projection_units = None if projection_units is None else int(projection_units)
        self.num_gates = 3 if coupled_gates else 4
        self.use_implementation(implementation)

    @property
    def recurrent_units(self):
        return self.projection_units or self.units

    @property
    def state_size(self):
        return [self.recurrent_units, self.units]

    @property
    def output_size(self):
        return self.recurrent_units

    def build(self, input_shape):
        bias_initializer = None
        if self.unit_forget_bias and not self.coupled_gates:
            base, units = self.bias_initializer, self.units

            def bias_initializer(shape, dtype=None):
                return ops.concatenate(
                    [
                        base((units,), dtype=dtype),
                        ops.ones((units,), dtype=dtype),
                        base((2 * units,), dtype=dtype),
                    ]
                )

        self.add_standard_weights(input_shape[-1], bias_initializer=bias_initializer)
        if self.peephole:
            self.peephole_kernel = self.add_weight(
                shape=(self.num_gates - 1, self.units),
                name="peephole_kernel",
                initializer="zeros",
            )
        if self.projection_units:
            self.projection_kernel = self.add_weight(
                shape=(self.units, self.projection_units),
                name="projection_kernel",
                initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer,
                constraint=self.kernel_constraint,
            )

    def normalize_input(self, x):
        """Hook applied to the input projection `x W` before the bias."""
        return x

    def normalize_recurrent(self, x):
        """Hook applied to the recurrent projection `h U` before the bias."""
        return x

    def normalize_cell(self, c):
        """Hook applied to the cell state before the output activation."""
        return c

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states
        inputs, h_drop = self.drop_inputs(inputs, h_prev, training)
        z = self.normalize_input(gate_matmul(inputs, self.kernel))
        z = z + self.normalize_recurrent(gate_matmul(h_drop, self.recurrent_kernel))
        if self.use_bias:
            z = z + self.bias
        if self.coupled_gates:
            i, g, o = ops.split(z, 3, axis=-1)
        else:
            i, f, g, o = ops.split(z, 4, axis=-1)
        if self.peephole:
            i = i + self.peephole_kernel[0] * c_prev
        i = self.recurrent_activation(i)
        if self.coupled_gates:
            f = 1 - i
        else:
            if self.peephole:
                f = f + self.peephole_kernel[1] * c_prev
            f = self.recurrent_activation(f)
        c = f * c_prev + i * self.activation(g)
        if self.peephole:
            o = o + self.peephole_kernel[-1] * c
        h = self.recurrent_activation(o) * self.activation(self.normalize_cell(c))
        if self.projection_units:
            h = ops.matmul(h, self.projection_kernel)
        return h, [h, c]

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "peephole": self.peephole,
            "coupled_gates": self.coupled_gates,
            "projection_units": self.projection_units,
            "implementation": self.implementation,
        }
        return {**super().get_config(), **config}
