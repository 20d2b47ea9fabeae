"""Long short-term memory layer."""

import keras
from keras import ops
from keras.src.backend.tensorflow.rnn import lstm as cudnn_lstm

from kerasrnn.layers import _fused
from kerasrnn.layers.lstm_cell import LSTMCell
from kerasrnn.layers.recurrent_base import RecurrentBase

IMPLEMENTATIONS = ("auto", "fused", "generic")


def shared_obstacles(layer):
    """Reasons, common to LSTM and GRU, that rule out the fused path."""
    cell = layer.cell
    checks = {
        "activation is not tanh": cell.activation is not keras.activations.tanh,
        "recurrent_activation is not sigmoid": (
            cell.recurrent_activation is not keras.activations.sigmoid
        ),
        "recurrent_dropout > 0": cell.recurrent_dropout,
        "unroll=True": layer.unroll,
        "the backend is not TensorFlow": keras.backend.backend() != "tensorflow",
    }
    return [reason for reason, present in checks.items() if present]


def fused_operands(layer, sequences, mask, training):
    """(sequences with input dropout, mask, kernel, recurrent kernel, bias) for a fused loop."""
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    cell = layer.cell
    if training and cell.dropout > 0:
        sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1)
    dtype = sequences.dtype
    kernel = ops.cast(cell.kernel, dtype)
    recurrent_kernel = ops.cast(cell.recurrent_kernel, dtype)
    bias = ops.cast(cell.bias, dtype) if cell.use_bias else None
    return sequences, mask, kernel, recurrent_kernel, bias


def check_implementation(implementation, reasons):
    """Validates `implementation` against why the fused path cannot run."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            f"Argument `implementation` must be one of {IMPLEMENTATIONS}. "
            f"Received: implementation={implementation!r}"
        )
    if implementation == "fused" and reasons:
        raise ValueError(
            "Argument `implementation='fused'` needs the plain variant, but "
            + "; ".join(reasons)
            + "."
        )


def try_cudnn(function, *args, **kwargs):
    """Runs Keras's cuDNN kernel; `None` where the device or options rule it out."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        return None


@keras.saving.register_keras_serializable(package="kerasrnn")
class LSTM(RecurrentBase):
    """Long short-term memory layer, with peephole, CIFG and projection options.

    With default arguments the layer has the weights of `keras.layers.LSTM`
    (`layer.set_weights(keras_lstm.get_weights())` works) and gives the same
    outputs. The plain parameters are the cell's weights:
    `layer.cell.kernel` `(input_dim, 4 * units)`, `layer.cell.recurrent_kernel`
    `(units, 4 * units)` and `layer.cell.bias` `(4 * units,)`, gate blocks in
    the order i, f, c, o (`layer.get_weights()` returns them in that order).

    Args:
        units: Positive integer, width of the cell state.
        activation: Default `"tanh"`.
        recurrent_activation: Activation of the gates. Default `"sigmoid"`.
        use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint, dropout, recurrent_dropout, seed: As in
            `keras.layers.LSTM`; `recurrent_dropout` is variational.
        unit_forget_bias: Default `True`.
        peephole: Default `False`. See `LSTMCell`.
        coupled_gates: Forget gate `1 - i` (CIFG). Default `False`.
        projection_units: Optional width of the projected output (LSTMP).
        implementation: `"auto"` (default) runs the fused loop where the
            options allow it (plain variant, `tanh`/`sigmoid`, no recurrent
            dropout, `unroll=False`), and on GPU cuDNN when there is no mask;
            `"fused"` requires it; `"generic"` always runs the cell step by
            step.
        return_sequences, return_state, go_backwards, stateful, unroll:
            As in `keras.layers.LSTM`. Default `False`.

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: Optional list `[h, c]`.
        mask: Optional boolean `(batch, timesteps)`; masked steps keep the
            states and repeat the previous output (left or right padding).
        training: Whether dropout is active.

    Example:

    >>> layer = LSTM(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Hochreiter and Schmidhuber, "Long Short-Term Memory", 1997.
    """

    cell_class = LSTMCell

    def __init__(self, units, implementation="auto", **kwargs):
        super().__init__(units, **kwargs)
        check_implementation(implementation, self._fused_obstacles())
        self.implementation = implementation

    def _fused_obstacles(self):
        cell = self.cell
        checks = {
            "peephole=True": cell.peephole,
            "coupled_gates=True": cell.coupled_gates,
            "projection_units is set": cell.projection_units,
        }
        return [reason for reason, present in checks.items() if present] + shared_obstacles(self)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.implementation == "generic" or self._fused_obstacles():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        sequences, mask, kernel, recurrent_kernel, bias = fused_operands(
            self, sequences, mask, training
        )
        if mask is None and not self.zero_output_for_mask:
            result = try_cudnn(
                cudnn_lstm,
                sequences,
                initial_state[0],
                initial_state[1],
                None,
                kernel=kernel,
                recurrent_kernel=recurrent_kernel,
                bias=bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
            )
            if result is not None:
                self.supports_jit = False
                return result
        run = _fused.lstm_trainable if _fused.wants_gradient(training) else _fused.lstm_forward
        return _fused.run_time_major(
            run, sequences, initial_state, kernel, recurrent_kernel, bias, mask,
            self.go_backwards, self.zero_output_for_mask,
        )

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}
