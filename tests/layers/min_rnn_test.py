"""MinGRU and MinLSTM (Feng et al. 2024): the same contract, two gate rules."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import (
    assert_gradients_match_finite_differences,
    assert_loads_in_fresh_process,
    assert_masking,
    assert_stateful_chunks,
    assert_tflite_matches,
    random_inputs,
    run_layer_test,
    sigmoid,
)
from kerasrnn.layers.min_gru import MinGRU, MinGRUCell
from kerasrnn.layers.min_lstm import MinLSTM, MinLSTMCell


def min_gru_update(h, gates, units):
    z, candidate = sigmoid(gates[:, :units]), gates[:, units:]
    return (1 - z) * h + z * candidate


def min_lstm_update(h, gates, units):
    f, i = sigmoid(gates[:, :units]), sigmoid(gates[:, units : 2 * units])
    candidate = gates[:, 2 * units :]
    return f / (f + i) * h + i / (f + i) * candidate


VARIANTS = {
    "min_gru": (MinGRU, MinGRUCell, 2, min_gru_update),
    "min_lstm": (MinLSTM, MinLSTMCell, 3, min_lstm_update),
}


@pytest.fixture(params=sorted(VARIANTS))
def variant(request):
    """(layer class, cell class, gate blocks, the paper's update of h)."""
    return VARIANTS[request.param]


def reference(x, kernel, bias, update, gates, h=None):
    """The paper's equations, step by step in numpy."""
    units = kernel.shape[1] // gates
    h = np.zeros((x.shape[0], units)) if h is None else h
    outputs = []
    for step in range(x.shape[1]):
        h = update(h, x[:, step] @ kernel + bias, units)
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize(
    "kwargs, weights, output_shape",
    [
        ({}, 2, (2, 3)),
        ({"use_bias": False}, 1, (2, 3)),
        ({"return_sequences": True, "return_state": True}, 2, [(2, 4, 3), (2, 3)]),
        ({"scan": "parallel", "dropout": 0.2, "activation": "tanh"}, 2, (2, 3)),
    ],
)
def test_layer_contract(variant, kwargs, weights, output_shape):
    layer_cls, cell_cls, gates, update = variant
    run_layer_test(layer_cls, {"units": 3, **kwargs}, (2, 4, 5), output_shape, weights)


def test_weight_shapes(variant):
    layer_cls, cell_cls, gates, update = variant
    layer = layer_cls(3)
    layer(np.zeros((1, 2, 5), "float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(5, 3 * gates), (3 * gates,)]
    assert layer.count_params() == 5 * 3 * gates + 3 * gates


def test_constant_weights_match_hand_computation(variant):
    layer_cls, cell_cls, gates, update = variant
    x = np.array([[[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]]], "float32")
    h, expected = 0.0, []
    for step in x[0]:
        v = 0.1 * step.sum() + 0.2
        # All gate columns equal v: MinGRU keeps 1 - sigmoid(v) of h; MinLSTM's
        # equal forget and input gates normalize to one half each.
        h = update(np.array([[h]]), np.full((1, gates), v), 1)[0, 0]
        expected.append([h, h])
    for scan in ("sequential", "parallel"):
        layer = layer_cls(
            2,
            kernel_initializer=keras.initializers.Constant(0.1),
            bias_initializer=keras.initializers.Constant(0.2),
            return_sequences=True,
            scan=scan,
        )
        np.testing.assert_allclose(layer(x)[0], expected, atol=1e-6)


def test_random_weights_match_paper_equations(variant):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((3, 6, 4))
    layer = layer_cls(5, return_sequences=True, return_state=True)
    layer(x)
    rng = np.random.default_rng(2)
    kernel, bias = rng.normal(size=(4, 5 * gates)), rng.normal(size=5 * gates)
    h0 = rng.normal(size=(3, 5))
    layer.set_weights([kernel, bias])
    outputs, state = layer(x, initial_state=[h0.astype("float32")])
    expected = reference(x.astype("float64"), kernel, bias, update, gates, h0)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_allclose(state, expected[:, -1], atol=1e-5)


def test_cell_steps_match_layer(variant):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((2, 5, 3))
    layer = layer_cls(4, return_sequences=True)
    expected = layer(x)
    cell = cell_cls(4)
    cell(x[:, 0], [np.zeros((2, 4), "float32")])
    cell.set_weights(layer.get_weights())
    h = np.zeros((2, 4), "float32")
    for step in range(5):
        output, [h] = cell(x[:, step], [h])
        np.testing.assert_allclose(output, expected[:, step], atol=1e-6)
    generic = keras.layers.RNN(cell, return_sequences=True)
    np.testing.assert_allclose(generic(x), expected, atol=1e-6)


@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_masking(variant, scan):
    layer_cls, cell_cls, gates, update = variant
    assert_masking(layer_cls, {"units": 3, "scan": scan}, random_inputs((3, 6, 2)))


def test_masked_outputs_match_generic_loop(variant):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((3, 6, 2))
    mask = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1] * 6], bool)
    for go_backwards in (False, True):
        layer = layer_cls(3, return_sequences=True, go_backwards=go_backwards)
        generic = keras.layers.RNN(
            cell_cls(3), return_sequences=True, go_backwards=go_backwards
        )
        layer(x), generic(x)
        generic.set_weights(layer.get_weights())
        np.testing.assert_allclose(layer(x, mask=mask), generic(x, mask=mask), atol=1e-6)


def test_bidirectional_with_mask_matches_generic_loop(variant):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((2, 5, 3))
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], bool)
    fast = keras.layers.Bidirectional(layer_cls(4, return_sequences=True))
    generic = keras.layers.Bidirectional(
        keras.layers.RNN(cell_cls(4), return_sequences=True)
    )
    fast(x), generic(x)
    generic.set_weights(fast.get_weights())
    np.testing.assert_allclose(fast(x, mask=mask), generic(x, mask=mask), atol=1e-6)


def test_stateful_chunks(variant):
    layer_cls, cell_cls, gates, update = variant
    assert_stateful_chunks(layer_cls, {"units": 3}, random_inputs((2, 7, 2)), split=3)


def test_scan_paths_agree_with_gradients(variant):
    layer_cls, cell_cls, gates, update = variant
    x = tf.constant(random_inputs((3, 9, 4)))
    h0 = tf.constant(random_inputs((3, 5), seed=1))
    mask = np.ones((3, 9), bool)
    mask[1, 6:] = False
    weights = None
    results = []
    for scan in ("sequential", "parallel"):
        layer = layer_cls(5, return_sequences=True, scan=scan, go_backwards=True)
        layer(x)
        weights = weights or layer.get_weights()
        layer.set_weights(weights)
        with tf.GradientTape() as tape:
            tape.watch([x, h0])
            y = layer(x, initial_state=[h0], mask=mask)
            loss = tf.reduce_sum(tf.sin(y))
        results.append([y, *tape.gradient(loss, [x, h0, *layer.trainable_weights])])
    for sequential, parallel in zip(*results):
        np.testing.assert_allclose(sequential, parallel, atol=1e-5)


@pytest.mark.parametrize(
    "scan", ["sequential", pytest.param("parallel", marks=pytest.mark.slow)]
)
def test_gradients_match_finite_differences(variant, scan):
    layer_cls, cell_cls, gates, update = variant
    assert_gradients_match_finite_differences(
        layer_cls, {"units": 3, "scan": scan, "activation": "tanh"}, random_inputs((2, 4, 2))
    )


@pytest.mark.slow
def test_jit_compile_matches_eager(variant):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((2, 6, 3))
    for scan in ("sequential", "parallel"):
        layer = layer_cls(4, return_sequences=True, scan=scan)
        compiled = tf.function(lambda inputs: layer(inputs), jit_compile=True)
        np.testing.assert_allclose(compiled(x), layer(x), atol=1e-6)


@pytest.mark.slow
def test_saved_model_loads_in_fresh_process(variant, tmp_path):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((2, 5, 3))
    inputs = keras.Input((5, 3))
    hidden = keras.layers.Bidirectional(layer_cls(4, return_sequences=True))(inputs)
    outputs = layer_cls(2, go_backwards=True, scan="parallel", activation="tanh")(hidden)
    assert_loads_in_fresh_process(tmp_path, {layer_cls.__name__: (keras.Model(inputs, outputs), x)})


@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_tflite_matches_keras(variant, scan):
    layer_cls, cell_cls, gates, update = variant
    x = random_inputs((2, 6, 3))
    inputs = keras.Input(batch_shape=(2, 6, 3))
    model = keras.Model(inputs, layer_cls(4, return_sequences=True, scan=scan)(inputs))
    assert_tflite_matches(model, x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units"),
        ({"units": 2, "dropout": 1.0}, "dropout"),
        ({"units": 2, "scan": "fast"}, "scan"),
        ({"units": 2, "return_sequences": "yes"}, "return_sequences"),
    ],
)
def test_invalid_arguments_name_the_argument(variant, kwargs, message):
    layer_cls, cell_cls, gates, update = variant
    with pytest.raises(ValueError, match=message):
        layer_cls(**kwargs)
