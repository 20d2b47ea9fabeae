"""Gated recurrent unit layer."""

import keras
from keras.src.backend.tensorflow.rnn import gru as cudnn_gru

from kerasrnn.layers import _fused
from kerasrnn.layers.fused_recurrent import FusedRecurrent
from kerasrnn.layers.gru_cell import GRUCell


@keras.saving.register_keras_serializable(package="kerasrnn")
class GRU(FusedRecurrent):
    """Gated recurrent unit layer.

    With default arguments the layer has the weights of `keras.layers.GRU`
    (`layer.set_weights(keras_gru.get_weights())` works) and gives the same
    outputs: `kernel` `(input_dim, 3 * units)`, `recurrent_kernel`
    `(units, 3 * units)`, `bias` `(2, 3 * units)`, gate blocks z, r, h.

    Args:
        units: Positive integer, width of the state.
        activation: Default `"tanh"`.
        recurrent_activation: Activation of the gates. Default `"sigmoid"`.
        reset_after: Default `True`. See `GRUCell`.
        use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint, dropout, recurrent_dropout, seed: As in
            `keras.layers.GRU`; `recurrent_dropout` is variational.
        implementation: As in `keras.layers.GRU`: `1` draws an input
            dropout mask per gate, `2` (default; legacy `0` alike) one for
            all gates. Same outputs otherwise.
        use_cudnn: As in `keras.layers.GRU`: `"auto"` (default), `True`
            (an error where cuDNN cannot run) or `False`. `"auto"` runs
            cuDNN on a GPU for unmasked calls of the plain variant.
        loop: `"auto"` (default) runs the fused loop where the options
            allow it (`reset_after=True`, `tanh`/`sigmoid`, no recurrent
            dropout, `unroll=False`); `"fused"` requires it; `"generic"`
            always runs the cell step by step.
            In training, a fused loop over a length fixed when the layer
            is traced (windows, inputs padded to one length) runs compiled
            by XLA, once per batch size.
        return_sequences, return_state, go_backwards, stateful, unroll:
            As in `keras.layers.GRU`. Default `False`.

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: Optional list `[h]`.
        mask: Optional boolean `(batch, timesteps)`; masked steps keep the
            state and repeat the previous output (left or right padding).
        training: Whether dropout is active.

    Example:

    >>> layer = GRU(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Cho et al., "Learning Phrase Representations using RNN
        Encoder-Decoder for Statistical Machine Translation", 2014.
    """

    cell_class = GRUCell
    cudnn_kernel = staticmethod(cudnn_gru)
    fused_loops = (_fused.gru_forward, _fused.gru_trainable)

    def own_obstacles(self):
        return [] if self.cell.reset_after else ["reset_after=False"]
