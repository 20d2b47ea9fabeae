"""The cells as Keras's own: inside `keras.layers.RNN`, with Keras's arguments; and the abstract base."""

import keras
import numpy as np
import pytest

from harness import random_inputs
from kerasrnn.layers import GRUCell, LSTMCell, RecurrentBase, SimpleRNNCell
from kerasrnn.layers.recurrent_cell import RecurrentCell

# Keras's cell arguments, each away from its default where that changes the outputs.
CASES = [
    (LSTMCell, keras.layers.LSTMCell, {"unit_forget_bias": False, "implementation": 1}),
    (GRUCell, keras.layers.GRUCell, {"reset_after": False, "implementation": 1}),
    (GRUCell, keras.layers.GRUCell, {"recurrent_activation": "hard_sigmoid", "implementation": 0}),
    (SimpleRNNCell, keras.layers.SimpleRNNCell, {}),
]
SHARED = {
    "activation": "relu",
    "use_bias": True,
    "kernel_initializer": "random_normal",
    "recurrent_initializer": "random_normal",
    "bias_initializer": "random_normal",
    "kernel_regularizer": "l2",
    "recurrent_regularizer": "l1",
    "bias_regularizer": "l2",
    "kernel_constraint": "non_neg",
    "recurrent_constraint": "unit_norm",
    "bias_constraint": "max_norm",
    "dropout": 0.25,
    "recurrent_dropout": 0.25,
    "seed": 3,
}


@pytest.mark.parametrize("cell_cls, keras_cell_cls, kwargs", CASES)
def test_cells_run_inside_keras_rnn_as_keras_cells_do(cell_cls, keras_cell_cls, kwargs):
    x = random_inputs((2, 4, 5))
    mask = np.array([[True] * 4, [False, True, True, True]])
    reference = keras.layers.RNN(keras_cell_cls(3, **SHARED, **kwargs), return_sequences=True)
    layer = keras.layers.RNN(cell_cls(3, **SHARED, **kwargs), return_sequences=True)
    reference(x)
    layer(x)
    layer.set_weights(reference.get_weights())
    np.testing.assert_allclose(layer(x, mask=mask), reference(x, mask=mask), atol=1e-5)
    assert len(layer.losses) == len(reference.losses)
    assert np.all(np.isfinite(layer(x, training=True)))
    theirs, ours = reference.cell.get_config(), layer.cell.get_config()
    assert {key: ours[key] for key in theirs if key != "name"} == {
        key: value for key, value in theirs.items() if key != "name"
    }
    restored = keras.layers.RNN.from_config(keras.saving.serialize_keras_object(layer)["config"])
    assert type(restored.cell) is cell_cls


def test_stacked_cells_inside_keras_rnn():
    x = random_inputs((2, 4, 5))
    layer = keras.layers.RNN([LSTMCell(3), GRUCell(2)], return_sequences=True, return_state=True)
    output, h1, c1, h2 = keras.tree.flatten(layer(x))
    assert output.shape == (2, 4, 2) and h1.shape == c1.shape == (2, 3) and h2.shape == (2, 2)


def test_the_abstract_base_fails_clearly():
    cell = RecurrentCell(3)
    with pytest.raises(NotImplementedError, match="RecurrentCell is an abstract base class"):
        cell(random_inputs((2, 5)), [np.zeros((2, 3), "float32")])
    with pytest.raises(NotImplementedError, match="abstract base class"):
        keras.layers.RNN(RecurrentCell(3))(random_inputs((2, 4, 5)))
    with pytest.raises(TypeError, match="RecurrentBase is a base class"):
        RecurrentBase(3)


def test_implementation_is_validated_on_the_cells():
    for value in (3, "fused", True):
        with pytest.raises(ValueError, match=f"implementation={value!r}"):
            LSTMCell(3, implementation=value)
    with pytest.raises(ValueError, match="implementation"):
        SimpleRNNCell(3, implementation=1)  # as keras.layers.SimpleRNNCell: not an argument
