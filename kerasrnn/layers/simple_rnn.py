"""Fully connected recurrent layer (Elman network)."""

import keras

from kerasrnn.layers.simple_rnn_cell import SimpleRNNCell
from kerasrnn.layers.recurrent_base import RecurrentBase


@keras.saving.register_keras_serializable(package="kerasrnn")
class SimpleRNN(RecurrentBase):
    """Fully connected recurrent layer (Elman network).

    With default arguments it has the weights of `keras.layers.SimpleRNN` and gives the same outputs.

    Args:
        units: Positive integer, width of the state.
        **kwargs: The arguments of `SimpleRNNCell` (activation, initializers,
            regularizers, constraints, dropout, recurrent_dropout, seed)
            and of `RecurrentBase` (return_sequences, return_state,
            go_backwards, stateful, unroll).

    Call arguments:
        As `RecurrentBase`: `sequences`, `initial_state`, `mask` (left or
        right padding) and `training`.

    Example:

    >>> layer = SimpleRNN(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Elman, "Finding structure in time", Cognitive Science 1990.
    """

    cell_class = SimpleRNNCell
