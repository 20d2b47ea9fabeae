import keras
import numpy as np
import pytest
from keras.src.backend import get_keras_mask

from harness import assert_tflite_matches, random_inputs, run_layer_test
from kerasrnn.layers import StepConcat


def test_layer_contract():
    inputs = [random_inputs((2, 5, 3)), random_inputs((2, 4), seed=1)]
    run_layer_test(StepConcat, {}, None, (2, 5, 7), 0, run_training=False, input_data=inputs)


def test_every_step_gets_its_rows_vector():
    sequences, vectors = random_inputs((2, 5, 3)), np.array([[1, 2], [3, 4]], "int32")
    out = np.asarray(StepConcat()([sequences, vectors]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[..., :3], sequences)
    np.testing.assert_array_equal(out[..., 3:], np.repeat(vectors[:, None], 5, axis=1))


def test_a_mask_on_the_sequences_stops_here():
    tokens = keras.Input((None,), dtype="int32")
    with pytest.warns(UserWarning, match="destroy the mask"):
        joined = StepConcat()([keras.layers.Embedding(6, 3, mask_zero=True)(tokens), keras.Input((2,))])
    assert get_keras_mask(joined) is None


def test_tflite_matches():
    sequences = keras.Input(batch_shape=(1, 5, 3))
    vectors = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling1D()(sequences))
    model = keras.Model(sequences, StepConcat()([sequences, vectors]))
    assert_tflite_matches(model, random_inputs((1, 5, 3)))
