import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import (
    assert_masking,
    assert_stateful_chunks,
    assert_tflite_matches,
    outputs_and_gradients,
    random_inputs,
    run_layer_test,
    sigmoid,
)
from kerasrnn.layers import GRU


@pytest.mark.parametrize("kwargs", [{}, {"reset_after": False}])
def test_layer_contract(kwargs):
    run_layer_test(GRU, {"units": 3, **kwargs}, (2, 4, 5), (2, 3), 3)


def test_constant_weights_match_hand_computation():
    x = np.array([[[1.0, 2.0], [-1.0, 0.5]]], "float32")
    h = np.zeros(2)
    expected = []
    for step in x[0]:
        z = r = sigmoid(0.1 * step.sum() + 0.2 * h.sum())
        candidate = np.tanh(0.1 * step.sum() + r * 0.2 * h.sum())
        h = z * h + (1 - z) * candidate
        expected.append(h)
    for loop in ("generic", "fused"):
        layer = GRU(2, kernel_initializer=keras.initializers.Constant(0.1),
                    recurrent_initializer=keras.initializers.Constant(0.2),
                    return_sequences=True, loop=loop)
        np.testing.assert_allclose(layer(x)[0], np.array(expected), atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"loop": "generic"}, {"loop": "fused"}, {"reset_after": False}])
def test_masking(kwargs):
    assert_masking(GRU, {"units": 3, **kwargs}, random_inputs((3, 5, 2)))


@pytest.mark.parametrize("loop", ["generic", "fused"])
def test_stateful_chunks_equal_full_call(loop):
    assert_stateful_chunks(GRU, {"units": 3, "loop": loop}, random_inputs((2, 6, 2)), split=2)


@pytest.mark.parametrize("reset_after", [True, False])
def test_matches_keras_gru_with_its_weights(reset_after):
    x = random_inputs((3, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[2, :2] = False
    reference = keras.layers.GRU(3, return_sequences=True, return_state=True, reset_after=reset_after)
    expected = reference(x, mask=mask)
    layer = GRU(3, return_sequences=True, return_state=True, reset_after=reset_after)
    layer(x)
    layer.set_weights(reference.get_weights())
    for got, want in zip(layer(x, mask=mask), expected):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("length", ["fixed", "varying"])
def test_fused_path_matches_generic_path(go_backwards, masked, use_bias, length):
    x = random_inputs((3, 6, 4))
    mask = None
    if masked:
        mask = np.ones((3, 6), bool)
        mask[1, 4:] = False
        mask[2, :2] = False
    results = []
    for loop in ("generic", "fused"):
        layer = GRU(3, return_sequences=True, return_state=True, go_backwards=go_backwards,
                    use_bias=use_bias, bias_initializer="random_normal", loop=loop)
        layer(x)
        if results:
            layer.set_weights(weights)
        weights = layer.get_weights()
        outputs, gradients = outputs_and_gradients(layer, x, mask, length if loop == "fused" else "fixed")
        results.append([*outputs, *gradients])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_fused_requires_reset_after():
    with pytest.raises(ValueError, match="reset_after=False"):
        GRU(3, reset_after=False, loop="fused")


def test_tflite_conversion_matches():
    inputs = keras.Input(batch_shape=(1, 5, 3))
    model = keras.Model(inputs, GRU(4, return_sequences=True)(inputs))
    assert_tflite_matches(model, random_inputs((1, 5, 3)))
