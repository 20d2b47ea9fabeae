"""Run folders: what `kerasrnn fit` writes, written so a kill never corrupts it.

A run folder holds:
    recipe.yaml          the resolved recipe, every default filled in
    model.keras          the trained Keras model
    vocab.source.json    vocabularies, one per side
    vocab.target.json
    history.csv          one row per epoch
    metrics.json         held-out metrics
    training_curves.png  loss and metric curves
    confusion_matrix.png classifiers, from `kerasrnn plot`
    gradient_norms.png   from `kerasrnn diagnose gradients`
    checkpoints/         the last epochs' tf.train checkpoints, for --resume
    logs/                TensorBoard logs (train/, validation/)

Every file is written to a temporary name in the same folder and renamed into
place, so a reader sees either the old file or the new one, never half. A
checkpoint is complete once `checkpoints/checkpoint` names it (TensorFlow
writes that index last); a kill leaves at most temporary names behind, which
the next run removes. Starting a run over (`--force`) removes these files by
their names and nothing else, so a folder the user keeps other files in
keeps them.
"""

import csv
import os
import re
import shutil

import yaml

from kerasrnn import builders, config
from kerasrnn.fileio import atomic_path
from kerasrnn.data.vocab import Vocabulary

RECIPE = "recipe.yaml"
MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
CURVES = "training_curves.png"
CONFUSION = "confusion_matrix.png"
CHECKPOINTS = "checkpoints"
LOGS = "logs"
GRADIENTS = "gradient_norms.png"
# Keys that change what is shown, not what is trained.
UNTRAINED_KEYS = ("training.verbose", "description")
# What a run writes, by name: the files `clear` may remove.
OUTPUTS = (MODEL, HISTORY, METRICS, CURVES, CONFUSION, GRADIENTS)
VOCAB_FILE = re.compile(r"^vocab\.\w+\.json$")
CHECKPOINT_FILE = re.compile(r"^(checkpoint|ckpt-\d+\.(index|data-\d+-of-\d+))$")
EVENT_FILE = re.compile(r"^events\.out\.tfevents\.")
LOG_SPLITS = ("train", "validation")
# Half-written files a kill can leave: ours (`fileio.atomic_path`), then TensorFlow's.
TEMPORARY = re.compile(r"^[^/]+\.tmp-\d+(\.\w+)?$")
CHECKPOINT_TEMPORARY = re.compile(r"^(ckpt-\d+_temp.*|checkpoint\.tmp\w*)$")


def write_history(path, rows):
    """Writes one CSV row per epoch (a list of dicts with the same keys)."""
    keys = list(rows[0]) if rows else ["epoch"]
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)


def read_history(path):
    with open(path, encoding="utf-8", newline="") as f:
        return [
            {k: (float(v) if k != "epoch" else int(v)) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def save_model(model, path):
    with atomic_path(path) as tmp:
        model.save(tmp)


def vocab_path(run_dir, side):
    return os.path.join(run_dir, f"vocab.{side}.json")


def save_vocabs(run_dir, vocabs):
    for side, vocab in vocabs.items():
        vocab.save(vocab_path(run_dir, side))


def load_vocabs(run_dir, sides):
    return {side: Vocabulary.load(vocab_path(run_dir, side)) for side in sides}


def recipe_changes(old, new, prefix=""):
    """`section -> key: old -> new` for each key whose value differs."""
    changes = []
    for key in dict.fromkeys([*old, *new]):
        dotted = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if dotted in UNTRAINED_KEYS:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changes += recipe_changes(a, b, f"{dotted}.")
        elif a != b:
            changes.append(f"{dotted.replace('.', ' -> ')}: {a!r} -> {b!r}")
    return changes


def remove_temporaries(run_dir):
    """Removes what a killed run may have left half-written."""
    _remove_matching(run_dir, TEMPORARY)
    _remove_matching(os.path.join(run_dir, CHECKPOINTS), CHECKPOINT_TEMPORARY)


def clear(run_dir):
    """Removes a run's outputs so a new run can start in its folder.

    Only the files a run writes go, by their names: the model, history,
    metrics, plots, vocabularies, checkpoints and TensorBoard event files.
    Anything else in the folder (or in checkpoints/ and logs/) stays, and so
    does the export/ folder; emptied folders are removed.
    """
    _remove_matching(run_dir, lambda name: name in OUTPUTS or VOCAB_FILE.match(name))
    checkpoints = os.path.join(run_dir, CHECKPOINTS)
    _remove_matching(checkpoints, CHECKPOINT_FILE)
    remove_temporaries(run_dir)
    _remove_if_empty(checkpoints)
    logs = os.path.join(run_dir, LOGS)
    for split in LOG_SPLITS:
        _remove_matching(os.path.join(logs, split), EVENT_FILE)
        _remove_if_empty(os.path.join(logs, split))
    _remove_if_empty(logs)


def _remove_matching(folder, match):
    """Removes the entries of `folder` whose names match (a regex or a predicate)."""
    test = match.match if isinstance(match, re.Pattern) else match
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not test(name) or os.path.islink(path):
            continue
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)


def _remove_if_empty(folder):
    if os.path.isdir(folder) and not os.path.islink(folder) and not os.listdir(folder):
        os.rmdir(folder)


class Run:
    """A finished (or checkpointed) run folder, loaded for use."""

    def __init__(self, run_dir):
        if not os.path.isfile(os.path.join(run_dir, RECIPE)):
            raise FileNotFoundError(f"{run_dir}: not a run folder (no {RECIPE})")
        self.dir = run_dir
        with open(os.path.join(run_dir, RECIPE), encoding="utf-8") as f:
            self.recipe = config.resolve(yaml.safe_load(f), source=run_dir, files=False)
        self._model = None
        self._vocabs = None

    @property
    def vocabs(self):
        if self._vocabs is None:
            self._vocabs = {}
            for name in sorted(os.listdir(self.dir)):
                if name.startswith("vocab.") and name.endswith(".json"):
                    side = name[len("vocab.") : -len(".json")]
                    self._vocabs[side] = Vocabulary.load(os.path.join(self.dir, name))
        return self._vocabs

    @property
    def model(self):
        if self._model is None:
            import keras

            self._model = keras.saving.load_model(
                os.path.join(self.dir, MODEL), compile=False
            )
        return self._model

    @property
    def builder(self):
        return builders.get(self.recipe).attach(self.vocabs)
