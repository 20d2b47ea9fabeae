"""Fit glue: data from the recipe, the builder's model, callbacks, the run folder."""

import os
import random
import time
import warnings

import keras

from kerasrnn import builders, config, plots, runs
from kerasrnn.data import catalog, readers, splits
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

    Files named in the recipe win over the catalog data set's; splits with no
    file are carved from train by a seeded hash of each example's key.

    Returns:
        A dict "train" / "valid" / "test" -> list of `Example`s.
    """
    data = recipe["data"]
    files, fmt, dataset_options = {}, data["format"], {}
    if data["dataset"]:
        entry = catalog.get(data["dataset"])
        files = catalog.fetch(data["dataset"])
        dataset_options = entry.options
        if fmt == "auto":
            fmt = entry.format
    for split in SPLITS:
        if data[split]:
            files[split] = data[split]
    if "train" not in files:
        raise DataError("data -> train: no training data (name a dataset or a train file)")
    if fmt == "auto":
        fmt = _guess_format(files["train"])
    options = _reader_options(recipe, dataset_options)
    report = readers.ReadReport()
    read = {
        split: list(readers.read_examples(paths, fmt, options, report))
        for split, paths in files.items()
    }
    missing = [split for split in ("valid", "test") if split not in read]
    seed = recipe["training"]["seed"]
    if missing:
        carved = splits.split_examples(
            read["train"], seed, data["valid_split"], data["test_split"], need=missing
        )
        read["train"] = carved["train"]
        for split in missing:
            read[split] = carved[split]
    cap = data["max_examples"]
    if cap:
        for split, examples in read.items():
            if len(examples) > cap:
                read[split] = random.Random(seed).sample(examples, cap)
    if not read["train"]:
        raise DataError("data -> train: no training examples left after reading and splitting")
    counts = ", ".join(f"{s} {len(read.get(s, [])):,}" for s in SPLITS)
    echo(f"Examples: {counts}" + (f" ({report.skipped} bad lines skipped)" if report.skipped else ""))
    return read


def make_optimizer(training):
    kinds = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return kinds[training["optimizer"]](
        learning_rate=training["learning_rate"], clipnorm=training["clipnorm"]
    )


class RunWriter(keras.callbacks.Callback):
    """After each epoch: the model, history.csv and the curves, each written whole."""

    def __init__(self, run_dir, title):
        super().__init__()
        self.run_dir = run_dir
        self.title = title
        self.rows = []
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        row["seconds"] = round(time.time() - self.started, 2)
        self.rows.append(row)
        runs.save_model(self.model, os.path.join(self.run_dir, runs.MODEL))
        runs.write_history(os.path.join(self.run_dir, runs.HISTORY), self.rows)
        plots.training_curves(
            [{k: v for k, v in r.items() if k != "seconds"} for r in self.rows],
            os.path.join(self.run_dir, runs.CURVES),
            self.title,
        )


def fit(recipe, run_dir, echo=print):
    """Trains the recipe's model into `run_dir` and returns the held-out metrics."""
    training = recipe["training"]
    keras.utils.set_random_seed(training["seed"])
    builder = builders.get(recipe)
    data = load_splits(recipe, echo)
    vocabs = builder.fit_vocabs(data["train"])
    os.makedirs(run_dir, exist_ok=True)
    write_text(os.path.join(run_dir, runs.RECIPE), config.dump_recipe(recipe))
    runs.save_vocabs(run_dir, vocabs)

    model = builder.build(vocabs)
    model.compile(
        optimizer=make_optimizer(training),
        loss=builder.loss(),
        weighted_metrics=builder.metrics(),
    )
    sizes = ", ".join(f"{side} {len(v):,}" for side, v in vocabs.items())
    echo(f"Model: {model.count_params():,} parameters; vocabularies: {sizes}")
    train = builder.dataset(data["train"], vocabs, training=True)
    if training["steps_per_epoch"]:
        train = train.repeat()
    valid = builder.dataset(data["valid"], vocabs) if data["valid"] else None
    started = time.time()
    with warnings.catch_warnings():
        # Length-bucketed datasets have no known size, which Keras warns about.
        warnings.filterwarnings("ignore", message=".*(ran out of data|shuffle=True).*")
        model.fit(
            train,
            validation_data=valid,
            epochs=training["epochs"],
            steps_per_epoch=training["steps_per_epoch"],
            verbose=training["verbose"],
            callbacks=[RunWriter(run_dir, recipe["name"])],
        )
    result = {
        "train_seconds": round(time.time() - started, 1),
        "parameters": model.count_params(),
    }
    if data["test"]:
        result["test"] = builder.evaluate(model, vocabs, data["test"])
    write_json(os.path.join(run_dir, runs.METRICS), result)
    return result
