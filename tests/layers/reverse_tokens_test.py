import keras
import numpy as np

from harness import assert_loads_in_fresh_process, assert_tflite_matches, run_layer_test
from kerasrnn.layers import ReverseTokens

IDS = np.array([[5, 6, 7, 0], [8, 9, 0, 0], [4, 0, 0, 0]], "int32")


def test_layer_contract():
    run_layer_test(ReverseTokens, {}, IDS.shape, IDS.shape, 0,
                   run_training=False, run_mixed_precision=False, input_data=IDS)


def test_each_row_is_reversed_up_to_its_length_and_padding_stays():
    np.testing.assert_array_equal(
        ReverseTokens()(IDS), [[7, 6, 5, 0], [9, 8, 0, 0], [4, 0, 0, 0]])
    # Twice is the identity.
    np.testing.assert_array_equal(ReverseTokens()(ReverseTokens()(IDS)), IDS)


def test_an_encoder_reads_a_padded_row_as_that_row_alone():
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 3, mask_zero=True)(ReverseTokens()(ids))
    model = keras.Model(ids, keras.layers.GRU(4)(x))
    batch = np.asarray(model(IDS))
    alone = np.asarray(model(IDS[1:2, :2]))
    np.testing.assert_allclose(batch[1:2], alone, atol=1e-6)


def test_reload_and_tflite(tmp_path):
    ids = keras.Input(batch_shape=(1, 4), dtype="int32")
    model = keras.Model(ids, keras.layers.Embedding(10, 3)(ReverseTokens()(ids)))
    assert_loads_in_fresh_process(tmp_path, {"reverse": (model, IDS[:1])})
    assert_tflite_matches(model, IDS[:1])
