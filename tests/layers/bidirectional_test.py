import keras
import numpy as np
import pytest

from harness import assert_tflite_matches, random_inputs
from kerasrnn.layers import GRU, LSTM, Bidirectional


@pytest.mark.parametrize("merge_mode, width", [("concat", 6), ("sum", 3), ("mul", 3), ("ave", 3)])
def test_merge_modes_combine_forward_and_reversed_backward(merge_mode, width):
    x = random_inputs((2, 4, 2))
    layer = Bidirectional(GRU(3, return_sequences=True), merge_mode=merge_mode)
    output = np.asarray(layer(x))
    assert output.shape == (2, 4, width)
    forward = np.asarray(layer.forward_layer(x))
    backward = np.asarray(layer.backward_layer(x))[:, ::-1]
    expected = {"concat": np.concatenate([forward, backward], -1), "sum": forward + backward,
                "mul": forward * backward, "ave": (forward + backward) / 2}[merge_mode]
    np.testing.assert_allclose(output, expected, atol=1e-6)


def test_return_state_and_no_merge_and_config():
    layer = Bidirectional(LSTM(3, return_state=True), merge_mode=None)
    forward, backward, *states = layer(random_inputs((2, 4, 2)))
    assert len(states) == 4
    np.testing.assert_allclose(forward, states[0])
    np.testing.assert_allclose(backward, states[2])
    config = layer.get_config()
    assert Bidirectional.from_config(config).get_config() == config


def test_wraps_keras_layers_and_rejects_other_arguments():
    layer = Bidirectional(keras.layers.LSTM(3))
    assert layer(random_inputs((2, 4, 2))).shape == (2, 6)
    with pytest.raises(ValueError, match="merge_mode='max'"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="has no go_backwards, return_sequences"):
        Bidirectional(keras.layers.Dense(3))


def test_masked_rows_equal_rows_alone():
    x = random_inputs((2, 5, 2))
    layer = Bidirectional(LSTM(3, return_sequences=True))
    mask = np.array([[True] * 5, [False, False, True, True, True]])
    padded = layer(x, mask=mask)
    alone = layer(x[1:, 2:])
    np.testing.assert_allclose(padded[1, 2:], alone[0], atol=1e-5)


def test_tflite_conversion_matches():
    inputs = keras.Input(batch_shape=(1, 4, 3))
    model = keras.Model(inputs, Bidirectional(LSTM(4))(inputs))
    assert_tflite_matches(model, random_inputs((1, 4, 3)))
