"""Keras's own RNN tests, run against kerasrnn's layers: the test of "drop-in".

The installed Keras ships the test modules of its recurrent layers. Their
test classes are collected here as they are; for each test, the `layers`
module they import is swapped for one that answers `LSTM`, `GRU`,
`SimpleRNN` and `Bidirectional` with kerasrnn's layers and everything else
with Keras's own. Nothing of Keras's code is copied.

Tests of Keras's private methods are skipped, by name, with the reason;
Keras's own skip marks (the torch-only tests) hold as they are. Below them,
every argument of Keras's LSTM, GRU and SimpleRNN, set away from its
default, gives the config and outputs Keras gives.
"""

import inspect
import types

import keras
import numpy as np
import pytest
from keras.src import layers as keras_layers
from keras.src.layers.rnn import bidirectional_test, gru_test, lstm_test, simple_rnn_test

import kerasrnn.layers

# Collected by pytest under these names; the Bidirectional class is called SimpleRNNTest in Keras.
LSTMTest = lstm_test.LSTMTest
GRUTest = gru_test.GRUTest
SimpleRNNTest = simple_rnn_test.SimpleRNNTest
BidirectionalTest = bidirectional_test.SimpleRNNTest

SWAPPED = ("LSTM", "GRU", "SimpleRNN", "Bidirectional")
MODULES = (lstm_test, gru_test, simple_rnn_test, bidirectional_test)

PRIVATE = "tests a private method of keras.layers.Bidirectional, not a behaviour of the layers"
SKIPPED = {
    # `_can_attempt_fused_lstm` / `_can_attempt_fused_gru` ask whether the wrapped
    # layers are Keras's own LSTM and GRU before Keras tries its backend's fused
    # bidirectional kernel (JAX and torch only; none on TensorFlow).
    "test_fused_lstm_eligibility": PRIVATE + " (`_can_attempt_fused_lstm`)",
    "test_fused_gru_eligibility": PRIVATE + " (`_can_attempt_fused_gru`)",
}


def _layers_with_ours():
    shim = types.ModuleType("keras_layers_with_kerasrnn")
    shim.__getattr__ = lambda name: getattr(keras_layers, name)
    for name in SWAPPED:
        setattr(shim, name, getattr(kerasrnn.layers, name))
    return shim


@pytest.fixture(autouse=True)
def _kerasrnn_layers(request, monkeypatch):
    if request.node.name in SKIPPED:
        pytest.skip(SKIPPED[request.node.name])
    shim = _layers_with_ours()
    for module in MODULES:
        monkeypatch.setattr(module, "layers", shim)


def test_the_swap_reaches_keras_tests():
    for module in MODULES:
        assert module.layers.LSTM is kerasrnn.layers.LSTM
        assert module.layers.Dense is keras_layers.Dense


# Every argument of Keras's layers, each set away from its default.
NON_DEFAULT = {
    "activation": "relu",
    "recurrent_activation": "hard_sigmoid",
    "use_bias": False,
    "kernel_initializer": "random_normal",
    "recurrent_initializer": "random_normal",
    "bias_initializer": "ones",
    "unit_forget_bias": False,
    "kernel_regularizer": "l2",
    "recurrent_regularizer": "l1",
    "bias_regularizer": "l2",
    "activity_regularizer": "l1",
    "kernel_constraint": "non_neg",
    "recurrent_constraint": "unit_norm",
    "bias_constraint": "max_norm",
    "dropout": 0.25,
    "recurrent_dropout": 0.25,
    "seed": 7,
    "return_sequences": True,
    "return_state": True,
    "go_backwards": True,
    "stateful": True,
    "unroll": True,
    "use_cudnn": False,
    "reset_after": False,
    "zero_output_for_mask": True,
    "implementation": 1,
}


def _keras_arguments(keras_cls):
    names = set(inspect.signature(keras_cls.__init__).parameters) - {"self", "units", "kwargs"}
    if keras_cls is not keras.layers.SimpleRNN:
        names.add("implementation")
    names.add("zero_output_for_mask")  # keras.layers.RNN's, through **kwargs
    missing = names - set(NON_DEFAULT)
    assert not missing, f"a Keras argument this test does not know: {missing}"
    return {name: NON_DEFAULT[name] for name in sorted(names)}


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_takes_every_argument_of_keras_with_its_meaning(name):
    keras_cls, cls = getattr(keras.layers, name), getattr(kerasrnn.layers, name)
    kwargs = _keras_arguments(keras_cls)
    reference, layer = keras_cls(3, **kwargs), cls(3, **kwargs)
    # Keras's SimpleRNN takes `activity_regularizer` but drops it; ours applies it, as documented.
    dropped = {"activity_regularizer"} if name == "SimpleRNN" else set()
    theirs, ours = reference.get_config(), layer.get_config()
    assert {key: ours.get(key) for key in theirs if key not in {"name", *dropped}} == {
        key: value for key, value in theirs.items() if key not in {"name", *dropped}
    }
    x = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
    mask = np.array([[True] * 4, [True, True, True, False]])
    reference(x, mask=mask)
    layer(x, mask=mask)
    layer.set_weights(reference.get_weights())
    reference.reset_state()
    layer.reset_state()
    for got, want in zip(layer(x, mask=mask), reference(x, mask=mask)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    if dropped:
        assert len(layer.losses) > len(reference.losses)
    else:
        assert len(layer.losses) == len(reference.losses)
