import keras
import numpy as np

from harness import (
    assert_gradients_match_finite_differences,
    assert_masking,
    assert_stateful_chunks,
    assert_tflite_matches,
    random_inputs,
    run_layer_test,
)
from kerasrnn.layers import MinimalGRU


def test_layer_contract():
    run_layer_test(MinimalGRU, {"units": 3, "return_state": True}, (2, 4, 5), [(2, 3), (2, 3)], 3)


def test_constant_weights_match_hand_computation():
    layer = MinimalGRU(1, kernel_initializer=keras.initializers.Constant(0.5),
                       recurrent_initializer=keras.initializers.Constant(-1.0), return_sequences=True)
    x = np.array([[[1.0], [2.0]]], "float32")
    h, expected = 0.0, []
    for step in x[0, :, 0]:
        pre = 0.5 * step - h
        z = 1 / (1 + np.exp(-pre))
        h = z * h + (1 - z) * np.tanh(pre)
        expected.append([h])
    np.testing.assert_allclose(layer(x)[0], expected, atol=1e-6)


def test_masking():
    assert_masking(MinimalGRU, {"units": 3}, random_inputs((3, 5, 2)))


def test_stateful_chunks_equal_full_call():
    assert_stateful_chunks(MinimalGRU, {"units": 3}, random_inputs((2, 5, 2)), split=2)


def test_gradients_match_finite_differences():
    assert_gradients_match_finite_differences(MinimalGRU, {"units": 2}, random_inputs((2, 3, 2)))


def test_tflite_conversion_matches():
    inputs = keras.Input(batch_shape=(1, 4, 3))
    model = keras.Model(inputs, MinimalGRU(4)(inputs))
    assert_tflite_matches(model, random_inputs((1, 4, 3)))
