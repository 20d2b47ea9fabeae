"""Looking inside recurrent models: how the gradient flows back through time.

`gradient_norms` measures, for every step t, the norm of the gradient of the
sum of a recurrent stack's last output with respect to the input at step t.
A plain tanh RNN's curve falls off exponentially towards the first steps (the
vanishing gradient); gated cells keep it longer. `plot_gradients` draws one
curve per model on a log scale; `gradients` is what `kerasrnn diagnose
gradients` runs, on a recipe (fresh, randomly initialized models, one per cell
type) or on a trained run folder (its own recurrent stack on held-out inputs).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import config, layers as rnn_layers, plots
from kerasrnn.builders.base import as_text, float32_model, recurrent_layer
from kerasrnn.data.loading import load_split
from kerasrnn.runs import Run

FIGURE = "gradient_norms.png"
DEFAULT_CELLS = ("simple_rnn", "lstm", "gru")
DEFAULT_LENGTH = 100
BATCH = 16
RECURRENT_TYPES = (keras.layers.RNN, keras.layers.Bidirectional, rnn_layers.Bidirectional)


def gradient_norms(stack, inputs):
    """Norm of d(sum of the last output) / d(input at step t), for each t.

    Args:
        stack: Recurrent layers applied in order; each returns sequences
            (the last may return its final output only, or a list whose
            first element is the output).
        inputs: Float array `(batch, timesteps, features)`.

    Returns:
        A NumPy array `(timesteps,)`: the gradient's norm over the batch and
        the features at each step.
    """
    x = tf.convert_to_tensor(inputs, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for layer in stack:
            y = layer(y)
            if isinstance(y, (list, tuple)):
                y = y[0]
        last = y[:, -1] if len(y.shape) == 3 else y
        target = tf.reduce_sum(last)
    grad = tape.gradient(target, x)
    return np.sqrt(np.sum(np.square(grad.numpy().astype("float64")), axis=(0, 2)))


def fresh_stack(model_section, cell, seed):
    """The recipe's recurrent layers with `cell`, randomly initialized from `seed`.

    Levels as the builders make them (`recurrent_layer`); residuals and
    dropout are left out, as `trained_stack` leaves them out of a trained
    model, so the gradient measured is the recurrences' own.
    """
    keras.utils.set_random_seed(seed)
    return [
        recurrent_layer(
            cell, model_section["units"], f"{cell}_{i}", model_section["bidirectional"],
            return_sequences=True,
        )
        for i in range(model_section["layers"])
    ]


def fresh_curves(recipe, cells, length=DEFAULT_LENGTH, batch=BATCH):
    """One curve per cell: the recipe's stack, fresh, on standard-normal inputs.

    Every cell sees the same inputs (width `model.embedding_dim`, as embedded
    tokens) and is seeded with `training.seed`.
    """
    seed = recipe["training"]["seed"]
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((batch, length, recipe["model"]["embedding_dim"])).astype("float32")
    return {cell: gradient_norms(fresh_stack(recipe["model"], cell, seed), inputs) for cell in cells}


def trained_stack(model):
    """The source embedding and the first chain of recurrent layers of a trained model."""
    # By class name, so that embeddings of our own (a tied one) count too.
    embedding = next((l for l in model.layers if type(l).__name__.endswith("Embedding")), None)
    recurrent = [l for l in model.layers if isinstance(l, RECURRENT_TYPES)]
    if embedding is None or not recurrent:
        raise ValueError(f"model {model.name!r} has no embedding followed by recurrent layers")
    prefix = recurrent[0].name.rstrip("0123456789")
    return embedding, [l for l in recurrent if l.name.rstrip("0123456789") == prefix]


def held_out_ids(run, length=None, rows=64):
    """Up to `rows` held-out source id rows, all cut to one length with no padding.

    The length is `length`, else the median held-out length; only rows at
    least that long are kept, so no step is padding.
    """
    examples = load_split(run.recipe, "test")
    if not examples:
        raise ValueError(f"{run.dir}: no held-out examples")
    builder = run.builder
    side = builder.SIDES[0]
    tokens = builder.ids(side, run.vocabs, tf.constant([as_text(getattr(e, side)) for e in examples]))
    ids = tokens.to_tensor().numpy()
    lengths = (ids != 0).sum(axis=1)
    length = min(length or int(np.median(lengths)), lengths.max())
    return ids[lengths >= length][:rows, :length]


def run_curve(run, length=None):
    """The trained model's curve over held-out inputs: `{label: norms}`.

    A model trained in mixed precision is measured in float32, as inference
    runs it (`float32_model`).
    """
    embedding, stack = trained_stack(float32_model(run.model))
    ids = held_out_ids(run, length)
    label = f"{run.recipe['model']['cell']} (trained, {len(ids)} held-out rows)"
    return {label: gradient_norms(stack, embedding(ids))}


def plot_gradients(curves, path, title=None):
    """Draws each `{label: norms}` curve against the step, log scale."""
    fig, ax = plots.plt.subplots(figsize=(7, 4.2))
    for label, norms in curves.items():
        steps = np.arange(1, len(norms) + 1)
        ax.semilogy(steps, np.maximum(norms, 1e-45), label=label)
    ax.set_xlabel("input step t (the output is read after the last step)")
    ax.set_ylabel("|d output / d x_t|")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    if title:
        ax.set_title(title)
    plots._save(fig, path)


def gradients(target, length=None, cells=None, out=None):
    """Runs the diagnosis on a recipe file or a run folder; returns (path, curves).

    A run folder without `cells` gives the trained model's curve over its
    held-out data; a recipe (or `cells`) gives one fresh model per cell at
    `length` steps (default 100), the recipe's own cell among them.
    """
    is_run = os.path.isdir(target)
    run = Run(target) if is_run else None
    recipe = run.recipe if is_run else config.load_recipe(target)
    if is_run and not cells:
        curves = run_curve(run, length)
        title = f"{recipe['name']}: gradient through time, trained model"
    else:
        cells = list(cells or dict.fromkeys([*DEFAULT_CELLS, recipe["model"]["cell"]]))
        curves = fresh_curves(recipe, cells, length or DEFAULT_LENGTH)
        title = f"{recipe['name']}: gradient through time, random init, {recipe['model']['units']} units"
    if out is None:
        folder = target if is_run else os.path.join("saved_models", recipe["name"])
        os.makedirs(folder, exist_ok=True)
        out = os.path.join(folder, FIGURE)
    plot_gradients(curves, out, title)
    return out, curves
