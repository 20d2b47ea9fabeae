import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.layers import PerTokenLoss, SampledSoftmax


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(3, 5, 8)).astype("float32"), rng.integers(0, 40, (3, 5)).astype("int32")


def test_outside_training_every_class_is_scored():
    x, y = inputs()
    layer = SampledSoftmax(40, num_sampled=6)
    got = layer(x, y)
    logits = layer.dense(x)
    want = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_in_training_few_output_rows_get_gradients():
    x, y = inputs(1)
    layer = SampledSoftmax(40, num_sampled=6)
    layer(x, y)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(layer(x, y, training=True))
    grad = tape.gradient(loss, layer.dense.kernel)
    assert np.isfinite(float(loss))
    touched = np.flatnonzero(np.abs(tf.convert_to_tensor(grad).numpy()).sum(0))
    # The true classes and the 6 sampled ones, out of 40.
    assert set(np.unique(y)) <= set(touched) and len(touched) <= len(np.unique(y)) + 6


def test_the_sampled_loss_trains_the_full_softmax():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4, 8)).astype("float32")
    w = rng.normal(size=(8, 40)).astype("float32")
    y = np.argmax(x @ w, -1).astype("int32")
    layer = SampledSoftmax(40, num_sampled=8)
    before = float(tf.reduce_mean(layer(x, y)))
    optimizer = keras.optimizers.Adam(0.05)
    for _ in range(60):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(layer(x, y, training=True))
        variables = layer.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    assert float(tf.reduce_mean(layer(x, y))) < before / 2


def test_saved_and_loaded_with_its_weights(tmp_path):
    x, y = inputs(3)
    features = keras.Input((5, 8))
    labels = keras.Input((5,), dtype="int32")
    model = keras.Model([features, labels], SampledSoftmax(40, 6, name="head")([features, labels][0], labels))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded([x, y]), model([x, y]), atol=1e-6)
    assert loaded.get_layer("head").num_sampled == 6


def test_bad_sample_counts_are_refused():
    with pytest.raises(ValueError, match="num_sampled"):
        SampledSoftmax(10, num_sampled=10)


def test_the_loss_passes_the_output_through_weighted():
    per_token = np.array([[1.0, 3.0, 5.0]], "float32")
    weights = np.array([[1.0, 1.0, 0.0]], "float32")
    assert float(PerTokenLoss()(np.zeros((1, 3)), per_token, sample_weight=weights)) == pytest.approx(2.0)
