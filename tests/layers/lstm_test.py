import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import (
    assert_gradients_match_finite_differences,
    assert_masking,
    assert_stateful_chunks,
    assert_tflite_matches,
    outputs_and_gradients,
    random_inputs,
    run_layer_test,
    sigmoid,
)
from kerasrnn.layers import LSTM


@pytest.mark.parametrize(
    "kwargs, weights, output_shape",
    [
        ({}, 3, (2, 3)),
        ({"peephole": True}, 4, (2, 3)),
        ({"coupled_gates": True}, 3, (2, 3)),
        ({"projection_units": 2, "return_state": True}, 4, [(2, 2), (2, 2), (2, 3)]),
    ],
)
def test_layer_contract(kwargs, weights, output_shape):
    run_layer_test(LSTM, {"units": 3, **kwargs}, (2, 4, 5), output_shape, weights)


def test_constant_weights_match_hand_computation():
    layer = LSTM(
        2,
        kernel_initializer=keras.initializers.Constant(0.1),
        recurrent_initializer=keras.initializers.Constant(0.2),
        return_sequences=True,
    )
    x = np.array([[[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]], "float32")
    h, c = np.zeros(2), np.zeros(2)
    expected = []
    for step in x[0]:
        z = 0.1 * step.sum() + 0.2 * h.sum()
        i, f, g, o = sigmoid(z), sigmoid(z + 1.0), np.tanh(z), sigmoid(z)
        c = f * c + i * g
        h = o * np.tanh(c)
        expected.append(h)
    for loop in ("generic", "fused"):
        layer = LSTM(
            2,
            kernel_initializer=keras.initializers.Constant(0.1),
            recurrent_initializer=keras.initializers.Constant(0.2),
            return_sequences=True,
            loop=loop,
        )
        np.testing.assert_allclose(layer(x)[0], np.array(expected), atol=1e-6)


def test_peephole_cifg_projection_step_by_hand():
    layer = LSTM(2, peephole=True, coupled_gates=True, projection_units=1, return_state=True)
    x = np.array([[[0.5, -1.0]]], "float32")
    layer(x)
    kernel = np.full((2, 6), 0.3, "float32")
    recurrent = np.full((1, 6), 0.2, "float32")
    bias = np.array([0.1, 0.1, 0.0, 0.0, -0.1, -0.1], "float32")
    peephole = np.array([[0.5, 0.5], [1.0, 1.0]], "float32")
    projection = np.array([[1.0], [2.0]], "float32")
    layer.set_weights([kernel, recurrent, bias, peephole, projection])
    h0, c0 = np.array([[1.0]], "float32"), np.array([[0.2, -0.2]], "float32")
    output, h, c = layer(x, initial_state=[h0, c0])
    z = x[0, 0] @ kernel + h0[0] @ recurrent + bias
    i = sigmoid(z[:2] + 0.5 * c0[0])
    c_new = (1 - i) * c0[0] + i * np.tanh(z[2:4])
    o = sigmoid(z[4:] + 1.0 * c_new)
    h_new = (o * np.tanh(c_new)) @ projection
    np.testing.assert_allclose(c[0], c_new, atol=1e-6)
    np.testing.assert_allclose(output[0], h_new, atol=1e-6)
    np.testing.assert_allclose(h[0], h_new, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{"loop": "generic"}, {"loop": "fused"}, {"projection_units": 2}],
)
def test_masking(kwargs):
    assert_masking(LSTM, {"units": 3, **kwargs}, random_inputs((3, 5, 2)))


@pytest.mark.parametrize("loop", ["generic", "fused"])
def test_stateful_chunks_equal_full_call(loop):
    assert_stateful_chunks(
        LSTM, {"units": 3, "loop": loop}, random_inputs((2, 6, 2)), split=4
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"peephole": True},
        {"peephole": True, "coupled_gates": True, "projection_units": 2},
    ],
)
def test_gradients_of_variants_match_finite_differences(kwargs):
    assert_gradients_match_finite_differences(LSTM, {"units": 2, **kwargs}, random_inputs((2, 3, 2)))


@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_keras_lstm_with_its_weights(go_backwards):
    x = random_inputs((3, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[1, 3:] = False
    reference = keras.layers.LSTM(3, return_sequences=True, return_state=True, go_backwards=go_backwards)
    expected = reference(x, mask=mask)
    for loop in ("generic", "fused"):
        layer = LSTM(3, return_sequences=True, return_state=True, go_backwards=go_backwards,
                     loop=loop)
        layer(x)
        layer.set_weights(reference.get_weights())
        for got, want in zip(layer(x, mask=mask), expected):
            np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("padding", [None, "right", "left"])
@pytest.mark.parametrize("length", ["fixed", "varying"])
def test_fused_path_matches_generic_path(go_backwards, padding, length):
    x = random_inputs((3, 6, 4))
    mask = None
    if padding:
        mask = np.ones((3, 6), bool)
        mask[1, 4:] = False
        mask[2, :2] = False
        if padding == "left":
            mask = mask[:, ::-1]
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    generic = LSTM(3, loop="generic", **kwargs)
    generic(x)
    fused = LSTM(3, loop="fused", **kwargs)
    fused(x)
    fused.set_weights(generic.get_weights())
    for a, b in zip(outputs_and_gradients(generic, x, mask),
                    outputs_and_gradients(fused, x, mask, length)):
        for got, want in zip(b, a):
            np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("layer_class", ["LSTM", "GRU"])
def test_fused_gradient_in_a_custom_loop_with_default_training(layer_class):
    # A custom loop calls the layer under a tape with `training` left out.
    import kerasrnn.layers

    make = getattr(kerasrnn.layers, layer_class)
    x = tf.constant(random_inputs((3, 6, 4)))
    generic, fused = make(3, loop="generic"), make(3, loop="fused")
    generic(x)
    fused(x)
    fused.set_weights(generic.get_weights())

    @tf.function
    def gradients(layer):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(layer(x)))
        return tape.gradient(loss, layer.trainable_weights)

    for got, want in zip(gradients(fused), gradients(generic)):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_loop_choice():
    with pytest.raises(ValueError, match="peephole=True"):
        LSTM(3, peephole=True, loop="fused")
    with pytest.raises(ValueError, match="loop='fast'"):
        LSTM(3, loop="fast")
    assert LSTM(3, loop="generic").get_config()["loop"] == "generic"


@pytest.mark.parametrize(
    "name, value",
    [("units", 0), ("dropout", 1.5), ("projection_units", -1), ("peephole", "yes"), ("activation", "nope")],
)
def test_invalid_arguments_name_the_argument(name, value):
    kwargs = {"units": 3, name: value}
    with pytest.raises(ValueError, match=f"{name}={value!r}"):
        LSTM(**kwargs)


def test_cell_arguments_readable_on_layer():
    layer = LSTM(5, peephole=True, dropout=0.25)
    assert (layer.units, layer.peephole, layer.dropout) == (5, True, 0.25)


def test_jit_compiled_function_matches_eager():
    layer = LSTM(3, return_sequences=True)
    x = random_inputs((2, 4, 3))
    eager = layer(x)
    compiled = tf.function(lambda v: layer(v), jit_compile=True)(tf.constant(x))
    np.testing.assert_allclose(compiled, eager, atol=1e-5)


def test_dropout_acts_in_training_only():
    # That the recurrent mask is one per sequence: tests/layers/recurrent_test.py.
    layer = LSTM(3, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=1)
    x = random_inputs((2, 4, 3))
    np.testing.assert_allclose(layer(x), layer(x, training=False))
    assert not np.allclose(layer(x, training=True), layer(x, training=False))


@pytest.mark.parametrize("loop", ["generic", "fused"])
def test_tflite_conversion_matches(loop):
    inputs = keras.Input(batch_shape=(2, 5, 3))
    model = keras.Model(inputs, LSTM(4, return_sequences=True, loop=loop)(inputs))
    assert_tflite_matches(model, random_inputs((2, 5, 3)))
