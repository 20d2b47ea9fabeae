"""Ensembles: several trained runs of one CTC recipe, decoded as one model.

Models trained alike from different random starts make different mistakes.
`ensemble` joins the runs' models into one Keras model whose output holds
every member's scores side by side (`kerasrnn.layers.MemberScores`), and
writes it as a run folder: `predict`, `evaluate` and `export` take it as
they take any run, and the exports hold every member in one graph.

Separately trained CTC models put their label spikes on different steps, so
their per-step probabilities are not averaged: decoding joins them per
sequence (`kerasrnn.decoding.ctc_ensemble`). Each member proposes its best
labellings, and the one with the highest summed CTC log-likelihood over the
members wins.

The members must read and write the same tokens: the same type and data
section, the same vocabularies, the same output steps. Train them with the
recipe's `training.seed` varied and `data.split_seed` fixed, so that every
member holds out the same validation and test examples:

    kerasrnn fit recipe.yaml -o runs/a
    kerasrnn fit recipe.yaml -o runs/b --set training.seed=2 --set data.split_seed=1337
    kerasrnn ensemble runs/a runs/b -o runs/ab

Only CTC transducers (`model.decoder: ctc`) are joined today.
"""

import os

import keras

from kerasrnn import builders, config, runs
from kerasrnn.builders.base import float32_model
from kerasrnn.data.loading import load_splits
from kerasrnn.errors import KerasRNNError
from kerasrnn.fileio import write_json, write_text
from kerasrnn.layers.ctc import MemberScores
from kerasrnn.training.loop import check_run_folder

# Model keys that change what the model reads or the steps it scores.
SHAPE_KEYS = ("decoder", "upsample", "upsample_mode")


class EnsembleError(KerasRNNError):
    """Runs that cannot be joined, or an output folder that would be overwritten."""


def split_seed(recipe):
    data = recipe["data"]
    return recipe["training"]["seed"] if data["split_seed"] is None else data["split_seed"]


def check_members(members):
    """Raises `EnsembleError` unless the runs read, hold out and score alike."""
    if len(members) < 2:
        raise EnsembleError("ensemble: give at least two run folders")
    first = members[0]
    if not getattr(builders.get(first.recipe), "ENSEMBLE", False):
        raise EnsembleError(
            f"{first.dir}: a {first.recipe['type']} model cannot be joined; "
            "ensembles take CTC models (type: seq2seq, model.decoder: ctc)"
        )
    data = {k: v for k, v in first.recipe["data"].items() if k != "split_seed"}
    for run in members[1:]:
        if run.recipe["type"] != first.recipe["type"]:
            problem = f"its type is {run.recipe['type']}, not {first.recipe['type']}"
        elif {k: v for k, v in run.recipe["data"].items() if k != "split_seed"} != data:
            problem = "its data section differs: " + "; ".join(
                runs.recipe_changes(first.recipe["data"], run.recipe["data"], "data.")
            )
        elif split_seed(run.recipe) != split_seed(first.recipe):
            problem = (
                f"it holds out other examples (split seed {split_seed(run.recipe)}, not "
                f"{split_seed(first.recipe)}); set data.split_seed when training members"
            )
        elif any(run.recipe["model"][k] != first.recipe["model"][k] for k in SHAPE_KEYS):
            problem = "its model." + "/".join(SHAPE_KEYS) + " differ"
        else:
            differ = [s for s in first.vocabs if run.vocabs.get(s) is None
                      or run.vocabs[s].tokens != first.vocabs[s].tokens]
            problem = f"its {' and '.join(differ)} vocabulary differs" if differ else None
        if problem:
            raise EnsembleError(f"{run.dir}: cannot join {first.dir} in an ensemble: {problem}")


def join(models):
    """One Keras model: the members side by side, `[batch, members, steps, classes]` out.

    Members trained under a mixed precision policy join as float32 copies
    (`float32_model`): the ensemble serves inference only.
    """
    models = [float32_model(model) for model in models]
    first = models[0]
    inputs = {
        name: keras.Input(tuple(t.shape[1:]), dtype=t.dtype, name=name)
        for name, t in first.input.items()
    }
    outputs = []
    for i, model in enumerate(models, 1):
        model.name = f"member_{i}"
        outputs.append(model(inputs))
    return keras.Model(inputs, MemberScores(name="member_scores")(outputs), name="ensemble")


def ensemble(run_dirs, output, force=False, echo=print):
    """Joins trained run folders into the run folder `output` and scores it.

    The new folder holds the first member's recipe and vocabularies, the
    joined `model.keras`, and `metrics.json` with the members' folders and
    the ensemble's scores on the validation and test splits (those the
    recipe has). Returns those metrics.

    Raises:
        EnsembleError: fewer than two runs, runs that differ in what they
            read or score, or an `output` that holds a run (without `force`).
    """
    members = [runs.Run(d) for d in run_dirs]
    check_members(members)
    if os.path.abspath(output) in {os.path.abspath(d) for d in run_dirs}:
        raise EnsembleError(f"{output}: is one of the members; write the ensemble elsewhere")
    recipe = members[0].recipe
    check_run_folder(recipe, output, resume=False, force=force)
    model = join([run.model for run in members])
    os.makedirs(output, exist_ok=True)
    write_text(os.path.join(output, runs.RECIPE), config.dump_recipe(recipe))
    runs.save_vocabs(output, members[0].vocabs)
    runs.save_model(model, os.path.join(output, runs.MODEL))
    echo(f"Ensemble of {len(members)} runs: {model.count_params():,} parameters")
    result = {"members": [os.fspath(d) for d in run_dirs], "parameters": model.count_params()}
    data = load_splits(recipe, echo=echo)
    builder = members[0].builder
    for split in ("valid", "test"):
        if data.get(split):
            result[split] = builder.evaluate(model, members[0].vocabs, data[split])
    write_json(os.path.join(output, runs.METRICS), result)
    return result
