"""Linear recurrence scans and the shared base of the minimal RNN layers.

MinGRU and MinLSTM differ only in how their gates turn into the coefficients
of `h_t = a_t * h_{t-1} + b_t`; everything else lives here.
"""

import keras
import tensorflow as tf
from keras import activations
from keras import constraints
from keras import initializers
from keras import ops
from keras import regularizers

SCANS = ("auto", "sequential", "parallel")


def _sequential(a, b, h0, reverse=False):
    return tf.scan(
        lambda h, ab: ab[0] * h + ab[1], (a, b), initializer=h0, reverse=reverse
    )


def _parallel(a, b, h0, reverse=False):
    if reverse:
        a, b = tf.reverse(a, [0]), tf.reverse(b, [0])
    # Folding h0 into the first input lets the scan start from zero.
    b = tf.concat([b[:1] + a[:1] * h0[None], b[1:]], axis=0)
    steps = tf.range(tf.shape(a)[0])

    def double(shift, a, b):
        # Hillis-Steele: compose each step with the one `shift` earlier; the
        # first `shift` steps have none and compose with the identity (1, 0).
        # A gather and a mask, not a slice, keep the shapes static for XLA.
        earlier = tf.maximum(steps - shift, 0)
        has_earlier = (steps >= shift)[:, None, None]
        b = b + a * tf.where(has_earlier, tf.gather(b, earlier), 0.0)
        a = a * tf.where(has_earlier, tf.gather(a, earlier), 1.0)
        return shift * 2, a, b

    _, _, h = tf.while_loop(
        lambda shift, a, b: shift < tf.shape(a)[0], double, (1, a, b)
    )
    return tf.reverse(h, [0]) if reverse else h


def linear_recurrence(a, b, h0, parallel=False):
    """Returns all `h_t = a_t * h_{t-1} + b_t` along axis 0, from `h0`.

    `a` and `b` are time-major `(steps, batch, units)`. The gradient is
    itself a reversed linear recurrence, so it is computed by the same scan
    instead of differentiating through the loop; that keeps the backward pass
    as cheap as the forward one and stores nothing but `h`.

    Args:
        a: Decay at each step.
        b: Input at each step.
        h0: State before the first step, `(batch, units)`.
        parallel: Use an associative scan (log-depth, more work) instead
            of a step-by-step loop.
    """
    run = _parallel if parallel else _sequential

    @tf.custom_gradient
    def scan(a, b, h0):
        h = run(a, b, h0)

        def grad(dh):
            dh = tf.reshape(dh, tf.shape(h))
            a_next = tf.concat([a[1:], tf.zeros_like(a[:1])], axis=0)
            db = run(a_next, dh, tf.zeros_like(h0), reverse=True)
            h_prev = tf.concat([h0[None], h[:-1]], axis=0)
            return db * h_prev, db, a[0] * db[0]

        return h, grad

    return scan(a, b, h0)


def parallel_pays():
    """Whether the associative scan beats the loop: only on an accelerator."""
    return bool(tf.config.list_logical_devices("GPU"))


class MinimalCell(keras.layers.Layer):
    """One step of a minimal RNN whose gates read only the input.

    Subclasses set `gates` (blocks of `units` columns in the kernel) and
    implement `mix(x)`, mapping the projected input to `(a, b)`.
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
    """A `keras.layers.RNN` over a `MinimalCell` that scans whole sequences.

    The input projection of every step is one matmul; only the elementwise
    recurrence is a loop (or an associative scan where that pays).
    """

    def __init__(
        self,
        cell,
        scan="auto",
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
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
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ValueError(
                    f"Argument `{name}` must be a bool. Received: {name}={value!r}"
                )
        # The scan has no loop to unroll; accepted for configs of keras RNNs.
        kwargs.pop("unroll", None)
        super().__init__(cell, **flags, **kwargs)
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
