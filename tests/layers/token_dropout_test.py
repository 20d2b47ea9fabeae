import keras
import numpy as np

from harness import assert_tflite_matches, run_layer_test
from kerasrnn.layers import TokenDropout

IDS = np.array([[0, 1, 5, 7, 9, 0], [3, 3, 3, 2, 0, 0]], "int32")


def test_layer_contract():
    run_layer_test(TokenDropout, {"rate": 0.5, "seed": 1}, IDS.shape, IDS.shape, 0,
                   run_training=False, run_mixed_precision=False, input_data=IDS)


def test_rate_one_drops_every_real_token_and_keeps_padding():
    dropped = np.asarray(TokenDropout(1.0, seed=0)(IDS, training=True))
    np.testing.assert_array_equal(dropped, np.where(IDS > 0, 1, 0))


def test_ids_pass_unchanged_outside_training_or_at_rate_zero():
    np.testing.assert_array_equal(TokenDropout(0.9)(IDS, training=False), IDS)
    np.testing.assert_array_equal(TokenDropout(0.0)(IDS, training=True), IDS)


def test_a_seed_fixes_the_draws():
    ids = np.tile(IDS, (50, 1))
    first = np.asarray(TokenDropout(0.5, seed=4)(ids, training=True))
    second = np.asarray(TokenDropout(0.5, seed=4)(ids, training=True))
    np.testing.assert_array_equal(first, second)
    assert (first != ids).any() and (first == ids)[ids > 1].any()


def test_tflite_matches():
    ids = keras.Input(batch_shape=IDS.shape, dtype="int32")
    words = TokenDropout(0.5, seed=1)(ids)
    model = keras.Model(ids, keras.layers.Embedding(10, 3, mask_zero=True)(words))
    assert_tflite_matches(model, IDS)
