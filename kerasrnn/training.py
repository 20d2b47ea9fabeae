"""Fit glue: data, the builder's model, the epoch loop, checkpoints and resume."""

import functools
import json
import math
import os
import random
import shutil
import tempfile
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from kerasrnn import builders, config, plots, runs
from kerasrnn.builders.base import as_text
from kerasrnn.data import catalog, inspect, pipeline, readers, splits
from kerasrnn.data.errors import DataError
from kerasrnn.fileio import write_json, write_text

READER_OPTIONS = ("columns", "delimiter", "header", "encoding", "on_bad_line", "strip_stress")
SPLITS = ("train", "valid", "test")
_EXTENSIONS = {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".conll": "conll"}


def _guess_format(paths):
    first = paths[0] if isinstance(paths, list) else paths
    name = first.lower().removesuffix(".gz")
    return _EXTENSIONS.get(os.path.splitext(name)[1], "text")


def _reader_options(recipe, dataset_options):
    """The catalog's reader options, overridden by any the recipe changed."""
    defaults = config.SCHEMA["data"]
    options = dict(dataset_options)
    for key in READER_OPTIONS:
        value = recipe["data"][key]
        if key not in options or value != defaults[key].default:
            options[key] = value
    return options


def load_splits(recipe, echo=print):
    """Reads the recipe's train, valid and test examples.

    Files named in the recipe win over the catalog data set's and are read
    first, so a mistake in them shows before any download. Splits with no
    file are carved from train by a seeded hash of each example's key (or by
    position). With `data.streaming` (by default: files above
    `pipeline.STREAMING_BYTES`) each split is an `ExampleStream` that reads
    the files again on every pass; each is read through once here, so a bad
    line stops the run before training starts.

    Returns:
        A dict "train" / "valid" / "test" -> list of `Example`s, or of
        `kerasrnn.data.pipeline.ExampleStream`s when streaming.
    """
    data = recipe["data"]
    entry = catalog.get(data["dataset"]) if data["dataset"] else None
    own = {split: data[split] for split in SPLITS if data[split]}
    from_catalog = [split for split in entry.splits if split not in own] if entry else []
    if "train" not in own and "train" not in from_catalog:
        raise DataError("data -> train: no training data (name a dataset or a train file)")
    fmt = data["format"]
    if fmt == "auto":
        fmt = entry.format if entry else _guess_format(own["train"])
    options = _reader_options(recipe, entry.options if entry else {})
    missing = [split for split in ("valid", "test") if split not in own and split not in from_catalog]
    streaming = _streaming(data, own, entry if from_catalog else None, missing)
    report = readers.ReadReport()

    def load(split, paths):
        if not streaming:
            return list(readers.read_examples(paths, fmt, options, report))
        stream = pipeline.ExampleStream(paths, fmt, options)
        if not (split == "train" and missing):  # else carving counts it
            stream.length = sum(1 for _ in stream.examples(report))
        return stream

    read = {split: load(split, paths) for split, paths in own.items()}
    if from_catalog:
        fetched = catalog.fetch(data["dataset"])
        read.update({split: load(split, fetched[split]) for split in from_catalog})
    seed = recipe["training"]["seed"]
    if missing:
        shares = (data["valid_split"], data["test_split"])
        if streaming:
            carved = pipeline.carve(read["train"], seed, *shares, need=missing, report=report)
        elif data["split_by"] == "position":
            carved = splits.split_by_position(read["train"], seed, *shares, need=missing)
        else:
            carved = splits.split_examples(read["train"], seed, *shares, need=missing)
        read["train"] = carved["train"]
        for split in missing:
            read[split] = carved[split]
    cap = data["max_examples"]
    if cap:
        for split, examples in read.items():
            if len(examples) > cap:
                picked = pipeline.sample if streaming else _sample
                read[split] = picked(examples, cap, seed)
    skipped = f"{report.skipped:,} bad lines skipped, first: {' | '.join(report.reasons)}" if report.skipped else ""
    if not read["train"]:
        raise DataError(
            "data -> train: no training examples left after reading and splitting"
            + (f" ({skipped})" if skipped else "")
        )
    counts = ", ".join(f"{s} {len(read.get(s, [])):,}" for s in SPLITS)
    notes = [note for note in ("streamed from the files" if streaming else "", skipped) if note]
    echo(f"Examples: {counts}" + (f" ({'; '.join(notes)})" if notes else ""))
    return read


def _sample(examples, count, seed):
    return random.Random(seed).sample(examples, count)


def _streaming(data, own, entry, missing):
    """Whether to stream the data files rather than hold them in memory."""
    if data["streaming"] is False:
        return False
    if missing and data["split_by"] == "position":
        if data["streaming"]:
            raise config.RecipeError(
                ["data -> streaming: split_by: position needs the data in memory; set streaming: false"]
            )
        return False
    if data["streaming"]:
        return True
    size = sum(pipeline.file_bytes(paths) for paths in own.values()) + (entry.size if entry else 0)
    return size > pipeline.STREAMING_BYTES


def inspect_data(recipe, out_png=None, echo=print):
    """Statistics of the recipe's splits, in the recipe's own tokens.

    Lengths and truncation are counted with the builder's tokenizers and
    each side's `max_length`; the out-of-vocabulary rates are measured
    against the vocabularies training would build from train.

    Returns:
        split -> the dict of `kerasrnn.data.inspect.inspect_examples`; the
        train split's histograms are drawn into `out_png`.
    """
    data = load_splits(recipe, echo)
    builder = builders.get(recipe)
    vocabs = builder.fit_vocabs(data["train"], echo=lambda _: None)
    tokenizers = {side: builder.tokenizers[side] for side in builder.SIDES}
    lengths = {side: tokenizer.max_length for side, tokenizer in tokenizers.items()}
    return {
        split: inspect.inspect_examples(
            data[split], lengths, out_png if split == "train" else None, tokenizers, vocabs
        )
        for split in SPLITS
        if data[split]
    }


class TrainingError(Exception):
    """Training ran but failed (a non-finite loss); the command exits with 1."""


# Optimizers and the learning rate ------------------------------------------


def make_optimizer(training):
    """The recipe's optimizer with its clipping, momentum and weight decay."""
    if training["clipnorm"] is not None and training["clipvalue"] is not None:
        raise config.RecipeError(
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
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return classes[kind](**options)


def learning_rate(training, step, epochs_done, scale=1.0):
    """The rate at optimizer step `step`, `epochs_done` (fractional) into training.

    Warm-up is linear over the first `warmup_steps` steps; the decay follows
    `lr_schedule`; `scale` is what the plateau schedule has reduced it to.
    """
    base, floor = training["learning_rate"], training["min_learning_rate"]
    kind = training["lr_schedule"]
    if kind == "exponential":
        rate = base * training["decay_rate"] ** epochs_done
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
    loss = builder.loss()
    amount = training["label_smoothing"]
    if not amount:
        return loss
    if not isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        raise config.RecipeError(
            [f"training -> label_smoothing: the {type(loss).__name__} loss of this model has none"]
        )
    return SmoothedSparseCrossentropy(
        amount, from_logits=loss.get_config()["from_logits"], reduction=loss.reduction
    )


# Devices --------------------------------------------------------------------


def make_strategy(name):
    """The tf.distribute strategy a recipe's `training.strategy` names."""
    if name == "auto":
        if os.environ.get("TF_CONFIG"):
            name = "multi_worker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise config.RecipeError(
                ["training -> strategy: multi_worker needs TF_CONFIG set on every worker"]
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _distributed(strategy):
    return isinstance(
        strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)
    )


def _multi_worker(strategy):
    """Whether the strategy spans several machines (more replicas than devices here)."""
    return _distributed(strategy) and strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)


def _fit_across_workers(model):
    """Avoids two steps of Keras's `fit` that fail when training spans workers.

    Keras builds a model that remembers its strategy from a first batch,
    which it averages across workers; tf.distribute cannot reduce a nested
    (inputs, labels, weights) batch, nor batches padded to different lengths
    (keras-team/keras#20329). Built and compiled already, the model takes its
    strategy from the scope it is fitted in instead. Keras also averages each
    step's logs over the workers along axis 0, which the scalar loss and
    metrics lack (tensorflow/tensorflow#72388): the steps give them that axis.
    """
    model._distribute_strategy = None
    model.train_step = functools.partial(_with_worker_axis, model.train_step)
    model.test_step = functools.partial(_with_worker_axis, model.test_step)


def _with_worker_axis(step, data):
    return {name: keras.ops.expand_dims(value, 0) for name, value in step(data).items()}


def _float32_outputs(model):
    """Under a mixed policy, the layers giving the model's outputs compute in float32."""
    for tensor in model.outputs:
        layer = tensor._keras_history.operation
        if getattr(layer, "dtype_policy", None) is not None and layer.compute_dtype != "float32":
            layer.dtype_policy = "float32"


def _random_state(model):
    """Variables such as dropout seed states, which checkpoints of a model skip."""
    weights = {id(w) for w in model.weights}
    return [v.value for v in model.variables if id(v) not in weights]


# The epoch loop -------------------------------------------------------------


class EpochMonitor(keras.callbacks.Callback):
    """Sets the learning rate each step, stops on a non-finite loss, ends the epoch."""

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


def _lower_is_better(name):
    return any(word in name for word in ("loss", "error", "perplexity", "mse", "mae"))


def _monitored(training, row):
    """(column, value) that early stopping, plateau and keep_best watch."""
    name = training["monitor"]
    if name not in row and name.startswith("val_") and name[4:] in row:
        name = name[4:]
    if name not in row:
        known = ", ".join(k for k in row if k not in ("epoch", "seconds"))
        raise config.RecipeError(
            [f"training -> monitor: no column {training['monitor']!r}; known: {known}"]
        )
    return name, row[name]


def _update(progress, training, row):
    """Records an epoch's row; returns whether the monitored value improved."""
    name, value = _monitored(training, row)
    best = progress["best"]
    improved = (
        best is None
        or (value < best if _lower_is_better(name) else value > best)
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


def _fresh_progress():
    return {
        "epoch": 0, "rows": [], "best": None, "best_epoch": 0,
        "wait": 0, "plateau_wait": 0, "scale": 1.0, "stopped": False,
    }


# What `tf.summary.scalar` attaches, spelled out so that writing needs no
# TensorBoard installed, only viewing.
SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
    data_class=summary_pb2.DATA_CLASS_SCALAR,
).SerializeToString()


class TensorBoardLog:
    """Epoch scalars for TensorBoard in RUN/logs/train and RUN/logs/validation."""

    def __init__(self, folder):
        self.writers = {
            split: tf.summary.create_file_writer(os.path.join(folder, split))
            for split in ("train", "validation")
        }

    def write(self, row):
        for key, value in row.items():
            if key in ("epoch", "seconds"):
                continue
            split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            with self.writers[split].as_default():
                tf.summary.write(name, tf.constant(value, tf.float32), step=row["epoch"],
                                 metadata=SCALAR_METADATA)
        for writer in self.writers.values():
            writer.flush()


def _token_count(builder, examples):
    return sum(
        len(tokens)
        for side in builder.SIDES
        for tokens in builder.tokenizers[side].split_py(
            [as_text(getattr(ex, side)) for ex in examples]
        )
    )


def _train_data(builder, strategy, examples, vocabs, training, steps):
    """The epoch's training batches (`builder.epoch` fixes their order)."""
    if not _distributed(strategy):
        ds = builder.dataset(examples, vocabs, training=True)
        return ds.repeat() if training["steps_per_epoch"] else ds
    replicas = strategy.num_replicas_in_sync
    if training["batch_size"] % replicas:
        raise config.RecipeError(
            [f"training -> batch_size: {training['batch_size']} does not divide among {replicas} replicas"]
        )
    # Global batches, split among the replicas by tf.distribute; a fixed count
    # per epoch, so no worker runs out of batches before the others.
    ds = builder.dataset(examples, vocabs, training=True).repeat().take(steps)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _check_run_folder(recipe, run_dir, resume, force):
    """Refuses to overwrite a run, or to resume one with another recipe, unless forced."""
    existing = os.path.isfile(os.path.join(run_dir, runs.RECIPE))
    if resume:
        if not existing:
            raise config.RecipeError(
                [f"{run_dir}: nothing to resume (no {runs.RECIPE}); run without --resume"]
            )
        changes = runs.recipe_changes(runs.Run(run_dir).recipe, recipe)
        if changes and not force:
            shown = "; ".join(changes[:4]) + ("; ..." if len(changes) > 4 else "")
            raise config.RecipeError(
                [f"{run_dir}: the recipe differs from the run's ({shown}); --force resumes anyway"]
            )
    elif existing or os.path.isdir(os.path.join(run_dir, runs.CHECKPOINTS)):
        if not force:
            raise config.RecipeError(
                [f"{run_dir}: holds a run already; --resume continues it, --force starts it over"]
            )
        runs.clear(run_dir)


def fit(recipe, run_dir, echo=print, resume=False, force=False, callbacks=()):
    """Trains the recipe's model into `run_dir` and returns the held-out metrics.

    Each epoch ends with a checkpoint of the model, the optimizer, the random
    state and the progress (history, best value, schedule state) in
    `run_dir/checkpoints`; `resume=True` continues from the latest one, replaying
    an interrupted epoch in the same order. Under `multi_worker` only the chief
    writes `run_dir`; the other workers write to a temporary folder.

    Raises:
        RecipeError: a bad recipe, or a run folder that would be overwritten
            (or resumed with a changed recipe) without `force`.
        TrainingError: the loss became NaN or infinite; the last good
            checkpoint is kept.
    """
    training = recipe["training"]
    # A multi-worker strategy must exist before TensorFlow runs anything.
    strategy = make_strategy(training["strategy"])
    if training["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(training["seed"])
    chief = strategy.extended.should_checkpoint
    out_dir = run_dir if chief else tempfile.mkdtemp(prefix="kerasrnn-worker-")
    try:
        if chief:
            _check_run_folder(recipe, run_dir, resume, force)
        return _fit(recipe, run_dir, out_dir, strategy, echo if chief else _silent, resume, callbacks)
    finally:
        if not chief:
            shutil.rmtree(out_dir, ignore_errors=True)


def _silent(*_):
    pass


def _fit(recipe, run_dir, out_dir, strategy, echo, resume, callbacks):
    training = recipe["training"]
    builder = builders.get(recipe)
    data = load_splits(recipe, echo)
    saved_vocabs = resume and all(
        os.path.isfile(runs.vocab_path(run_dir, side)) for side in builder.SIDES
    )
    if saved_vocabs:
        vocabs = runs.load_vocabs(run_dir, builder.SIDES)
    else:
        vocabs = builder.fit_vocabs(data["train"], echo=echo)
    os.makedirs(out_dir, exist_ok=True)
    runs.remove_temporaries(out_dir)
    write_text(os.path.join(out_dir, runs.RECIPE), config.dump_recipe(recipe))
    runs.save_vocabs(out_dir, vocabs)

    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(training["precision"])
    try:
        with strategy.scope():
            model = builder.build(vocabs)
            _float32_outputs(model)
            model.compile(
                optimizer=make_optimizer(training),
                loss=make_loss(builder, training),
                weighted_metrics=builder.metrics(),
            )
            model.optimizer.build(model.trainable_variables)
    finally:
        keras.config.set_dtype_policy(policy)
    if _multi_worker(strategy):
        _fit_across_workers(model)
    sizes = ", ".join(f"{side} {len(v):,}" for side, v in vocabs.items())
    echo(f"Model: {model.count_params():,} parameters; vocabularies: {sizes}")

    state = tf.Variable(json.dumps(_fresh_progress()), dtype=tf.string, trainable=False)
    checkpoint = tf.train.Checkpoint(
        model=model, optimizer=model.optimizer, random=_random_state(model), progress=state
    )
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(out_dir, runs.CHECKPOINTS), training["checkpoints_to_keep"]
    )
    latest = tf.train.latest_checkpoint(os.path.join(run_dir, runs.CHECKPOINTS))
    progress = _fresh_progress()
    if resume and latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        progress = json.loads(state.numpy().decode("utf-8"))
        if progress["epoch"] < training["epochs"] and not progress["stopped"]:
            echo(f"Resuming from epoch {progress['epoch'] + 1} ({latest})")
        runs.write_history(os.path.join(out_dir, runs.HISTORY), progress["rows"])
        if progress["epoch"] == _model_epoch(progress, training):
            runs.save_model(model, os.path.join(out_dir, runs.MODEL))
    elif resume:
        echo(f"No checkpoint in {run_dir} yet; starting from epoch 1")

    epochs = training["epochs"]
    steps = training["steps_per_epoch"] or max(1, math.ceil(len(data["train"]) / training["batch_size"]))
    valid = builder.dataset(data["valid"], vocabs) if data["valid"] else None
    board = TensorBoardLog(os.path.join(out_dir, runs.LOGS)) if training["tensorboard"] and out_dir == run_dir else None
    seconds = []
    while progress["epoch"] < epochs and not progress["stopped"]:
        epoch = progress["epoch"]
        builder.epoch = epoch
        monitor = EpochMonitor(training, epoch, steps, progress["scale"])
        started = time.time()
        with warnings.catch_warnings():
            # Streamed datasets have no known size, which Keras warns about.
            warnings.filterwarnings("ignore", message=".*(ran out of data|shuffle=True).*")
            with strategy.scope():  # which a model fitted across workers takes
                history = model.fit(
                    _train_data(builder, strategy, data["train"], vocabs, training, steps),
                    validation_data=valid,
                    initial_epoch=epoch,
                    epochs=epochs,
                    steps_per_epoch=training["steps_per_epoch"] or (steps if _distributed(strategy) else None),
                    verbose=training["verbose"],
                    callbacks=[*builder.callbacks(), monitor, *callbacks],
                )
        if monitor.failure:
            kept = f"epoch {epoch} in {os.path.join(run_dir, runs.CHECKPOINTS)}" if epoch else "none"
            raise TrainingError(
                f"{monitor.failure}; training stopped (last good checkpoint: {kept}). "
                "Lower training.learning_rate or set training.clipnorm."
            )
        seconds.append(time.time() - started)
        row = {"epoch": epoch + 1}
        row.update({k: float(v[-1]) for k, v in history.history.items()})
        row["learning_rate"] = float(np.asarray(model.optimizer.learning_rate))
        row["seconds"] = round(seconds[-1], 2)
        improved = _update(progress, training, row)
        state.assign(json.dumps(progress))
        manager.save(checkpoint_number=epoch + 1)
        if improved or not training["keep_best"]:
            runs.save_model(model, os.path.join(out_dir, runs.MODEL))
        runs.write_history(os.path.join(out_dir, runs.HISTORY), progress["rows"])
        plots.training_curves(progress["rows"], os.path.join(out_dir, runs.CURVES), recipe["name"])
        if board:
            board.write(row)
        if progress["stopped"]:
            echo(f"Early stopping after epoch {epoch + 1}: no better {training['monitor']} "
                 f"for {training['early_stopping']} epochs (best: epoch {progress['best_epoch']})")

    result = {"parameters": model.count_params(), "epochs": progress["epoch"]}
    if seconds:
        per_epoch = sum(seconds) / len(seconds)
        tokens = _token_count(builder, data["train"])
        if training["steps_per_epoch"]:
            tokens = tokens * steps * training["batch_size"] / len(data["train"])
        result.update(
            train_seconds=round(sum(seconds), 1),
            seconds_per_epoch=round(per_epoch, 2),
            tokens_per_second=round(tokens / per_epoch),
        )
        echo(
            f"Trained {len(seconds)} epoch(s): {result['parameters']:,} parameters, "
            f"{result['tokens_per_second']:,} tokens/s, {per_epoch:.1f} s per epoch"
        )
    else:
        echo(f"Nothing left to train: {progress['epoch']} of {epochs} epochs done")
    if out_dir != run_dir:
        return result
    if data["test"]:
        best = keras.saving.load_model(os.path.join(run_dir, runs.MODEL), compile=False)
        result["test"] = builder.evaluate(best, vocabs, data["test"])
    write_json(os.path.join(run_dir, runs.METRICS), result)
    return result


def _model_epoch(progress, training):
    """The epoch whose weights model.keras holds."""
    return progress["best_epoch"] if training["keep_best"] else progress["epoch"]
