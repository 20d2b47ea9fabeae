"""PNG figures people would rather look at than read."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kerasrnn.fileio import atomic_path  # noqa: E402

CLASSIFIER_TYPES = ("many_to_one", "one_to_one")
# Columns of history.csv that are not curves.
NOT_CURVES = ("epoch", "seconds")


def _save(fig, path):
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def training_curves(rows, path, title=None):
    """Loss, each metric and the learning rate per epoch, train beside validation."""
    names = [k for k in rows[0] if k not in NOT_CURVES and not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    epochs = [r["epoch"] for r in rows]
    for ax, name in zip(axes[0], names):
        label = "train" if f"val_{name}" in rows[0] else None
        ax.plot(epochs, [r[name] for r in rows], marker="o", label=label)
        if label:
            ax.plot(epochs, [r[f"val_{name}"] for r in rows], marker="o", label="validation")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def confusion_matrix(gold, predicted, labels, path, title=None):
    """Rows: the true label; columns: the predicted one; cells: counts, shaded by row share."""
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), np.int64)
    for g, p in zip(gold, predicted):
        if g in index and p in index:
            counts[index[g], index[p]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = max(4.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 25:
        for (i, j), n in np.ndenumerate(counts):
            if n:
                ax.text(j, i, str(n), ha="center", va="center",
                        color="white" if shares[i, j] > 0.5 else "black", fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true label")
    if title:
        ax.set_title(title)
    _save(fig, path)
    return counts


def plot_run(run):
    """Redraws a run folder's figures; returns the paths written.

    Every run gets its training curves (from history.csv); classifiers also
    get a confusion matrix over their held-out examples.
    """
    from kerasrnn import runs, training
    from kerasrnn.builders.base import as_text

    history = os.path.join(run.dir, runs.HISTORY)
    if not os.path.isfile(history):
        raise FileNotFoundError(f"{run.dir}: no {runs.HISTORY} yet (no epoch finished)")
    paths = [os.path.join(run.dir, runs.CURVES)]
    training_curves(runs.read_history(history), paths[0], run.recipe["name"])
    recipe = run.recipe
    if recipe["type"] in CLASSIFIER_TYPES and recipe["model"].get("head") != "regression":
        examples = training.load_splits(recipe, echo=lambda _: None)["test"]
        if examples:
            builder = run.builder
            outputs = builder.predict(run.model, run.vocabs, [as_text(ex.source) for ex in examples])
            gold = [
                tokens[0] if tokens else ""
                for tokens in builder.tokenizers["target"].split_py(
                    [as_text(ex.target) for ex in examples]
                )
            ]
            labels = list(run.vocabs["target"].tokens[1:])
            paths.append(os.path.join(run.dir, runs.CONFUSION))
            confusion_matrix(
                gold, [row["output"] for row in outputs], labels, paths[-1],
                f"{recipe['name']}: held-out examples",
            )
    return paths
