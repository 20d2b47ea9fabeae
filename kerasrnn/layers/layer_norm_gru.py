"""GRU layer with layer normalization."""

import keras

from kerasrnn.layers.layer_norm_gru_cell import LayerNormGRUCell
from kerasrnn.layers.recurrent_base import RecurrentBase


@keras.saving.register_keras_serializable(package="kerasrnn")
class LayerNormGRU(RecurrentBase):
    """GRU layer with layer normalization.

    See `LayerNormGRUCell`; only `reset_after=True` is supported.

    Args:
        units: Positive integer, width of the state.
        **kwargs: The arguments of `LayerNormGRUCell` (activation, initializers,
            regularizers, constraints, dropout, recurrent_dropout, seed, recurrent_activation, epsilon)
            and of `RecurrentBase` (return_sequences, return_state,
            go_backwards, stateful, unroll).

    Call arguments:
        As `RecurrentBase`: `sequences`, `initial_state`, `mask` (left or
        right padding) and `training`.

    Example:

    >>> layer = LayerNormGRU(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Ba et al., "Layer Normalization", 2016.
    """

    cell_class = LayerNormGRUCell
