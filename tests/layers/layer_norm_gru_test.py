import keras
import numpy as np
import pytest

from harness import (
    assert_gradients_match_finite_differences,
    assert_masking,
    assert_stateful_chunks,
    assert_tflite_matches,
    random_inputs,
    run_layer_test,
)
from kerasrnn.layers import LayerNormGRU, GRU


def test_layer_contract():
    run_layer_test(LayerNormGRU, {"units": 3}, (2, 4, 5), (2, 3), 5)


def test_unit_scale_norms_of_a_constant_projection_reduce_to_bias():
    # With constant kernels every gate block has the same pre-activation, so
    # the normalized projections are zero and only the bias drives the cell.
    kwargs = dict(kernel_initializer=keras.initializers.Constant(0.3),
                  recurrent_initializer=keras.initializers.Constant(0.3), return_sequences=True)
    x = random_inputs((1, 3, 2))
    normalized = LayerNormGRU(2, **kwargs)(x)
    plain = GRU(2, kernel_initializer="zeros", recurrent_initializer="zeros", return_sequences=True)(x)
    np.testing.assert_allclose(normalized, plain, atol=1e-6)


def test_masking():
    assert_masking(LayerNormGRU, {"units": 3}, random_inputs((3, 5, 2)))


def test_stateful_chunks_equal_full_call():
    assert_stateful_chunks(LayerNormGRU, {"units": 3}, random_inputs((2, 5, 2)), split=3)


def test_gradients_match_finite_differences():
    assert_gradients_match_finite_differences(LayerNormGRU, {"units": 2}, random_inputs((2, 3, 2)), tol=1e-4)


def test_tflite_conversion_matches():
    inputs = keras.Input(batch_shape=(1, 4, 3))
    model = keras.Model(inputs, LayerNormGRU(4)(inputs))
    assert_tflite_matches(model, random_inputs((1, 4, 3)))
