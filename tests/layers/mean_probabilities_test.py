import keras
import numpy as np

from harness import assert_tflite_matches, random_inputs, run_layer_test
from kerasrnn.layers import MeanProbabilities


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_layer_contract():
    inputs = [random_inputs((2, 5, 3)), random_inputs((2, 5, 3), seed=1)]
    # Its output is float32 under any policy (below), not the policy's 16 bits.
    run_layer_test(MeanProbabilities, {}, None, (2, 5, 3), 0, run_training=False, run_mixed_precision=False,
                   input_data=inputs)


def test_the_output_is_the_log_of_the_mean_probabilities():
    a, b, c = (random_inputs((2, 4, 6), seed=s) * 5 for s in range(3))
    out = np.asarray(MeanProbabilities()([a, b, c]))
    np.testing.assert_allclose(np.exp(out), (softmax(a) + softmax(b) + softmax(c)) / 3, atol=1e-6)
    # A log-probability: its softmax is itself, so it serves where logits do.
    np.testing.assert_allclose(softmax(out), np.exp(out), atol=1e-6)


def test_sixteen_bit_inputs_give_float32():
    a = keras.ops.cast(random_inputs((1, 3, 4)), "bfloat16")
    out = MeanProbabilities(dtype="mixed_bfloat16")([a, a])
    assert keras.backend.standardize_dtype(out.dtype) == "float32"


def test_tflite_matches():
    x = keras.Input(batch_shape=(1, 5, 3))
    model = keras.Model(x, MeanProbabilities()([keras.layers.Dense(4)(x), keras.layers.Dense(4)(x)]))
    assert_tflite_matches(model, random_inputs((1, 5, 3)))
