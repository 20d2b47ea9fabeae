"""The fit loop: data, the builder's model, the epochs, checkpoints and resume."""

import contextlib
import json
import os
import shutil
import tempfile
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import builders, config, plots, runs
from kerasrnn.builders.base import as_text
from kerasrnn.data.loading import load_splits
from kerasrnn.errors import KerasRNNError, RecipeError
from kerasrnn.fileio import write_json, write_text
from kerasrnn.training.adversarial import adversarial_step
from kerasrnn.training.distribute import (
    dtype_policy,
    fit_across_workers,
    is_distributed,
    make_strategy,
    spans_workers,
    train_data,
)
from kerasrnn.training.optim import WeightAverages, make_loss, make_optimizer
from kerasrnn.training.progress import EpochMonitor, fresh_progress, model_epoch, update_progress
from kerasrnn.training.tensorboard import TensorBoardLog


class TrainingError(KerasRNNError):
    """Training ran but failed (a non-finite loss); the command exits with 1."""

    exit_code = 1


def check_run_folder(recipe, run_dir, resume, force):
    """Refuses to overwrite a run, or to resume one with another recipe, unless forced."""
    existing = os.path.isfile(os.path.join(run_dir, runs.RECIPE))
    if resume:
        if not existing:
            raise RecipeError(
                [f"{run_dir}: nothing to resume (no {runs.RECIPE}); run without --resume"]
            )
        changes = runs.recipe_changes(runs.Run(run_dir).recipe, recipe)
        if changes and not force:
            shown = "; ".join(changes[:4]) + ("; ..." if len(changes) > 4 else "")
            raise RecipeError(
                [f"{run_dir}: the recipe differs from the run's ({shown}); --force resumes anyway"]
            )
    elif existing or os.path.isdir(os.path.join(run_dir, runs.CHECKPOINTS)):
        if not force:
            raise RecipeError(
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
            check_run_folder(recipe, run_dir, resume, force)
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
    keras.config.set_dtype_policy(dtype_policy(training["precision"]))
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
            if training["adversarial"]:
                model.train_step = adversarial_step(model, training["adversarial"])
    finally:
        keras.config.set_dtype_policy(policy)
    if spans_workers(strategy):
        fit_across_workers(model)
    sizes = ", ".join(f"{side} {len(v):,}" for side, v in vocabs.items())
    echo(f"Model: {model.count_params():,} parameters; vocabularies: {sizes}")

    state = tf.Variable(json.dumps(fresh_progress()), dtype=tf.string, trainable=False)
    checkpoint = tf.train.Checkpoint(
        model=model, optimizer=model.optimizer, random=_random_state(model), progress=state
    )
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(out_dir, runs.CHECKPOINTS), training["checkpoints_to_keep"]
    )
    latest = tf.train.latest_checkpoint(os.path.join(run_dir, runs.CHECKPOINTS))
    progress = fresh_progress()
    averages = WeightAverages(model) if training["ema"] else None
    averaged = averages.applied if averages else contextlib.nullcontext
    if resume and latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        progress = json.loads(state.numpy().decode("utf-8"))
        if progress["epoch"] < training["epochs"] and not progress["stopped"]:
            echo(f"Resuming from epoch {progress['epoch'] + 1} ({latest})")
        runs.write_history(os.path.join(out_dir, runs.HISTORY), progress["rows"])
        if progress["epoch"] == model_epoch(progress, training):
            with averaged():
                runs.save_model(model, os.path.join(out_dir, runs.MODEL))
    elif resume:
        echo(f"No checkpoint in {run_dir} yet; starting from epoch 1")

    epochs = training["epochs"]
    steps = training["steps_per_epoch"] or builder.steps_per_epoch(data["train"], vocabs, training["batch_size"])
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
                    train_data(builder, strategy, data["train"], vocabs, training, steps),
                    validation_data=valid,
                    initial_epoch=epoch,
                    epochs=epochs,
                    steps_per_epoch=training["steps_per_epoch"] or (steps if is_distributed(strategy) else None),
                    verbose=training["verbose"],
                    callbacks=[*builder.callbacks(), monitor, *([averages] if averages else []), *callbacks],
                )
        if monitor.failure:
            kept = f"epoch {epoch} in {os.path.join(run_dir, runs.CHECKPOINTS)}" if epoch else "none"
            raise TrainingError(
                f"{monitor.failure}; training stopped (last good checkpoint: {kept}). "
                "Lower training.learning_rate or set training.clipnorm."
            )
        if averages:
            averages.restore_raw()
        seconds.append(time.time() - started)
        row = {"epoch": epoch + 1}
        row.update({k: float(v[-1]) for k, v in history.history.items()})
        row["learning_rate"] = float(np.asarray(model.optimizer.learning_rate))
        row["seconds"] = round(seconds[-1], 2)
        improved = update_progress(progress, training, row)
        state.assign(json.dumps(progress))
        manager.save(checkpoint_number=epoch + 1)
        if improved or not training["keep_best"]:
            with averaged():
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


def _token_count(builder, examples):
    return sum(
        len(tokens)
        for side in builder.SIDES
        for tokens in builder.tokenizers[side].split_py(
            [as_text(getattr(ex, side)) for ex in examples]
        )
    )
