import keras
import numpy as np
import pytest

from harness import assert_tflite_matches, run_layer_test
from kerasrnn.layers import TiedEmbedding

IDS = np.array([[1, 4, 0], [9, 2, 3]], "int32")


def test_layer_contract():
    run_layer_test(TiedEmbedding, {"input_dim": 10, "output_dim": 4}, IDS.shape, (2, 3, 4), 2,
                   input_data=IDS)


def test_lookup_and_reverse_read_one_matrix():
    layer = TiedEmbedding(10, 3)
    layer(IDS)
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(10, 3)).astype("float32")
    bias = rng.normal(size=10).astype("float32")
    layer.set_weights([matrix, bias])
    np.testing.assert_array_equal(layer(IDS), matrix[IDS])
    vectors = rng.normal(size=(2, 3, 3)).astype("float32")
    np.testing.assert_allclose(layer(vectors, reverse=True), vectors @ matrix.T + bias, atol=1e-5)


def test_symbolic_reverse_gives_vocabulary_logits():
    ids = keras.Input((None,), dtype="int32")
    layer = TiedEmbedding(10, 4)
    logits = layer(keras.layers.Dense(4)(layer(ids)), reverse=True)
    assert tuple(logits.shape) == (None, None, 10)
    assert len(keras.Model(ids, logits).trainable_weights) == 4  # the matrix and bias once, the Dense


@pytest.mark.parametrize("kwargs, message", [({"input_dim": 0, "output_dim": 3}, "input_dim=0"),
                                             ({"input_dim": 4, "output_dim": 2.5}, "output_dim=2.5")])
def test_invalid_sizes_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TiedEmbedding(**kwargs)


def test_tflite_matches():
    ids = keras.Input(batch_shape=IDS.shape, dtype="int32")
    embedding = TiedEmbedding(10, 4)
    hidden = keras.layers.Dense(4, activation="tanh")(embedding(ids))
    model = keras.Model(ids, embedding(hidden, reverse=True))
    assert_tflite_matches(model, IDS)
