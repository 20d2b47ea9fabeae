"""PNG figures people would rather look at than read."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kerasrnn.fileio import atomic_path  # noqa: E402

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

