"""Shared arguments, weights and dropout of the kerasrnn recurrent cells."""

import numbers

import keras
from keras import ops
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell


def _check_units(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"Argument `{name}` must be a positive integer. Received: {name}={value!r}"
        )


def _check_flags(**flags):
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"Argument `{name}` must be a bool. Received: {name}={value!r}")


def _check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"Argument `{name}` must be a float in [0, 1). Received: {name}={value!r}"
        )
    if not 0 <= value < 1:
        raise ValueError(
            f"Argument `{name}` must be in [0, 1). Received: {name}={value!r}"
        )


def _check_implementation(value):
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ValueError(
            "Argument `implementation` must be 0, 1 or 2, as in Keras (the kerasrnn layers "
            f"choose their loop with `loop`). Received: implementation={value!r}"
        )


def _drop(x, mask):
    return [x * m for m in mask] if isinstance(mask, list) else x * mask


def gate_matmul(x, kernel):
    """`x kernel`; with `x` a list (one dropped copy per gate), each copy times its gate block."""
    if not isinstance(x, list):
        return ops.matmul(x, kernel)
    blocks = ops.split(kernel, len(x), axis=-1)
    return ops.concatenate([ops.matmul(x_gate, block) for x_gate, block in zip(x, blocks)], -1)


def _resolve(getter, name, value):
    try:
        return getter(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Argument `{name}` could not be interpreted. Received: {name}={value!r}"
        ) from error


@keras.saving.register_keras_serializable(package="kerasrnn")
class RecurrentCell(DropoutRNNCell, keras.layers.Layer):
    """Abstract base class of the kerasrnn cells; not a cell to use itself.

    A cell holds the arguments every recurrent cell shares and the standard
    `kernel`, `recurrent_kernel` and `bias` weights. Subclasses set
    `num_gates` (how many `units`-wide blocks the kernels hold) and implement
    `call(inputs, states, training)`, which returns `(output, new_states)`.
    The loop over time, masking and statefulness come from the layer that
    wraps the cell. Called directly, the base raises `NotImplementedError`.

    Args:
        units: Positive integer, width of the hidden state.
        activation: Activation of the candidate state. Default `"tanh"`.
        use_bias: Whether the cell adds a bias. Default `True`.
        kernel_initializer: Initializer of `kernel`, the input projection.
            Default `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`.
            Default `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Default `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            Optional regularizers of the three weights. Default `None`.
        kernel_constraint, recurrent_constraint, bias_constraint:
            Optional constraints of the three weights. Default `None`.
        dropout: Float in [0, 1), dropout rate of the inputs. Default `0.0`.
        recurrent_dropout: Float in [0, 1), rate of the variational dropout
            on the recurrent state: one mask per sequence, reused at every
            step. Default `0.0`.
        seed: Optional integer seed of the dropout masks.
    """

    num_gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_units("units", units)
        _check_rate("dropout", dropout)
        _check_rate("recurrent_dropout", recurrent_dropout)
        self.units = int(units)
        self.activation = _resolve(keras.activations.get, "activation", activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _resolve(
            keras.initializers.get, "kernel_initializer", kernel_initializer
        )
        self.recurrent_initializer = _resolve(
            keras.initializers.get, "recurrent_initializer", recurrent_initializer
        )
        self.bias_initializer = _resolve(
            keras.initializers.get, "bias_initializer", bias_initializer
        )
        self.kernel_regularizer = _resolve(
            keras.regularizers.get, "kernel_regularizer", kernel_regularizer
        )
        self.recurrent_regularizer = _resolve(
            keras.regularizers.get, "recurrent_regularizer", recurrent_regularizer
        )
        self.bias_regularizer = _resolve(
            keras.regularizers.get, "bias_regularizer", bias_regularizer
        )
        self.kernel_constraint = _resolve(
            keras.constraints.get, "kernel_constraint", kernel_constraint
        )
        self.recurrent_constraint = _resolve(
            keras.constraints.get, "recurrent_constraint", recurrent_constraint
        )
        self.bias_constraint = _resolve(
            keras.constraints.get, "bias_constraint", bias_constraint
        )
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    @property
    def recurrent_units(self):
        """Width of the state that feeds back into `recurrent_kernel`."""
        return self.units

    def add_standard_weights(self, input_dim, bias_shape=None, bias_initializer=None):
        """Creates `kernel`, `recurrent_kernel` and (if used) `bias`."""
        width = self.num_gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.recurrent_units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=bias_shape or (width,),
                name="bias",
                initializer=bias_initializer or self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def use_implementation(self, implementation):
        """Keras's `implementation`: 1 draws a dropout mask per gate, 2 (and 0) one for all.

        As in Keras, recurrent dropout always draws one per gate. The outputs
        are otherwise the same; `gate_matmul` takes either kind of input.
        """
        _check_implementation(implementation)
        self.implementation = 1 if self.recurrent_dropout else implementation
        if self.implementation == 1:
            self.dropout_mask_count = self.num_gates

    def drop_inputs(self, inputs, state, training):
        """Applies the per-sequence dropout masks to the step's input and state.

        With a mask per gate (`implementation=1`) the dropped input or state is
        a list, one copy per gate.
        """
        if training and self.dropout > 0:
            inputs = _drop(inputs, self.get_dropout_mask(inputs))
        if training and self.recurrent_dropout > 0:
            state = _drop(state, self.get_recurrent_dropout_mask(state))
        return inputs, state

    def call(self, inputs, states, training=False):
        raise NotImplementedError(
            f"{type(self).__name__} is an abstract base class with no step of its own: use a "
            "cell such as kerasrnn.layers.LSTMCell, or subclass it and implement `call`."
        )

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [keras.ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(
                self.recurrent_initializer
            ),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": keras.regularizers.serialize(
                self.recurrent_regularizer
            ),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": keras.constraints.serialize(
                self.recurrent_constraint
            ),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
