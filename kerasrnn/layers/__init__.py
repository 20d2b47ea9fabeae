"""Recurrent layers and cells, and `recurrent()`, the factory the builders use."""

from kerasrnn.layers.bidirectional import Bidirectional
from kerasrnn.layers.crf import CRF, CRFLoss, ViterbiAccuracy, crf_marginals, viterbi_decode
from kerasrnn.layers.gru import GRU
from kerasrnn.layers.gru_cell import GRUCell
from kerasrnn.layers.layer_norm_gru import LayerNormGRU
from kerasrnn.layers.layer_norm_gru_cell import LayerNormGRUCell
from kerasrnn.layers.layer_norm_lstm import LayerNormLSTM
from kerasrnn.layers.layer_norm_lstm_cell import LayerNormLSTMCell
from kerasrnn.layers.lstm import LSTM
from kerasrnn.layers.lstm_cell import LSTMCell
from kerasrnn.layers.min_gru import MinGRU, MinGRUCell
from kerasrnn.layers.min_lstm import MinLSTM, MinLSTMCell
from kerasrnn.layers.minimal_gru import MinimalGRU
from kerasrnn.layers.minimal_gru_cell import MinimalGRUCell
from kerasrnn.layers.recurrent_base import RecurrentBase
from kerasrnn.layers.recurrent_cell import RecurrentCell
from kerasrnn.layers.simple_rnn import SimpleRNN
from kerasrnn.layers.simple_rnn_cell import SimpleRNNCell
from kerasrnn.layers.stacked_rnn import StackedRNN

CELLS = {
    "simple_rnn": SimpleRNN,
    "gru": GRU,
    "minimal_gru": MinimalGRU,
    "lstm": LSTM,
    "layer_norm_lstm": LayerNormLSTM,
    "layer_norm_gru": LayerNormGRU,
    "min_gru": MinGRU,
    "min_lstm": MinLSTM,
}


def recurrent(cell, units, **kwargs):
    """Builds the recurrent layer a recipe names.

    Args:
        cell: A key of `CELLS`, e.g. `"lstm"`.
        units: Positive integer, width of the state.
        **kwargs: Passed to the layer's constructor.

    Returns:
        The layer, e.g. `LSTM(units, **kwargs)` for `"lstm"`.

    Example:

    >>> layer = recurrent("gru", 8, return_sequences=True)
    >>> type(layer).__name__
    'GRU'
    """
    if cell not in CELLS:
        raise ValueError(
            f"Unknown recurrent cell {cell!r}. Known cells: {', '.join(sorted(CELLS))}."
        )
    return CELLS[cell](units, **kwargs)
