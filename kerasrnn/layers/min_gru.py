import keras
from keras import ops

from kerasrnn.layers.scan import MinimalCell
from kerasrnn.layers.scan import MinimalRNN


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinGRUCell(MinimalCell):
    """One step of the minimal GRU, for `keras.layers.RNN` or manual stepping.

    `z_t = sigmoid(W_z x_t + b_z)`, `h~_t = activation(W_h x_t + b_h)`,
    `h_t = (1 - z_t) * h_{t-1} + z_t * h~_t`. The gate and candidate see only
    `x_t`, never `h_{t-1}`, so the state is one vector of `units` and a step
    costs one `(features, 2 * units)` matmul.

    Args:
        units: Positive integer, size of the state and output.
        activation: Activation of the candidate `h~`. Default: `"linear"`, as
            in the paper.
        use_bias: Whether to add a bias. Default: `True`.
        kernel_initializer: Initializer of the `(features, 2 * units)` kernel,
            columns `[z, h~]`. Default: `"glorot_uniform"`.
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

    Example:

    >>> cell = MinGRUCell(4)
    >>> h, [h] = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    >>> tuple(h.shape)
    (2, 4)

    Reference:
        Feng et al., 2024, [Were RNNs All We Needed?](
        https://arxiv.org/abs/2410.01201)
    """

    gates = 2

    def mix(self, x):
        z, candidate = ops.split(x, 2, axis=-1)
        z = ops.sigmoid(z)
        return 1.0 - z, z * self.activation(candidate)


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinGRU(MinimalRNN):
    """Minimal GRU: a GRU whose gate reads only the input, trained in parallel.

    `z_t = sigmoid(W_z x_t + b_z)`, `h~_t = activation(W_h x_t + b_h)`,
    `h_t = (1 - z_t) * h_{t-1} + z_t * h~_t`. All gates of a sequence come
    from one matmul; only the elementwise recurrence is left, run as a scan
    with a hand-written backward pass. On CPU it is a step loop; on a GPU an
    associative scan of log depth. A training step costs a third of the
    matmul FLOPs of `keras.layers.GRU` (inputs as wide as the state), and `MinGRUCell`
    runs it step by step in constant memory.

    Args:
        units: Positive integer, size of the state and output.
        activation: Activation of the candidate `h~`. Default: `"linear"`, as
            in the paper.
        use_bias: Whether to add a bias. Default: `True`.
        kernel_initializer: Initializer of the `(features, 2 * units)` kernel,
            columns `[z, h~]`. Default: `"glorot_uniform"`.
        bias_initializer: Initializer of the bias. Default: `"zeros"`.
        kernel_regularizer: Regularizer of the kernel. Default: `None`.
        bias_regularizer: Regularizer of the bias. Default: `None`.
        activity_regularizer: Regularizer of the output. Default: `None`.
        kernel_constraint: Constraint of the kernel. Default: `None`.
        bias_constraint: Constraint of the bias. Default: `None`.
        dropout: Float in [0, 1), fraction of input units dropped in
            training, drawn afresh at every step. Default: `0.0`.
        seed: Random seed for dropout. Default: `None`.
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

    Example:

    >>> layer = MinGRU(8, return_sequences=True)
    >>> tuple(layer(np.ones((2, 5, 3))).shape)
    (2, 5, 8)

    Reference:
        Feng et al., 2024, [Were RNNs All We Needed?](
        https://arxiv.org/abs/2410.01201)
    """

    def __init__(
        self,
        units,
        activation="linear",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        seed=None,
        scan="auto",
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        cell = MinGRUCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="min_gru_cell",
        )
        super().__init__(
            cell,
            scan=scan,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
