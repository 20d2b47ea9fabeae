"""Adversarial training on word embeddings (`training.adversarial`)."""

import keras
import tensorflow as tf

from kerasrnn.errors import RecipeError


def adversarial_step(model, epsilon):
    """A train step on the clean loss plus the loss at adversarial embeddings.

    Each step takes the gradient of the loss with respect to every trainable
    embedding table, moves the tables along it by a step of L2 norm `epsilon`
    (the norm taken over all of them), computes the loss there, and puts the
    tables back; the optimizer then applies the gradients of the sum of the
    two losses (the fast gradient method on word embeddings, Miyato et al.
    2017). Reported loss and metrics are the clean ones. The step moves the
    shared tables, so it runs on one replica only.

    Args:
        model: the compiled model.
        epsilon: the size of the perturbation.

    Raises:
        RecipeError: the model has no trainable embedding table, or training
            spans several replicas.
    """
    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        raise RecipeError(
            ["training -> adversarial: not across several devices or workers "
             "(set training.strategy: default, or 0)"]
        )
    weights = model.trainable_weights
    embeddings = [
        layer.embeddings
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.Embedding)
    ]
    tables = [i for i, w in enumerate(weights) if any(w is e for e in embeddings)]
    if not tables:
        raise RecipeError(
            ["training -> adversarial: the model has no trainable word embeddings (set 0)"]
        )

    def loss_at(x, y, sample_weight):
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        return y_pred, loss

    def train_step(data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred, loss = loss_at(x, y, sample_weight)
            scaled = model.optimizer.scale_loss(loss)
        clean = tape.gradient(scaled, weights)
        directions = [tf.convert_to_tensor(clean[i]) for i in tables]
        norm = tf.linalg.global_norm(directions)
        shifts = [epsilon * g / (norm + 1e-12) for g in directions]
        for i, shift in zip(tables, shifts):
            weights[i].assign_add(shift)
        with tf.GradientTape() as tape:
            _, perturbed = loss_at(x, y, sample_weight)
            perturbed = model.optimizer.scale_loss(perturbed)
        adversarial = tape.gradient(perturbed, weights)
        for i, shift in zip(tables, shifts):
            weights[i].assign_sub(shift)
        model.optimizer.apply_gradients(
            (_add(a, b), w) for a, b, w in zip(clean, adversarial, weights)
        )
        model._loss_tracker.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
        return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    return train_step


def _add(a, b):
    """The sum of two gradients; an embedding's comes as row slices, kept sparse."""
    if isinstance(a, tf.IndexedSlices) and isinstance(b, tf.IndexedSlices):
        return tf.IndexedSlices(
            tf.concat([a.values, b.values], 0), tf.concat([a.indices, b.indices], 0), a.dense_shape
        )
    return tf.convert_to_tensor(a) + tf.convert_to_tensor(b)
