import keras
import numpy as np
from keras.src.backend import get_keras_mask

from harness import assert_tflite_matches, random_inputs, run_layer_test
from kerasrnn.layers import StepLogits


def test_layer_contract():
    run_layer_test(StepLogits, {}, (2, 1, 7), (2, 7), 0, run_training=False)


def test_keeps_the_last_step():
    x = random_inputs((2, 3, 7))
    np.testing.assert_array_equal(StepLogits()(x), x[:, -1])
    np.testing.assert_array_equal(StepLogits()(x[:, :1]), x[:, 0])


def test_mask_is_dropped():
    token = keras.Input((1,), dtype="int32")
    logits = StepLogits()(keras.layers.Embedding(6, 4, mask_zero=True)(token))
    assert get_keras_mask(logits) is None
    assert StepLogits().compute_mask(random_inputs((2, 1, 4)), np.ones((2, 1), bool)) is None


def test_tflite_matches():
    token = keras.Input(batch_shape=(2, 1), dtype="int32")
    hidden = keras.layers.Embedding(6, 4, mask_zero=True)(token)
    model = keras.Model(token, StepLogits()(keras.layers.Dense(6)(hidden)))
    assert_tflite_matches(model, np.array([[3], [0]], "int32"))
