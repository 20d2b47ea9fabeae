"""LSTM and GRU arguments around the loop: `loop`, `use_cudnn` and Keras's `implementation`.

cuDNN needs a GPU, so its dispatch is tested on CPU with a stand-in for
Keras's cuDNN kernel that records each call.
"""

import json
import pathlib
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import random_inputs
from kerasrnn.layers import GRU, LSTM, SimpleRNN

RELEASE_0_1 = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "release_0_1"
GPU = bool(tf.config.list_logical_devices("GPU"))


class FakeCudnn:
    """Keras's cuDNN kernel as the layer sees it: records the mask of each call, answers zeros.

    With `gpu=False` it raises `NotImplementedError`, as the real kernel does without a GPU.
    """

    def __init__(self, gpu=True):
        self.gpu = gpu
        self.masks = []

    def __call__(self, sequences, *states_and_mask, **kwargs):
        *states, mask = states_and_mask
        self.masks.append(mask)
        if not self.gpu:
            raise NotImplementedError
        batch, steps, units = sequences.shape[0], sequences.shape[1], states[0].shape[-1]
        return tf.zeros((batch, units)), tf.zeros((batch, steps, units)), [tf.zeros_like(s) for s in states]


def _with_fake_cudnn(layer, gpu=True):
    layer.cudnn_kernel = FakeCudnn(gpu)
    return layer.cudnn_kernel


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_auto_runs_cudnn_for_unmasked_calls_only(cls):
    x = random_inputs((2, 4, 3))
    layer = cls(3, return_sequences=True)
    fake = _with_fake_cudnn(layer)
    assert not np.any(layer(x)) and fake.masks == [None]
    assert not layer.supports_jit
    # Masks may be left-padded, which cuDNN cannot run: "auto" leaves them to the fused loop.
    assert np.all(layer(x, mask=np.ones((2, 4), bool)) != 0) and len(fake.masks) == 1


@pytest.mark.parametrize(
    "cls, kwargs, training",
    [
        (LSTM, {"use_cudnn": False}, False),
        (LSTM, {"loop": "generic"}, False),
        (LSTM, {"use_bias": False}, False),
        (LSTM, {"activation": "relu"}, False),
        (LSTM, {"unroll": True}, False),
        (LSTM, {"peephole": True}, False),
        (LSTM, {"recurrent_dropout": 0.25}, True),
        (LSTM, {"dropout": 0.25, "implementation": 1}, True),
        (GRU, {"reset_after": False}, False),
        (GRU, {"use_cudnn": False}, False),
    ],
)
def test_options_that_keep_auto_off_cudnn(cls, kwargs, training):
    layer = cls(3, **kwargs)
    fake = _with_fake_cudnn(layer)
    assert np.any(layer(random_inputs((2, 4, 3)), training=training))  # not the stand-in's zeros
    assert fake.masks == []


def test_dropout_alone_still_runs_cudnn():
    layer = LSTM(3, dropout=0.5)
    fake = _with_fake_cudnn(layer)
    layer(random_inputs((2, 4, 3)), training=True)
    assert fake.masks == [None]


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_use_cudnn_true_sends_the_mask_and_fails_without_a_gpu(cls):
    x, mask = random_inputs((2, 4, 3)), np.array([[True] * 4, [True, True, False, False]])
    layer = cls(3, use_cudnn=True)
    fake = _with_fake_cudnn(layer)
    layer(x, mask=mask)
    np.testing.assert_array_equal(fake.masks[0], mask)
    _with_fake_cudnn(layer, gpu=False)
    with pytest.raises(ValueError, match="use_cudnn=True.*no GPU"):
        layer(x)


@pytest.mark.skipif(GPU, reason="checks the error Keras gives without a GPU")
def test_use_cudnn_true_without_a_gpu_is_an_error_as_in_keras():
    x = random_inputs((2, 4, 3))
    for layer in (keras.layers.LSTM(3, use_cudnn=True), LSTM(3, use_cudnn=True), GRU(3, use_cudnn=True)):
        with pytest.raises(ValueError, match="use_cudnn=True"):
            layer(x)


def test_use_cudnn_true_fails_early_where_options_rule_cudnn_out():
    for kwargs, reason in [
        ({"peephole": True}, "peephole=True"),
        ({"loop": "generic"}, "loop='generic'"),
        ({"use_bias": False}, "use_bias=False"),
        ({"recurrent_dropout": 0.1}, "recurrent_dropout > 0"),
    ]:
        with pytest.raises(ValueError, match=f"use_cudnn=True.*{reason}"):
            LSTM(3, use_cudnn=True, **kwargs)
    for value in ("yes", 1, None):
        with pytest.raises(ValueError, match=f"use_cudnn={value!r}"):
            GRU(3, use_cudnn=value)


def test_use_cudnn_false_matches_auto_on_this_device():
    x = random_inputs((2, 4, 3))
    auto, off = LSTM(3, return_sequences=True), LSTM(3, return_sequences=True, use_cudnn=False)
    auto(x)
    off(x)
    off.set_weights(auto.get_weights())
    np.testing.assert_allclose(off(x), auto(x), atol=1e-5)
    assert "use_cudnn" not in auto.get_config()  # as in Keras: not saved


@pytest.mark.parametrize("cls, keras_cls", [(LSTM, keras.layers.LSTM), (GRU, keras.layers.GRU)])
@pytest.mark.parametrize("implementation", [0, 1, 2])
def test_implementation_takes_keras_modes(cls, keras_cls, implementation):
    x = random_inputs((2, 5, 4))
    reference = keras_cls(3, return_sequences=True, implementation=implementation)
    layer = cls(3, return_sequences=True, implementation=implementation)
    reference(x)
    layer(x)
    layer.set_weights(reference.get_weights())
    np.testing.assert_allclose(layer(x), reference(x), atol=1e-5)
    assert layer.cell.implementation == reference.cell.implementation == implementation
    assert layer.get_config()["implementation"] == implementation


def test_recurrent_dropout_draws_masks_per_gate_as_in_keras():
    for layer in (LSTM(3, recurrent_dropout=0.1), keras.layers.LSTM(3, recurrent_dropout=0.1)):
        assert layer.cell.implementation == 1 and layer.cell.dropout_mask_count == 4


@pytest.mark.parametrize(
    "cls, keras_cls, kwargs",
    [
        (LSTM, keras.layers.LSTM, {"implementation": 1, "recurrent_dropout": 0.5}),
        (LSTM, keras.layers.LSTM, {"implementation": 1}),
        (LSTM, keras.layers.LSTM, {"implementation": 2}),
        (GRU, keras.layers.GRU, {"implementation": 1, "recurrent_dropout": 0.5}),
        (GRU, keras.layers.GRU, {"implementation": 1, "recurrent_dropout": 0.5, "reset_after": False}),
        (GRU, keras.layers.GRU, {"implementation": 2}),
    ],
)
def test_dropout_masks_are_used_as_keras_uses_them(cls, keras_cls, kwargs):
    # The same masks in both layers: one per gate with implementation=1, one for all with 2.
    x = random_inputs((2, 5, 4))
    reference = keras_cls(3, dropout=0.5, return_sequences=True, use_cudnn=False, **kwargs)
    layer = cls(3, dropout=0.5, return_sequences=True, **kwargs)
    reference(x)
    layer(x)
    layer.set_weights(reference.get_weights())
    rng = np.random.default_rng(1)

    def masks(width):
        drawn = [tf.constant((rng.random((2, width)) > 0.5) * 2.0, tf.float32) for _ in range(4 if cls is LSTM else 3)]
        return drawn if layer.cell.implementation == 1 else drawn[0]

    input_masks, state_masks = masks(4), masks(3)
    for each in (reference, layer):
        each.cell.get_dropout_mask = lambda step, m=input_masks: m
        each.cell.get_recurrent_dropout_mask = lambda step, m=state_masks: m
    np.testing.assert_allclose(layer(x, training=True), reference(x, training=True), atol=1e-5)


def test_release_0_1_loop_choice_still_loads():
    config = LSTM(3).get_config()
    del config["loop"], config["implementation"]
    for loop in ("auto", "fused", "generic"):
        layer = LSTM.from_config({**config, "implementation": loop})
        assert (layer.loop, layer.cell.implementation) == (loop, 2)
    with pytest.raises(ValueError, match="loop='fused', implementation='generic'"):
        LSTM(3, loop="fused", implementation="generic")


def _recurrent_configs(node):
    if isinstance(node, dict):
        if node.get("class_name") in ("LSTM", "GRU") and node.get("module", "").startswith("kerasrnn"):
            yield node
        for value in node.values():
            yield from _recurrent_configs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _recurrent_configs(value)


def test_layers_saved_by_release_0_1_load_with_their_loop():
    found = 0
    for path in sorted(RELEASE_0_1.glob("*/run/model.keras")):
        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        for layer_config in _recurrent_configs(config):
            cls = {"LSTM": LSTM, "GRU": GRU}[layer_config["class_name"]]
            saved = layer_config["config"]
            layer = cls.from_config(saved)
            assert layer.loop == saved["implementation"] and layer.cell.implementation == 2
            found += 1
    assert found >= 4


@pytest.mark.parametrize(
    "cls, kwargs",
    [(LSTM, {"loop": "fused"}), (LSTM, {"loop": "generic"}), (GRU, {"loop": "fused"}),
     (GRU, {"loop": "generic"}), (SimpleRNN, {})],
)
def test_integer_inputs_are_cast_like_keras(cls, kwargs):
    x = np.array([[[1, 2], [3, 4], [5, 6]]])
    layer = cls(2, return_sequences=True, **kwargs)
    output = layer(x)
    assert output.dtype == "float32"
    np.testing.assert_allclose(output, layer(x.astype("float32")), atol=1e-6)
    reference = getattr(keras.layers, cls.__name__)(2, return_sequences=True)
    reference(x)
    reference.set_weights(layer.get_weights())
    np.testing.assert_allclose(output, reference(x), atol=1e-5)


def _xla_calls(layer, x_spec, training):
    """The calls XLA must compile in a traced gradient step of `layer`."""

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, training=training))
        return tape.gradient(loss, layer.trainable_weights)

    graph = tf.function(step).get_concrete_function(x_spec).graph.as_graph_def()
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    return [n.name for n in nodes if n.attr["_XlaMustCompile"].b]


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_xla_compiles_the_training_loops_only_for_a_length_fixed_when_traced(cls):
    layer = cls(3)
    layer(random_inputs((2, 5, 4)))
    # Forward and backward loops; the batch size may vary (one compile per size).
    assert len(_xla_calls(layer, tf.TensorSpec([None, 5, 4]), training=True)) == 2
    # Lengths that vary from batch to batch would compile once per length.
    assert _xla_calls(layer, tf.TensorSpec([None, None, 4]), training=True) == []
    assert _xla_calls(cls(3, loop="generic"), tf.TensorSpec([None, 5, 4]), training=True) == []
