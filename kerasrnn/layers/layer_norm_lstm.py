"""LSTM layer with layer normalization."""

import keras

from kerasrnn.layers.layer_norm_lstm_cell import LayerNormLSTMCell
from kerasrnn.layers.recurrent_base import RecurrentBase


@keras.saving.register_keras_serializable(package="kerasrnn")
class LayerNormLSTM(RecurrentBase):
    """LSTM layer with layer normalization.

    See `LayerNormLSTMCell` for where the normalizations sit.

    Args:
        units: Positive integer, width of the state.
        **kwargs: The arguments of `LayerNormLSTMCell` (activation, initializers,
            regularizers, constraints, dropout, recurrent_dropout, seed, recurrent_activation, epsilon, peephole, coupled_gates, projection_units, unit_forget_bias)
            and of `RecurrentBase` (return_sequences, return_state,
            go_backwards, stateful, unroll).

    Call arguments:
        As `RecurrentBase`: `sequences`, `initial_state`, `mask` (left or
        right padding) and `training`.

    Example:

    >>> layer = LayerNormLSTM(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Ba et al., "Layer Normalization", 2016.
    """

    cell_class = LayerNormLSTMCell
