"""The shared base of the minimal RNNs (MinGRU, MinLSTM).

They differ only in how their gates turn into the coefficients of
`h_t = a_t * h_{t-1} + b_t`; everything else lives here.
"""

import keras
import tensorflow as tf
from keras import activations
from keras import constraints
from keras import initializers
from keras import ops
from keras import regularizers

from kerasrnn.layers.recurrent_base import make_cell
from kerasrnn.layers.recurrent_cell import _check_flags
from kerasrnn.layers.scan import linear_recurrence, parallel_pays

SCANS = ("auto", "sequential", "parallel")


class MinimalCell(keras.layers.Layer):
    """One step of a minimal RNN, whose gates read only the input.

    `h_t = a_t * h_{t-1} + b_t`, where `(a_t, b_t)` come from one projection
    of `x_t`, never from `h_{t-1}`: the state is one vector of `units`, and
    a step costs one `(features, gates * units)` matmul. A subclass sets
    `gates` (blocks of `units` columns in the kernel) and implements
    `mix(x)`, the projected input -> `(a, b)`.

    Args:
        units: Positive integer, size of the state and output.
        activation: Activation of the candidate `h~`. Default: `"linear"`, as
            in the paper.
        use_bias: Whether to add a bias. Default: `True`.
        kernel_initializer: Initializer of the `(features, gates * units)`
            kernel. Default: `"glorot_uniform"`.
        bias_initializer: Initializer of the bias. Default: `"zeros"`.
        kernel_regularizer: Regularizer of the kernel. Default: `None`.
        bias_regularizer: Regularizer of the bias. Default: `None`.
        kernel_constraint: Constraint of the kernel. Default: `None`.
        bias_constraint: Constraint of the bias. Default: `None`.
        dropout: Float in [0, 1), fraction of input units dropped in
            training, drawn afresh at every step. Default: `0.0`.
        seed: Random seed for dropout. Default: `None`.
        **kwargs: Base layer arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: `(batch, features)` input of one step.
        states: List holding the `(batch, units)` previous state.
        training: Whether dropout is active.

    Reference:
        Feng et al., 2024, [Were RNNs All We Needed?](
        https://arxiv.org/abs/2410.01201)
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="linear",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"Argument `units` must be a positive integer. Received: units={units!r}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"Argument `dropout` must be in [0, 1). Received: dropout={dropout!r}"
            )
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        width = self.gates * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def coefficients(self, inputs, training=False):
        """Returns `(a, b)` of `h = a * h_prev + b` for inputs of any rank."""
        if training and self.dropout > 0:
            inputs = keras.random.dropout(
                inputs, self.dropout, seed=self.seed_generator
            )
        x = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            x = x + self.bias
        return self.mix(x)

    def mix(self, x):
        raise NotImplementedError

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        a, b = self.coefficients(inputs, training=training)
        h = a * h + b
        return h, [h]

    def arguments(self):
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "seed": self.seed,
        }

    def get_config(self):
        return {**super().get_config(), **self.arguments()}


class MinimalRNN(keras.layers.RNN):
    """A minimal RNN layer: a `MinimalCell` run over whole sequences at once.

    All gates of a sequence come from one matmul; only the elementwise
    recurrence `h_t = a_t * h_{t-1} + b_t` is left, run as a scan with a
    hand-written backward pass (`kerasrnn.layers.scan`). On CPU it is a step
    loop; on a GPU an associative scan of log depth. The cell runs the same
    recurrence step by step in constant memory. A subclass names its cell in
    `cell_class` and the cell's name in `cell_name`.

    Args:
        units: Positive integer, size of the state and output.
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, kernel_constraint,
        bias_constraint, dropout, seed: The cell's, as in `MinimalCell`.
        activity_regularizer: Regularizer of the output. Default: `None`.
        scan: `"auto"` (parallel scan where a GPU is visible, else
            sequential), `"sequential"` or `"parallel"`. Default: `"auto"`.
        return_sequences: Return every step's output, not only the last.
            Default: `False`.
        return_state: Also return the last state. Default: `False`.
        go_backwards: Read the sequence backwards and return the reversed
            outputs. Default: `False`.
        stateful: Carry the last state of batch row `i` over to row `i` of
            the next batch. Needs a fixed batch size. Default: `False`.
        **kwargs: Base layer arguments, such as `name` and `dtype`.

    Call arguments:
        sequences: `(batch, steps, features)` inputs.
        initial_state: Optional list holding a `(batch, units)` state.
        mask: Optional `(batch, steps)` boolean mask. A masked step keeps
            the state, so right- and left-padded rows give the state of their
            real steps; its output is the previous output (zeros before the
            first real step), as in `keras.layers.RNN`.
        training: Whether dropout is active.

    Reference:
        Feng et al., 2024, [Were RNNs All We Needed?](
        https://arxiv.org/abs/2410.01201)
    """

    cell_class = None
    cell_name = None

    # Keyword-only after `units`, so a cell argument passed by position (say
    # the activation) fails instead of landing in `activity_regularizer`.
    def __init__(
        self,
        units,
        *,
        activity_regularizer=None,
        scan="auto",
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        cell = make_cell(self.cell_class, units, kwargs, self.cell_name)
        if scan not in SCANS:
            raise ValueError(
                f"Argument `scan` must be one of {SCANS}. Received: scan={scan!r}"
            )
        flags = dict(
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
        )
        _check_flags(**flags)
        # The scan has no loop to unroll; accepted for configs of keras RNNs.
        kwargs.pop("unroll", None)
        super().__init__(cell, **flags, activity_regularizer=activity_regularizer, **kwargs)
        self.scan = scan
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        h0 = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        x = tf.transpose(sequences, [1, 0, 2])
        if self.go_backwards:
            x = tf.reverse(x, [0])
        a, b = self.cell.coefficients(x, training=training)
        if mask is not None:
            keep = tf.transpose(tf.cast(mask, "bool"))[:, :, None]
            if self.go_backwards:
                keep = tf.reverse(keep, [0])
            # A masked step is the identity: a = 1, b = 0 keeps the state.
            a = tf.where(keep, a, tf.ones_like(a))
            b = tf.where(keep, b, tf.zeros_like(b))
        parallel = self.scan == "parallel" or (self.scan == "auto" and parallel_pays())
        h = linear_recurrence(a, b, h0, parallel=parallel)
        outputs = h
        if mask is not None:
            # Same outputs as keras.layers.RNN: zeros where masked, or zeros
            # until the first real step and the previous output after it.
            if not self.zero_output_for_mask:
                keep = tf.cumsum(tf.cast(keep, "int32"), axis=0) > 0
            outputs = tf.where(keep, h, tf.zeros_like(h))
        last_output = outputs[-1]
        if self.return_sequences:
            outputs = tf.transpose(outputs, [1, 0, 2])
        return last_output, outputs, [h[-1]]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(
            sequences, initial_state=initial_state, mask=mask, training=training
        )

    units = property(lambda self: self.cell.units)
    activation = property(lambda self: self.cell.activation)
    use_bias = property(lambda self: self.cell.use_bias)
    kernel_initializer = property(lambda self: self.cell.kernel_initializer)
    bias_initializer = property(lambda self: self.cell.bias_initializer)
    kernel_regularizer = property(lambda self: self.cell.kernel_regularizer)
    bias_regularizer = property(lambda self: self.cell.bias_regularizer)
    kernel_constraint = property(lambda self: self.cell.kernel_constraint)
    bias_constraint = property(lambda self: self.cell.bias_constraint)
    dropout = property(lambda self: self.cell.dropout)
    seed = property(lambda self: self.cell.seed)

    def get_config(self):
        config = super().get_config()
        del config["cell"], config["unroll"]
        config.update(self.cell.arguments())
        config["activity_regularizer"] = regularizers.serialize(
            self.activity_regularizer
        )
        config["scan"] = self.scan
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
