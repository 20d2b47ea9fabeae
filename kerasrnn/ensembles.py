"""Ensembles: several trained runs of one recipe, used as one model.

Models trained alike from different random starts make different mistakes.
`ensemble` joins the runs' models into one Keras model and writes it as a
run folder: `predict`, `evaluate` and `export` take it as they take any run,
and the exports hold every member in one graph. How the members' scores join
is the builder's `ENSEMBLE`:

- classifiers and taggers (`"mean"`): the ensemble's scores are the mean of
  the members' logits, so it reads and writes what one member does. Its
  softmax is the renormalized geometric mean of the members' probabilities.
  A CRF tagger's ensemble gets the mean of the members' CRF weights as well:
  its Viterbi path is the tag sequence with the highest summed score over
  the members, the one that the product of their probabilities ranks first.
- CTC transducers (`"stack"`): separately trained CTC models put their label
  spikes on different steps, so their per-step scores are kept side by side
  (`kerasrnn.layers.MemberScores`) and decoding joins them per sequence
  (`kerasrnn.decoding.ctc_ensemble`). Each member proposes its best
  labellings, and the one with the highest summed CTC log-likelihood over
  the members wins.

The members must read and write the same tokens: the same type and data
section, the same vocabularies, the same model inputs and outputs. Train
them with the recipe's `training.seed` varied and `data.split_seed` fixed,
so that every member holds out the same validation and test examples:

    kerasrnn fit recipe.yaml -o runs/a
    kerasrnn fit recipe.yaml -o runs/b --set training.seed=2 --set data.split_seed=1337
    kerasrnn ensemble runs/a runs/b -o runs/ab

Language models, generators and encoder-decoders are not joined.
"""

import os

import keras
import numpy as np

from kerasrnn import builders, config, runs
from kerasrnn.builders.base import float32_model
from kerasrnn.builders.tagger import crf_weights
from kerasrnn.data.loading import load_splits
from kerasrnn.errors import KerasRNNError
from kerasrnn.fileio import write_json, write_text
from kerasrnn.layers.crf import CRF
from kerasrnn.layers.ctc import MemberScores
from kerasrnn.training.loop import check_run_folder

# Model keys that change what the model reads, the steps it scores or how
# its scores are read.
SHAPE_KEYS = ("decoder", "upsample", "upsample_mode", "head", "crf", "spelling_features", "char_cnn")


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
    if builders.get(first.recipe).ENSEMBLE is None:
        raise EnsembleError(
            f"{first.dir}: a {first.recipe['type']} model cannot be joined; ensembles take "
            "classifiers (many_to_one, one_to_one), taggers (many_to_many) and CTC models "
            "(seq2seq with model.decoder: ctc)"
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
        elif changed := [k for k in SHAPE_KEYS if run.recipe["model"][k] != first.recipe["model"][k]]:
            problem = "; ".join(
                f"its model.{k} is {run.recipe['model'][k]!r}, not {first.recipe['model'][k]!r}"
                for k in changed
            )
        else:
            differ = [s for s in first.vocabs if run.vocabs.get(s) is None
                      or run.vocabs[s].tokens != first.vocabs[s].tokens]
            problem = f"its {' and '.join(differ)} vocabulary differs" if differ else None
        if problem:
            raise EnsembleError(f"{run.dir}: cannot join {first.dir} in an ensemble: {problem}")


def join(models, how):
    """One Keras model holding the members, their scores joined `how`.

    `"stack"`: side by side, `[batch, members, steps, classes]` out.
    `"mean"`: averaged, the members' output shape; members with a CRF
    output get a CRF whose weights are the mean of theirs.

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
    if how == "stack":
        return keras.Model(inputs, MemberScores(name="member_scores")(outputs), name="ensemble")
    scores = keras.layers.Average(name="mean_scores")(outputs)
    crfs = [crf_weights(model) for model in models]
    if crfs[0] is not None:
        crf = CRF(name="crf")
        scores = crf(scores)
        for variable, values in zip((crf.transitions, crf.start, crf.end), zip(*crfs)):
            variable.assign(np.mean(values, axis=0))
    return keras.Model(inputs, scores, name="ensemble")


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
    builder = members[0].builder
    model = join([run.model for run in members], builder.ENSEMBLE)
    os.makedirs(output, exist_ok=True)
    write_text(os.path.join(output, runs.RECIPE), config.dump_recipe(recipe))
    runs.save_vocabs(output, members[0].vocabs)
    runs.save_model(model, os.path.join(output, runs.MODEL))
    echo(f"Ensemble of {len(members)} runs: {model.count_params():,} parameters")
    result = {"members": [os.fspath(d) for d in run_dirs], "parameters": model.count_params()}
    data = load_splits(recipe, echo=echo)
    for split in ("valid", "test"):
        if data.get(split):
            result[split] = builder.evaluate(model, members[0].vocabs, data[split])
    write_json(os.path.join(output, runs.METRICS), result)
    return result
