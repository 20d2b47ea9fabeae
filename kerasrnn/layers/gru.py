"""Gated recurrent unit layer."""

import keras
from keras.src.backend.tensorflow.rnn import gru as cudnn_gru

from kerasrnn.layers import _fused
from kerasrnn.layers.gru_cell import GRUCell
from kerasrnn.layers.lstm import check_implementation, fused_operands, shared_obstacles, try_cudnn
from kerasrnn.layers.recurrent_base import RecurrentBase


@keras.saving.register_keras_serializable(package="kerasrnn")
class GRU(RecurrentBase):
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
        implementation: `"auto"` (default) runs the fused loop where the
            options allow it (`reset_after=True`, `tanh`/`sigmoid`, no
            recurrent dropout, `unroll=False`), and on GPU cuDNN when there
            is no mask; `"fused"` requires it; `"generic"` always runs the
            cell step by step.
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

    def __init__(self, units, implementation="auto", **kwargs):
        super().__init__(units, **kwargs)
        check_implementation(implementation, self._fused_obstacles())
        self.implementation = implementation

    def _fused_obstacles(self):
        own = [] if self.cell.reset_after else ["reset_after=False"]
        return own + shared_obstacles(self)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.implementation == "generic" or self._fused_obstacles():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        sequences, mask, kernel, recurrent_kernel, bias = fused_operands(
            self, sequences, mask, training
        )
        if mask is None and not self.zero_output_for_mask:
            result = try_cudnn(
                cudnn_gru,
                sequences,
                initial_state[0],
                None,
                kernel=kernel,
                recurrent_kernel=recurrent_kernel,
                bias=bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
                reset_after=True,
            )
            if result is not None:
                self.supports_jit = False
                return result
        run = _fused.gru_trainable if _fused.wants_gradient(training) else _fused.gru_forward
        return _fused.run_time_major(
            run, sequences, initial_state, kernel, recurrent_kernel, bias, mask,
            self.go_backwards, self.zero_output_for_mask,
        )

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}
