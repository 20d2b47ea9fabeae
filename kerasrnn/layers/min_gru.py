"""Minimal GRU: a GRU whose gate reads only the input, trained in parallel."""

import keras
from keras import ops

from kerasrnn.layers.min_rnn import MinimalCell, MinimalRNN


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinGRUCell(MinimalCell):
    """One step of the minimal GRU (`MinGRU`), for `keras.layers.RNN` or manual stepping.

    `z_t = sigmoid(W_z x_t + b_z)`, `h~_t = activation(W_h x_t + b_h)`,
    `h_t = (1 - z_t) * h_{t-1} + z_t * h~_t`. The gate and candidate see only
    `x_t`, never `h_{t-1}`, so a step costs one `(features, 2 * units)` matmul.
    Arguments and call arguments are those of `MinimalCell`; the kernel's
    columns are `[z, h~]`.

    Example:

    >>> cell = MinGRUCell(4)
    >>> h, [h] = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    >>> tuple(h.shape)
    (2, 4)
    """

    gates = 2

    def mix(self, x):
        z, candidate = ops.split(x, 2, axis=-1)
        z = ops.sigmoid(z)
        return 1.0 - z, z * self.activation(candidate)


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinGRU(MinimalRNN):
    """Minimal GRU: a GRU whose gate reads only the input, trained in parallel.

    `z_t = sigmoid(W_z x_t + b_z)`, `h~_t = activation(W_h x_t + b_h)`,
    `h_t = (1 - z_t) * h_{t-1} + z_t * h~_t`, run over the whole sequence
    as a scan (`MinimalRNN`). A training step costs a third of the matmul
    FLOPs of `keras.layers.GRU` (inputs as wide as the state).

    Args:
        units: Positive integer, size of the state and output.
        **kwargs: As for `MinimalRNN`; the kernel is `(features, 2 * units)`,
            columns `[z, h~]`.

    Call arguments and masking are those of `MinimalRNN`.

    Example:

    >>> layer = MinGRU(8, return_sequences=True)
    >>> tuple(layer(np.ones((2, 5, 3))).shape)
    (2, 5, 8)

    Reference:
        Feng et al., 2024, [Were RNNs All We Needed?](
        https://arxiv.org/abs/2410.01201)
    """

    cell_class = MinGRUCell
    cell_name = "min_gru_cell"
