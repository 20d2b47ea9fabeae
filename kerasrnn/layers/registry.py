"""The recurrent layers by the name a recipe's `model.cell` gives them."""

from kerasrnn.layers.gru import GRU
from kerasrnn.layers.layer_norm_gru import LayerNormGRU
from kerasrnn.layers.layer_norm_lstm import LayerNormLSTM
from kerasrnn.layers.lstm import LSTM
from kerasrnn.layers.min_gru import MinGRU
from kerasrnn.layers.min_lstm import MinLSTM
from kerasrnn.layers.minimal_gru import MinimalGRU
from kerasrnn.layers.simple_rnn import SimpleRNN

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
