import numpy as np
import pytest

from harness import assert_masking, assert_stateful_chunks, random_inputs, run_layer_test
from kerasrnn.layers import GRU, StackedRNN


def test_layer_contract():
    run_layer_test(StackedRNN, {"cell": "gru", "units": [4, 3], "residual": True, "return_state": True},
                   (2, 4, 5), [(2, 3), (2, 4), (2, 3)], 7)


def test_equals_layers_applied_in_turn_with_residual():
    x = random_inputs((2, 4, 3))
    stacked = StackedRNN("gru", 3, num_layers=2, residual=True, return_sequences=True)
    output = stacked(x)
    first, second = GRU(3, return_sequences=True), GRU(3, return_sequences=True)
    first(x)
    second(x)
    first.set_weights(stacked.recurrent_layers[0].get_weights())
    second.set_weights(stacked.recurrent_layers[1].get_weights())
    hidden = first(x)
    np.testing.assert_allclose(output, second(hidden) + hidden, atol=1e-6)


def test_masking():
    # The output is the last layer's h, the third of the states [h0, c0, h1, c1].
    assert_masking(StackedRNN, {"cell": "lstm", "units": 3}, random_inputs((3, 5, 2)), output_state=2)


def test_stateful_chunks_equal_full_call():
    assert_stateful_chunks(StackedRNN, {"cell": "simple_rnn", "units": [3, 2]}, random_inputs((2, 5, 2)), split=2)


def test_unknown_cell_is_named():
    with pytest.raises(ValueError, match="cell='rnn'"):
        StackedRNN("rnn", 3)
