"""The recipe's optimizer, learning-rate schedule and loss."""

import contextlib
import math

import keras

from kerasrnn.errors import RecipeError
from kerasrnn.layers.sampled_softmax import PerTokenLoss


def make_optimizer(training):
    """The recipe's optimizer with its clipping, momentum, weight decay and weight averaging.

    Args:
        training: the recipe's `training` section.
    """
    if training["clipnorm"] is not None and training["clipvalue"] is not None:
        raise RecipeError(
            ["training -> clipvalue: clip by norm or by value, not both (set clipnorm: null)"]
        )
    kind = training["optimizer"]
    options = {
        "learning_rate": learning_rate(training, 0, 0.0),
        "global_clipnorm": training["clipnorm"],
        "clipvalue": training["clipvalue"],
    }
    if training["weight_decay"] is not None:
        options["weight_decay"] = training["weight_decay"]
    if kind in ("sgd", "rmsprop"):
        options["momentum"] = training["momentum"]
    if training["ema"]:
        options.update(use_ema=True, ema_momentum=training["ema"])
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return classes[kind](**options)


class WeightAverages(keras.callbacks.SwapEMAWeights):
    """Validation and model.keras on the optimizer's moving averages (`training.ema`).

    Keras swaps the averages in for validation (`SwapEMAWeights`) and, when
    `fit` returns, writes them over the weights. kerasrnn calls `fit` once
    per epoch and trains on from the raw weights, so this keeps them at the
    end of each epoch and `restore_raw` puts them back after `fit`;
    `applied()` then holds the averages in the model while model.keras is
    written.

    Args:
        model: the compiled model, its optimizer built with `use_ema=True`.
    """

    def __init__(self, model):
        super().__init__()
        self.set_model(model)
        self.raw = None

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.raw = [w.numpy() for w in self.model.trainable_weights]

    def restore_raw(self):
        for weight, value in zip(self.model.trainable_weights, self.raw):
            weight.assign(value)

    @contextlib.contextmanager
    def applied(self):
        self.on_test_begin()
        try:
            yield
        finally:
            self.on_test_end()


def learning_rate(training, step, epochs_done, scale=1.0):
    """The rate at optimizer step `step`, `epochs_done` (fractional) into training.

    Warm-up is linear over the first `warmup_steps` steps; the decay follows
    `lr_schedule`; `scale` is what the plateau schedule has reduced it to.
    """
    base, floor = training["learning_rate"], training["min_learning_rate"]
    kind = training["lr_schedule"]
    if kind == "exponential":
        decayed = max(0.0, epochs_done - training["decay_start"])
        rate = base * training["decay_rate"] ** decayed
    elif kind == "cosine":
        done = min(epochs_done / training["epochs"], 1.0)
        rate = floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * done))
    elif kind == "plateau":
        rate = max(base * scale, floor)
    else:
        rate = base
    if training["warmup_steps"]:
        rate *= min(1.0, (step + 1) / training["warmup_steps"])
    return rate


@keras.saving.register_keras_serializable(package="kerasrnn")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy with label smoothing.

    Args:
        label_smoothing: share of each target's probability spread evenly
            over all classes. Defaults to `0.1`.
        from_logits: whether predictions are logits. Defaults to `True`.
    """

    def __init__(self, label_smoothing=0.1, from_logits=True, **kwargs):
        super().__init__(**kwargs)
        self.label_smoothing = label_smoothing
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        classes = keras.ops.shape(y_pred)[-1]
        onehot = keras.ops.one_hot(keras.ops.cast(y_true, "int32"), classes)
        return keras.losses.categorical_crossentropy(
            onehot, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }


def make_loss(builder, training):
    """The builder's loss, label-smoothed when the recipe asks for it."""
    if training["sampled_softmax"]:
        if not getattr(builder, "SAMPLED_SOFTMAX", False):
            raise RecipeError(
                ["training -> sampled_softmax: only a language_model samples its softmax (set 0)"]
            )
        if training["label_smoothing"]:
            raise RecipeError(
                ["training -> label_smoothing: not with sampled_softmax (set one of them to 0)"]
            )
        return PerTokenLoss()
    loss = builder.loss()
    amount = training["label_smoothing"]
    if not amount:
        return loss
    if not isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        raise RecipeError(
            [f"training -> label_smoothing: the {type(loss).__name__} loss of this model has none"]
        )
    return SmoothedSparseCrossentropy(
        amount, from_logits=loss.get_config()["from_logits"], reduction=loss.reduction
    )
