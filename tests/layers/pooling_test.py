import keras
import numpy as np
from keras.src.backend import get_keras_mask

from harness import assert_tflite_matches, random_inputs, run_layer_test
from kerasrnn.layers import MaskedMaxPooling1D

IDS = np.array([[4, 2, 7, 0, 0], [0, 0, 3, 5, 1], [0, 0, 0, 0, 0]], "int32")


def test_layer_contract():
    run_layer_test(MaskedMaxPooling1D, {}, (2, 4, 3), (2, 3), 0, run_training=False)


def test_maximum_over_real_steps_only():
    x = random_inputs((3, 5, 2))
    mask = IDS > 0
    out = np.asarray(MaskedMaxPooling1D()(x, mask=mask))
    np.testing.assert_array_equal(out[0], x[0, :3].max(axis=0))
    np.testing.assert_array_equal(out[1], x[1, 2:].max(axis=0))
    np.testing.assert_array_equal(out[2], [0.0, 0.0])  # no real step
    np.testing.assert_array_equal(MaskedMaxPooling1D()(x), x.max(axis=1))


def test_very_negative_real_steps_still_beat_padding():
    x = np.array([[[-60000.0], [0.0]]], "float32")
    out = MaskedMaxPooling1D()(x, mask=np.array([[True, False]]))
    np.testing.assert_array_equal(out, [[-60000.0]])


def test_mask_of_an_embedding_is_read_and_dropped():
    ids = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(8, 3, mask_zero=True)
    pooled = MaskedMaxPooling1D()(embedding(ids))
    assert get_keras_mask(pooled) is None
    vectors = np.asarray(embedding(IDS))
    expected = [vectors[row][IDS[row] > 0].max(axis=0) if (IDS[row] > 0).any() else np.zeros(3)
                for row in range(len(IDS))]
    np.testing.assert_allclose(keras.Model(ids, pooled)(IDS), expected, atol=1e-7)


def test_tflite_matches():
    ids = keras.Input(batch_shape=IDS.shape, dtype="int32")
    pooled = MaskedMaxPooling1D()(keras.layers.Embedding(8, 3, mask_zero=True)(ids))
    assert_tflite_matches(keras.Model(ids, pooled), IDS)
