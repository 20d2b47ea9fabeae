"""An output layer whose training loss samples the classes: a sampled softmax."""

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="kerasrnn")
class SampledSoftmax(keras.layers.Layer):
    """Per-token cross-entropy of a softmax output, sampled in training.

    A word language model's softmax over 10,000 words costs several times
    its recurrent layers. In training this layer scores the true class
    against `num_sampled` classes drawn from a log-uniform (Zipfian)
    distribution over the ids, which suits vocabularies ordered most frequent
    first, with the sampling corrected for (Jean et al. 2015,
    `tf.nn.sampled_softmax_loss`). Outside training it scores every class:
    validation and evaluation losses are exact. The weights are a `Dense`
    layer's (`self.dense`, named `logits`), so inference builds its full
    logits from them.

    The output is the loss, not logits: train with a loss that passes it
    through (`PerTokenLoss`), weighted as usual.

    Args:
        classes: Number of classes (the vocabulary's size).
        num_sampled: Classes sampled per training step. Must be below `classes`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: Features `(batch, timesteps, features)`.
        labels: Integer classes `(batch, timesteps)`.
        training: Python boolean: sample (True) or score every class.

    Returns:
        The cross-entropy per token `(batch, timesteps)`, in float32.

    Example:

    >>> layer = SampledSoftmax(50, num_sampled=8)
    >>> x, y = keras.ops.ones((2, 3, 4)), keras.ops.zeros((2, 3), "int32")
    >>> tuple(layer(x, y).shape)
    (2, 3)
    """

    def __init__(self, classes, num_sampled, **kwargs):
        super().__init__(**kwargs)
        if not 0 < num_sampled < classes:
            raise ValueError(f"num_sampled must be in (0, {classes}), got {num_sampled}")
        self.classes = classes
        self.num_sampled = num_sampled
        self.dense = keras.layers.Dense(classes, name="logits", dtype=self.dtype_policy)

    def build(self, inputs_shape, labels_shape=None):
        self.dense.build(inputs_shape)

    def call(self, inputs, labels, training=False):
        inputs = ops.cast(inputs, "float32")
        labels = ops.cast(labels, "int32")
        if not training:
            logits = ops.cast(self.dense(inputs), "float32")
            return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        features = ops.shape(inputs)[-1]
        loss = tf.nn.sampled_softmax_loss(
            weights=ops.transpose(ops.cast(self.dense.kernel, "float32")),
            biases=ops.cast(self.dense.bias, "float32"),
            labels=ops.cast(ops.reshape(labels, (-1, 1)), "int64"),
            inputs=ops.reshape(inputs, (-1, features)),
            num_sampled=self.num_sampled,
            num_classes=self.classes,
        )
        return ops.reshape(loss, ops.shape(labels))

    def compute_output_shape(self, inputs_shape, labels_shape=None):
        return tuple(inputs_shape[:-1])

    def compute_output_spec(self, inputs, labels, training=False):
        return keras.KerasTensor(tuple(inputs.shape[:-1]), dtype="float32")

    def compute_mask(self, inputs, labels=None, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "classes": self.classes, "num_sampled": self.num_sampled}


@keras.saving.register_keras_serializable(package="kerasrnn")
class PerTokenLoss(keras.losses.Loss):
    """A loss that is the model's output itself (`SampledSoftmax`'s per-token loss).

    With `reduction="mean_with_sample_weight"` (the default here) padded
    tokens, weighted 0, do not count.
    """

    def __init__(self, reduction="mean_with_sample_weight", **kwargs):
        super().__init__(reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        return y_pred
