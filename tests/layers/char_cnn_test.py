import keras
import numpy as np

from harness import assert_tflite_matches, run_layer_test
from kerasrnn.layers import CharCNN

# Two sentences of three words, up to four characters; 0 is padding.
CHARS = np.array(
    [[[3, 1, 4, 0], [2, 0, 0, 0], [0, 0, 0, 0]], [[5, 9, 2, 6], [5, 3, 0, 0], [1, 0, 0, 0]]], "int32"
)


def reference(ids, embeddings, kernel, bias):
    """Embed, convolve ('same', tanh) and max-pool each word's real characters, in numpy."""
    width = kernel.shape[0]
    out = np.zeros(ids.shape[:2] + (kernel.shape[-1],))
    for row, step in np.ndindex(ids.shape[:2]):
        word = ids[row, step]
        real = word > 0
        if not real.any():
            continue
        x = np.pad(embeddings[word] * real[:, None], ((width // 2, width // 2), (0, 0)))
        conv = np.stack([np.einsum("wi,wif->f", x[t : t + width], kernel) for t in range(len(word))])
        out[row, step] = np.tanh(conv + bias)[real].max(axis=0)
    return out


def test_layer_contract():
    run_layer_test(CharCNN, {"chars": 10, "filters": 6, "dim": 5}, CHARS.shape, (2, 3, 6), 3,
                   input_data=CHARS)


def test_values_match_hand_computation():
    layer = CharCNN(10, 6, dim=5)
    layer(CHARS)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    np.testing.assert_allclose(layer(CHARS), reference(CHARS, *weights), atol=1e-5)


def test_padding_neither_changes_a_word_nor_wins():
    layer = CharCNN(10, 6)
    wider = np.pad(CHARS, ((0, 0), (0, 0), (0, 3)))
    out = np.asarray(layer(CHARS))
    np.testing.assert_allclose(layer(wider), out, atol=1e-6)
    np.testing.assert_array_equal(out[0, 2], 0.0)  # a padded word
    assert (out[1] > -1).all() and (out[1] != 0).any()


def test_tflite_matches():
    chars = keras.Input(batch_shape=CHARS.shape, dtype="int32")
    model = keras.Model(chars, CharCNN(10, 6)(chars))
    assert_tflite_matches(model, CHARS)
