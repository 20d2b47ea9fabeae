import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import (
    assert_gradients_match_finite_differences,
    assert_loads_in_fresh_process,
    assert_masking,
    assert_stateful_chunks,
    random_inputs,
    run_layer_test,
)
from kerasrnn.layers.min_lstm import MinLSTM, MinLSTMCell


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference(x, kernel, bias, h=None):
    """The paper's equations, step by step in numpy."""
    units = kernel.shape[1] // 3
    h = np.zeros((x.shape[0], units)) if h is None else h
    outputs = []
    for step in range(x.shape[1]):
        gates = x[:, step] @ kernel + bias
        f, i = sigmoid(gates[:, :units]), sigmoid(gates[:, units : 2 * units])
        candidate = gates[:, 2 * units :]
        h = f / (f + i) * h + i / (f + i) * candidate
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
def test_layer_contract(kwargs, weights, output_shape):
    run_layer_test(MinLSTM, {"units": 3, **kwargs}, (2, 4, 5), output_shape, weights)


def test_weight_shapes():
    layer = MinLSTM(3)
    layer(np.zeros((1, 2, 5), "float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(5, 9), (9,)]
    assert layer.count_params() == 5 * 9 + 9


def test_constant_weights_match_hand_computation():
    x = np.array([[[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]]], "float32")
    h, expected = 0.0, []
    for step in x[0]:
        # Equal forget and input gates normalize to one half each.
        v = 0.1 * step.sum() + 0.2
        h = 0.5 * h + 0.5 * v
        expected.append([h, h])
    for scan in ("sequential", "parallel"):
        layer = MinLSTM(
            2,
            kernel_initializer=keras.initializers.Constant(0.1),
            bias_initializer=keras.initializers.Constant(0.2),
            return_sequences=True,
            scan=scan,
        )
        np.testing.assert_allclose(layer(x)[0], expected, atol=1e-6)


def test_random_weights_match_paper_equations():
    x = random_inputs((3, 6, 4))
    layer = MinLSTM(5, return_sequences=True, return_state=True)
    layer(x)
    rng = np.random.default_rng(2)
    kernel, bias = rng.normal(size=(4, 15)), rng.normal(size=15)
    h0 = rng.normal(size=(3, 5))
    layer.set_weights([kernel, bias])
    outputs, state = layer(x, initial_state=[h0.astype("float32")])
    expected = reference(x.astype("float64"), kernel, bias, h0)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_allclose(state, expected[:, -1], atol=1e-5)


def test_cell_steps_match_layer():
    x = random_inputs((2, 5, 3))
    layer = MinLSTM(4, return_sequences=True)
    expected = layer(x)
    cell = MinLSTMCell(4)
    cell(x[:, 0], [np.zeros((2, 4), "float32")])
    cell.set_weights(layer.get_weights())
    h = np.zeros((2, 4), "float32")
    for step in range(5):
        output, [h] = cell(x[:, step], [h])
        np.testing.assert_allclose(output, expected[:, step], atol=1e-6)
    generic = keras.layers.RNN(cell, return_sequences=True)
    np.testing.assert_allclose(generic(x), expected, atol=1e-6)


@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_masking(scan):
    assert_masking(MinLSTM, {"units": 3, "scan": scan}, random_inputs((3, 6, 2)))


def test_masked_outputs_match_generic_loop():
    x = random_inputs((3, 6, 2))
    mask = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1] * 6], bool)
    for go_backwards in (False, True):
        layer = MinLSTM(3, return_sequences=True, go_backwards=go_backwards)
        generic = keras.layers.RNN(
            MinLSTMCell(3), return_sequences=True, go_backwards=go_backwards
        )
        layer(x), generic(x)
        generic.set_weights(layer.get_weights())
        np.testing.assert_allclose(layer(x, mask=mask), generic(x, mask=mask), atol=1e-6)


def test_bidirectional_with_mask_matches_generic_loop():
    x = random_inputs((2, 5, 3))
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], bool)
    fast = keras.layers.Bidirectional(MinLSTM(4, return_sequences=True))
    generic = keras.layers.Bidirectional(
        keras.layers.RNN(MinLSTMCell(4), return_sequences=True)
    )
    fast(x), generic(x)
    generic.set_weights(fast.get_weights())
    np.testing.assert_allclose(fast(x, mask=mask), generic(x, mask=mask), atol=1e-6)


def test_stateful_chunks():
    assert_stateful_chunks(MinLSTM, {"units": 3}, random_inputs((2, 7, 2)), split=3)


def test_scan_paths_agree_with_gradients():
    x = tf.constant(random_inputs((3, 9, 4)))
    h0 = tf.constant(random_inputs((3, 5), seed=1))
    mask = np.ones((3, 9), bool)
    mask[1, 6:] = False
    weights = None
    results = []
    for scan in ("sequential", "parallel"):
        layer = MinLSTM(5, return_sequences=True, scan=scan, go_backwards=True)
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
def test_gradients_match_finite_differences(scan):
    assert_gradients_match_finite_differences(
        MinLSTM, {"units": 3, "scan": scan, "activation": "tanh"}, random_inputs((2, 4, 2))
    )


@pytest.mark.slow
def test_jit_compile_matches_eager():
    x = random_inputs((2, 6, 3))
    for scan in ("sequential", "parallel"):
        layer = MinLSTM(4, return_sequences=True, scan=scan)
        compiled = tf.function(lambda inputs: layer(inputs), jit_compile=True)
        np.testing.assert_allclose(compiled(x), layer(x), atol=1e-6)


@pytest.mark.slow
def test_saved_model_loads_in_fresh_process(tmp_path):
    x = random_inputs((2, 5, 3))
    inputs = keras.Input((5, 3))
    hidden = keras.layers.Bidirectional(MinLSTM(4, return_sequences=True))(inputs)
    outputs = MinLSTM(2, go_backwards=True, scan="parallel", activation="tanh")(hidden)
    assert_loads_in_fresh_process(tmp_path, {"min_lstm": (keras.Model(inputs, outputs), x)})


@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_tflite_matches_keras(scan):
    from ai_edge_litert.interpreter import Interpreter

    x = random_inputs((2, 6, 3))
    inputs = keras.Input(batch_shape=(2, 6, 3))
    model = keras.Model(inputs, MinLSTM(4, return_sequences=True, scan=scan)(inputs))
    function = tf.function(lambda inputs: model(inputs, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec(x.shape, tf.float32))
    # Without the model as trackable object the converter freezes the
    # weights into constants instead of keeping uninitialized variables.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, model(x), atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units"),
        ({"units": 2, "dropout": 1.0}, "dropout"),
        ({"units": 2, "scan": "fast"}, "scan"),
        ({"units": 2, "return_sequences": "yes"}, "return_sequences"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MinLSTM(**kwargs)
