"""GRU layer with a single (update) gate."""

import keras

from kerasrnn.layers.minimal_gru_cell import MinimalGRUCell
from kerasrnn.layers.recurrent_base import RecurrentBase


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinimalGRU(RecurrentBase):
    """GRU layer with a single (update) gate.

    See `MinimalGRUCell` for the equations and weight layout.

    Args:
        units: Positive integer, width of the state.
        **kwargs: The arguments of `MinimalGRUCell` (activation, initializers,
            regularizers, constraints, dropout, recurrent_dropout, seed, recurrent_activation)
            and of `RecurrentBase` (return_sequences, return_state,
            go_backwards, stateful, unroll).

    Call arguments:
        As `RecurrentBase`: `sequences`, `initial_state`, `mask` (left or
        right padding) and `training`.

    Example:

    >>> layer = MinimalGRU(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Zhou et al., "Minimal Gated Unit for Recurrent Neural Networks", 2016.
    """

    cell_class = MinimalGRUCell
