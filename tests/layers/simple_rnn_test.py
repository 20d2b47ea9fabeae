import keras
import numpy as np

from harness import assert_masking, assert_stateful_chunks, assert_tflite_matches, random_inputs, run_layer_test
from kerasrnn.layers import SimpleRNN


def test_layer_contract():
    run_layer_test(SimpleRNN, {"units": 3, "return_sequences": True}, (2, 4, 5), (2, 4, 3), 3)


def test_constant_weights_match_hand_computation():
    layer = SimpleRNN(2, kernel_initializer=keras.initializers.Constant(0.1),
                      recurrent_initializer=keras.initializers.Constant(0.2),
                      bias_initializer=keras.initializers.Constant(0.05), return_sequences=True)
    x = np.array([[[1.0, 2.0], [-1.0, 0.5]]], "float32")
    h1 = np.tanh(0.1 * 3.0 + 0.05)
    h2 = np.tanh(0.1 * -0.5 + 0.2 * 2 * h1 + 0.05)
    np.testing.assert_allclose(layer(x)[0], [[h1, h1], [h2, h2]], atol=1e-6)


def test_masking():
    assert_masking(SimpleRNN, {"units": 3}, random_inputs((3, 5, 2)))


def test_stateful_chunks_equal_full_call():
    assert_stateful_chunks(SimpleRNN, {"units": 3}, random_inputs((2, 6, 2)), split=3)


def test_matches_keras_simple_rnn_with_its_weights():
    x = random_inputs((2, 5, 4))
    reference = keras.layers.SimpleRNN(3, return_sequences=True, go_backwards=True)
    layer = SimpleRNN(3, return_sequences=True, go_backwards=True)
    layer(x)
    reference(x)
    layer.set_weights(reference.get_weights())
    np.testing.assert_allclose(layer(x), reference(x), atol=1e-5)


def test_tflite_conversion_matches():
    inputs = keras.Input(batch_shape=(1, 4, 3))
    model = keras.Model(inputs, SimpleRNN(4)(inputs))
    assert_tflite_matches(model, random_inputs((1, 4, 3)))
