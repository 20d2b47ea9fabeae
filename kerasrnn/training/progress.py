"""Per-step and per-epoch bookkeeping: the learning rate, the monitored metric, stopping.

`progress` is a plain dict (so a checkpoint can hold it as JSON): the epochs
done, their history rows, the best monitored value and its epoch, the epochs
waited for an improvement, and the plateau schedule's scale.
"""

import math

import keras
import numpy as np

from kerasrnn.errors import RecipeError
from kerasrnn.training.optim import learning_rate


class EpochMonitor(keras.callbacks.Callback):
    """Sets the learning rate each step, stops on a non-finite loss, ends the epoch.

    Args:
        training: the recipe's `training` section.
        epoch: the epoch about to run, from 0.
        steps: optimizer steps per epoch.
        scale: the plateau schedule's factor on the learning rate.
    """

    def __init__(self, training, epoch, steps, scale):
        super().__init__()
        self.training = training
        self.epoch = epoch
        self.steps = steps
        self.scale = scale
        self.first_step = 0
        self.rate = None
        self.failure = None

    def on_epoch_begin(self, epoch, logs=None):
        self.first_step = int(self.model.optimizer.iterations.numpy())

    def on_train_batch_begin(self, batch, logs=None):
        done = self.epoch + min(batch / self.steps, 1.0)
        rate = learning_rate(self.training, self.first_step + batch, done, self.scale)
        if rate != self.rate:
            self.model.optimizer.learning_rate = rate
            self.rate = rate

    def on_train_batch_end(self, batch, logs=None):
        loss = float(np.asarray((logs or {}).get("loss", 0.0)))
        if not math.isfinite(loss):
            self.failure = f"epoch {self.epoch + 1}, step {batch + 1}: the loss is {loss}"
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def lower_is_better(name):
    """Whether a history.csv column improves downwards (losses, error rates, perplexity)."""
    return any(word in name for word in ("loss", "error", "perplexity", "mse", "mae"))


def _monitored(training, row):
    """(column, value) that early stopping, plateau and keep_best watch."""
    name = training["monitor"]
    if name not in row and name.startswith("val_") and name[4:] in row:
        name = name[4:]
    if name not in row:
        known = ", ".join(k for k in row if k not in ("epoch", "seconds"))
        raise RecipeError(
            [f"training -> monitor: no column {training['monitor']!r}; known: {known}"]
        )
    return name, row[name]


def update_progress(progress, training, row):
    """Records an epoch's row; returns whether the monitored value improved."""
    name, value = _monitored(training, row)
    best = progress["best"]
    improved = (
        best is None
        or (value < best if lower_is_better(name) else value > best)
    ) and math.isfinite(value)
    progress["rows"].append(row)
    progress["epoch"] = row["epoch"]
    if improved:
        progress.update(best=value, best_epoch=row["epoch"], wait=0, plateau_wait=0)
        return True
    progress["wait"] += 1
    progress["plateau_wait"] += 1
    if training["lr_schedule"] == "plateau" and progress["plateau_wait"] >= training["plateau_patience"]:
        progress["scale"] *= training["plateau_factor"]
        progress["plateau_wait"] = 0
    if training["early_stopping"] and progress["wait"] >= training["early_stopping"]:
        progress["stopped"] = True
    return False


def fresh_progress():
    """The progress of a run that has not finished an epoch."""
    return {
        "epoch": 0, "rows": [], "best": None, "best_epoch": 0,
        "wait": 0, "plateau_wait": 0, "scale": 1.0, "stopped": False,
    }


def model_epoch(progress, training):
    """The epoch whose weights model.keras holds."""
    return progress["best_epoch"] if training["keep_best"] else progress["epoch"]
