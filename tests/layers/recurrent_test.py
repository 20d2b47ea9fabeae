import numpy as np
import pytest

import kerasrnn.layers as layers


def test_every_recipe_name_builds_its_layer():
    for name, cls in layers.CELLS.items():
        layer = layers.recurrent(name, 4, return_sequences=True)
        assert type(layer) is cls and layer.return_sequences


def test_unknown_cell_lists_known_ones():
    with pytest.raises(ValueError, match="'transformer'.*gru, .*lstm"):
        layers.recurrent("transformer", 4)


# Recurrent dropout (issue 15) ----------------------------------------------------


def test_recurrent_dropout_mask_is_one_per_sequence_and_only_in_training():
    """h_t = x_t + (m * h_{t-1}): a one at the first step, then zeros, so h_t = m**t elementwise.

    One mask reused at every step gives h_2 = h_1 ** 2 (values 0, 2, 4); a new
    mask each step would not. Rows of the batch draw their own masks.
    """
    units, steps = 64, 4
    layer = layers.SimpleRNN(units, activation="linear", use_bias=False, kernel_initializer="identity",
                             recurrent_initializer="identity", recurrent_dropout=0.5, seed=3,
                             return_sequences=True)
    x = np.zeros((2, steps, units), "float32")
    x[:, 0] = 1.0
    h = np.asarray(layer(x, training=True))
    first, second = h[:, 1], h[:, 2]
    assert set(np.unique(first)) == {0.0, 2.0}
    np.testing.assert_allclose(second, first**2)
    np.testing.assert_allclose(h[:, 3], first**3)
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), np.ones((2, steps, units)))
    np.testing.assert_allclose(np.asarray(layer(x)), np.ones((2, steps, units)))
