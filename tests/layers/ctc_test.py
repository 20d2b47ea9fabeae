"""The CTC layers and loss: the loss against every alignment written out."""

import itertools

import harness
import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.layers import BLANK_ID, CTCLoss, MaskedBlank, Upsample1D, ctc_alignable

CLASSES = 3  # the blank and two labels


def collapse(path):
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return [c for c in merged if c != BLANK_ID]


def brute_force_nll(logits, labels):
    """-log of the summed probability of every path that collapses to `labels`."""
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    total = sum(
        np.exp(sum(logp[t, c] for t, c in enumerate(path)))
        for path in itertools.product(range(CLASSES), repeat=len(logits))
        if collapse(path) == list(labels)
    )
    return -np.log(total)


@pytest.mark.parametrize("labels", [[1], [1, 2], [1, 1], [2, 1, 2], [1, 1, 1]])
def test_loss_is_the_sum_over_every_alignment(labels):
    rng = np.random.default_rng(len(labels))
    logits = rng.normal(size=(1, 5, CLASSES)).astype("float32")
    got = CTCLoss(reduction=None)(np.array([labels]), logits)
    np.testing.assert_allclose(got[0], brute_force_nll(logits[0].astype("float64"), labels), rtol=1e-4)


def test_an_empty_batch_has_an_empty_loss_and_no_gradient():
    # A replica gets an empty batch when a global batch has fewer examples
    # than there are replicas; its loss must not fail or spoil the sum.
    spec = [tf.TensorSpec((None, 2), tf.int32), tf.TensorSpec((None, 5, CLASSES), tf.float32)]

    @tf.function(input_signature=spec)
    def step(labels, logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            losses = CTCLoss(reduction=None)(labels, logits)
            total = CTCLoss()(labels, logits)
        return losses, total, tape.gradient(total, logits)

    losses, total, grad = step(np.zeros((0, 2), np.int32), np.zeros((0, 5, CLASSES), np.float32))
    assert losses.shape == (0,) and float(total) == 0.0 and grad.shape == (0, 5, CLASSES)
    losses, total, _ = step(np.array([[1, 2]], np.int32), np.zeros((1, 5, CLASSES), np.float32))
    assert losses.shape == (1,) and float(total) > 0
    assert CTCLoss(reduction=None)(np.zeros((0, 2), np.int32), np.zeros((0, 5, CLASSES), np.float32)).shape == (0,)


def test_padded_labels_and_masked_steps_change_nothing():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 6, CLASSES)).astype("float32")
    # Row 1 has 4 real steps and one label; labels are padded with 0.
    mask = np.array([[True] * 6, [True] * 4 + [False] * 2])
    labels = np.array([[1, 2, 2], [2, 0, 0]])
    got = CTCLoss(reduction=None)(labels, MaskedBlank()(logits, mask=mask))
    np.testing.assert_allclose(got[0], brute_force_nll(logits[0].astype("float64"), [1, 2, 2]), rtol=1e-4)
    np.testing.assert_allclose(got[1], brute_force_nll(logits[1, :4].astype("float64"), [2]), rtol=1e-4)


def test_alignable_counts_a_blank_between_repeats():
    assert ctc_alignable(2, 0, 2)  # a b in two steps
    assert not ctc_alignable(2, 1, 2)  # a a needs a _ a
    assert ctc_alignable(2, 1, 3)


def test_upsample_repeats_steps_and_mask():
    x = harness.random_inputs((2, 3, 4))
    mask = np.array([[True, True, True], [True, False, False]])
    layer = Upsample1D(3)
    out = np.asarray(layer(x))
    np.testing.assert_array_equal(out, np.repeat(x, 3, axis=1))
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(x, mask)), np.repeat(mask, 3, axis=1))
    np.testing.assert_array_equal(Upsample1D(1)(x), x)


def test_upsample_split_cuts_each_step_in_order():
    x = harness.random_inputs((2, 3, 4))
    out = np.asarray(Upsample1D(2, mode="split")(x))
    assert out.shape == (2, 6, 2)
    np.testing.assert_array_equal(out[:, 0::2], x[:, :, :2])
    np.testing.assert_array_equal(out[:, 1::2], x[:, :, 2:])


@pytest.mark.parametrize("mode", ["repeat", "split"])
def test_upsample_passes_the_layer_harness(mode):
    harness.run_layer_test(
        Upsample1D,
        {"factor": 2, "mode": mode},
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 6, 4 if mode == "repeat" else 2),
        expected_num_trainable_weights=0,
    )


def test_masked_blank_passes_the_layer_harness():
    harness.run_layer_test(
        MaskedBlank, {}, input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4),
        expected_num_trainable_weights=0,
    )


def test_masked_blank_makes_padding_a_certain_blank():
    logits = harness.random_inputs((2, 4, CLASSES))
    mask = np.array([[True] * 4, [True, True, False, False]])
    layer = MaskedBlank()
    out = np.asarray(layer(logits, mask=mask))
    np.testing.assert_array_equal(out[mask], logits[mask])
    probs = np.asarray(keras.ops.softmax(out[~mask]))
    np.testing.assert_allclose(probs[:, BLANK_ID], 1.0)
    assert layer.compute_mask(logits, mask) is None


def test_arguments_are_checked_by_name():
    with pytest.raises(ValueError, match="factor=0"):
        Upsample1D(0)
    with pytest.raises(ValueError, match="mode='tile'"):
        Upsample1D(2, mode="tile")
    with pytest.raises(ValueError, match="divisible by factor=2"):
        Upsample1D(2, mode="split")(np.zeros((1, 2, 3), "float32"))


def ctc_model(mode):
    source = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(7, 4, mask_zero=True)(source)
    if mode == "repeat":
        x = Upsample1D(2)(x)
    x = keras.layers.Dense(CLASSES * (2 if mode == "split" else 1))(x)
    if mode == "split":
        x = Upsample1D(2, mode="split")(x)
    return keras.Model(source, MaskedBlank()(x))


def test_models_load_in_a_fresh_process(tmp_path):
    ids = np.array([[1, 2, 3], [4, 5, 0]], "int32")
    harness.assert_loads_in_fresh_process(
        tmp_path, {mode: (ctc_model(mode), ids) for mode in ("repeat", "split")}
    )


def test_loss_trains_a_model_with_padded_rows():
    model = ctc_model("split")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=CTCLoss())
    ids = np.array([[1, 2, 3], [4, 5, 0]], "int32")
    labels = np.array([[1, 2, 1], [2, 2, 0]], "int32")
    history = model.fit(ids, labels, epochs=20, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_tflite_matches_keras():
    inputs = keras.Input((3, 4))
    x = keras.layers.Masking()(inputs)
    x = Upsample1D(2)(keras.layers.Dense(2 * CLASSES)(x))
    model = keras.Model(inputs, MaskedBlank()(Upsample1D(2, mode="split")(x)))
    x = harness.random_inputs((2, 3, 4))
    x[1, 2] = 0.0  # a masked step
    harness.assert_tflite_matches(model, x)
