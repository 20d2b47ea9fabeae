"""Long short-term memory layer."""

import keras
from keras.src.backend.tensorflow.rnn import lstm as cudnn_lstm

from kerasrnn.layers import _fused
from kerasrnn.layers.fused_recurrent import FusedRecurrent
from kerasrnn.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="kerasrnn")
class LSTM(FusedRecurrent):
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
        implementation: As in `keras.layers.LSTM`: `1` draws an input
            dropout mask per gate, `2` (default; legacy `0` alike) one for
            all gates. Same outputs otherwise.
        use_cudnn: As in `keras.layers.LSTM`: `"auto"` (default), `True`
            (an error where cuDNN cannot run) or `False`. `"auto"` runs
            cuDNN on a GPU for unmasked calls of the plain variant.
        loop: `"auto"` (default) runs the fused loop where the options
            allow it (plain variant, `tanh`/`sigmoid`, no recurrent dropout,
            `unroll=False`); `"fused"` requires it; `"generic"` always runs
            the cell step by step.
            In training, a fused loop over a length fixed when the layer
            is traced (windows, inputs padded to one length) runs compiled
            by XLA, once per batch size.
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
    cudnn_kernel = staticmethod(cudnn_lstm)
    fused_loops = (_fused.lstm_forward, _fused.lstm_trainable)

    def own_obstacles(self):
        cell = self.cell
        checks = {
            "peephole=True": cell.peephole,
            "coupled_gates=True": cell.coupled_gates,
            "projection_units is set": cell.projection_units,
        }
        return [reason for reason, present in checks.items() if present]
