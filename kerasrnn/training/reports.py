"""Reports in the recipe's own tokens: its data's statistics and a run's figures."""

import os

from kerasrnn import builders, plots, runs
from kerasrnn.data.loading import inspect_splits, load_split, load_splits


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
    return inspect_splits(data, tokenizers, vocabs, out_png)


def plot_run(run):
    """Redraws a run folder's figures; returns the paths written.

    Every run gets its training curves (from history.csv); classifiers also
    get a confusion matrix over their held-out examples.

    Args:
        run: a `kerasrnn.runs.Run`.
    """
    history = os.path.join(run.dir, runs.HISTORY)
    if not os.path.isfile(history):
        raise FileNotFoundError(f"{run.dir}: no {runs.HISTORY} yet (no epoch finished)")
    paths = [os.path.join(run.dir, runs.CURVES)]
    plots.training_curves(runs.read_history(history), paths[0], run.recipe["name"])
    examples = load_split(run.recipe, "test")
    labelled = run.builder.gold_and_predicted(run.model, run.vocabs, examples) if examples else None
    if labelled:
        paths.append(os.path.join(run.dir, runs.CONFUSION))
        plots.confusion_matrix(*labelled, paths[-1], f"{run.recipe['name']}: held-out examples")
    return paths
