"""Minimal LSTM: an LSTM whose gates read only the input, trained in parallel."""

import keras
from keras import ops

from kerasrnn.layers.min_rnn import MinimalCell, MinimalRNN


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinLSTMCell(MinimalCell):
    """One step of the minimal LSTM (`MinLSTM`), for `keras.layers.RNN` or manual stepping.

    `f_t = sigmoid(W_f x_t + b_f)`, `i_t = sigmoid(W_i x_t + b_i)`,
    `h~_t = activation(W_h x_t + b_h)`, and with the gates normalized to sum
    to one, `f'_t = f_t / (f_t + i_t)`, `i'_t = i_t / (f_t + i_t)`:
    `h_t = f'_t * h_{t-1} + i'_t * h~_t`. The gates see only `x_t`, so the
    state is one vector of `units` (there is no cell state) and a step costs
    one `(features, 3 * units)` matmul. Arguments and call arguments are
    those of `MinimalCell`; the kernel's columns are `[f, i, h~]`.

    Example:

    >>> rnn = keras.layers.RNN(MinLSTMCell(4), return_sequences=True)
    >>> tuple(rnn(np.ones((2, 5, 3))).shape)
    (2, 5, 4)
    """

    gates = 3

    def mix(self, x):
        f, i, candidate = ops.split(x, 3, axis=-1)
        # f / (f + i) = sigmoid(log f - log i), with log sigmoid(v) =
        # -softplus(-v): no division, and no 0 / 0 when both gates underflow.
        log_ratio = ops.softplus(-i) - ops.softplus(-f)
        a = ops.sigmoid(log_ratio)
        return a, (1.0 - a) * self.activation(candidate)


@keras.saving.register_keras_serializable(package="kerasrnn")
class MinLSTM(MinimalRNN):
    """Minimal LSTM: an LSTM whose gates read only the input, trained in parallel.

    `f_t = sigmoid(W_f x_t + b_f)`, `i_t = sigmoid(W_i x_t + b_i)`,
    `h~_t = activation(W_h x_t + b_h)`, `f'_t = f_t / (f_t + i_t)`,
    `i'_t = i_t / (f_t + i_t)`, `h_t = f'_t * h_{t-1} + i'_t * h~_t`, run
    over the whole sequence as a scan (`MinimalRNN`). There is no cell
    state: `h` is the only state. A training step costs half of the matmul
    FLOPs of `keras.layers.GRU` (inputs as wide as the state).

    Args:
        units: Positive integer, size of the state and output.
        **kwargs: As for `MinimalRNN`; the kernel is `(features, 3 * units)`,
            columns `[f, i, h~]`.

    Call arguments and masking are those of `MinimalRNN`: a masked step
    keeps `h`, so a padded row ends in the state of its last real step.

    Example:

    >>> output, state = MinLSTM(8, return_state=True)(np.ones((2, 5, 3)))
    >>> tuple(state.shape)
    (2, 8)

    Reference:
        Feng et al., 2024, [Were RNNs All We Needed?](
        https://arxiv.org/abs/2410.01201)
    """

    cell_class = MinLSTMCell
    cell_name = "min_lstm_cell"
