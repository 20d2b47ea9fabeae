"""Recipe schema: load a YAML recipe, apply overrides, validate, fill defaults.

A recipe is a YAML mapping with the sections `name`, `type`, `data`, `model`,
`training`, `decoding` and `export`. Every key, its type, default and range is
declared once, in `SCHEMA` below; `kerasrnn validate` and `kerasrnn fit` both
go through `load_recipe`, which reports every problem at once, one line each:

    training -> epocs: unknown key (did you mean 'epochs'?)
"""

import copy
import dataclasses
import difflib
import glob
import os
from typing import Any

import yaml

from kerasrnn.data import catalog, readers, tokenizers
from kerasrnn.errors import RecipeError
from kerasrnn.layers import registry

TYPES = (
    "one_to_one",
    "one_to_many",
    "many_to_one",
    "many_to_many",
    "seq2seq",
    "language_model",
)
CELLS = tuple(registry.CELLS)
FORMATS = ("auto", *readers.FORMATS)
TOKENIZERS = tokenizers.KINDS


@dataclasses.dataclass(frozen=True)
class Field:
    """One recipe key: its type(s), default, allowed values and help text."""

    types: tuple
    default: Any = None
    help: str = ""
    choices: tuple = None
    min: float = None
    max: float = None
    nullable: bool = False
    required: bool = False
    path: bool = False


def _tokenizer_section(tokenizer, help_side):
    return {
        "tokenizer": Field(
            (str,),
            tokenizer,
            f"How {help_side} text becomes tokens: characters, words split on "
            "white space, words split by Unicode script, WordPiece subwords, "
            "space-separated tokens kept as they are, one label, or (one_to_one "
            "inputs) a fixed-length vector of numbers separated by spaces or commas.",
            choices=TOKENIZERS,
        ),
        "lowercase": Field((bool,), False, "Lower-case before tokenizing."),
        "normalize": Field(
            (bool,), False, "Apply Unicode NFKC normalization before tokenizing."
        ),
        "max_length": Field(
            (int,),
            None,
            "Longest sequence in tokens; longer ones are truncated and counted.",
            min=1,
            nullable=True,
        ),
        "min_freq": Field(
            (int,), 1, "Tokens seen fewer times than this map to <unk>.", min=1
        ),
        "max_vocab": Field(
            (int,),
            None,
            "Keep at most this many tokens (most frequent first), specials included; "
            "for subword, the size the WordPiece vocabulary is learned to "
            "(default 8000).",
            min=5,
            nullable=True,
        ),
    }


SCHEMA = {
    "name": Field(
        (str,),
        None,
        "Run name; the default run folder is saved_models/<name>/.",
        required=True,
    ),
    "type": Field(
        (str,), None, "The RNN architecture type.", choices=TYPES, required=True
    ),
    "description": Field((str,), None, "Free text about the recipe.", nullable=True),
    "data": {
        "dataset": Field(
            (str,),
            None,
            "A dataset catalog name (`kerasrnn datasets list`).",
            nullable=True,
        ),
        "train": Field(
            (str, list),
            None,
            "Training file(s): a path, a glob, or a list; overrides the catalog's.",
            nullable=True,
            path=True,
        ),
        "valid": Field(
            (str, list),
            None,
            "Validation file(s); without them a seeded share of train is held out.",
            nullable=True,
            path=True,
        ),
        "test": Field(
            (str, list),
            None,
            "Test file(s); without them a seeded share of train is held out.",
            nullable=True,
            path=True,
        ),
        "format": Field(
            (str,),
            "auto",
            "File format; `auto` takes the catalog's or guesses from the file name.",
            choices=FORMATS,
        ),
        "columns": Field(
            (dict,),
            None,
            "Which columns or fields hold the source and target, "
            "e.g. {source: 0, target: 1} or JSON keys.",
            nullable=True,
        ),
        "delimiter": Field(
            (str,), None, "Column delimiter for tsv/csv files.", nullable=True
        ),
        "header": Field((bool,), False, "The first line of tsv/csv files is a header."),
        "encoding": Field((str,), "utf-8", "Text encoding of the data files."),
        "on_bad_line": Field(
            (str,),
            "error",
            "What a malformed line does: stop with an error naming it, "
            "or skip it (skipped lines are counted and reported).",
            choices=("error", "skip"),
        ),
        "strip_stress": Field(
            (bool,), True, "cmudict format: drop the stress digits of vowels."
        ),
        "max_examples": Field(
            (int,),
            None,
            "Use at most this many training examples (for quick runs).",
            min=1,
            nullable=True,
        ),
        "valid_split": Field(
            (float,),
            0.05,
            "Share of examples held out for validation when no valid file is given.",
            min=0.0,
            max=0.5,
        ),
        "test_split": Field(
            (float,),
            0.05,
            "Share of examples held out for testing when no test file is given.",
            min=0.0,
            max=0.5,
        ),
        "split_by": Field(
            (str,),
            "key",
            "How held-out shares are carved from train: by a seeded hash of each "
            "example's key, or by position (the last `test_split` share of the "
            "text, in file order, is test and the `valid_split` share before it "
            "valid; nanoGPT's split of a stream).",
            choices=("key", "position"),
        ),
        "swap_sides": Field(
            (bool,),
            False,
            "Exchange source and target after reading, e.g. so the folder "
            "format's label (the file name) is the source of a one_to_many model.",
        ),
        "lm_mode": Field(
            (str,),
            "sentences",
            "language_model: each line an independent example between <bos> and "
            "<eos>, or all lines one stream (each line ending in <eos>) read in "
            "windows with the state carried between them (truncated BPTT).",
            choices=("sentences", "stream"),
        ),
        "window": Field(
            (int,),
            128,
            "language_model stream mode: tokens per window (the BPTT length).",
            min=1,
        ),
        "streaming": Field(
            (bool,),
            None,
            "Read the data files again on each pass instead of holding them in "
            "memory (for files larger than memory); null: only when the files "
            "pass 200 MB. Needs split_by: key.",
            nullable=True,
        ),
        "source": {
            **_tokenizer_section("char", "input"),
            "factors": Field(
                (int,),
                0,
                "Features joined to each word token by U+FFE8 (word\uffe8POS), "
                "as a list `columns.source` reads them; a tagger embeds each "
                "beside the word. Needs tokenizer word or pretokenized.",
                min=0,
                max=4,
            ),
        },
        "target": _tokenizer_section("label", "output"),
    },
    "model": {
        "cell": Field((str,), "lstm", "Recurrent cell.", choices=CELLS),
        "units": Field((int,), 256, "Units per recurrent layer.", min=1),
        "layers": Field((int,), 1, "Stacked recurrent layers.", min=1, max=16),
        "bidirectional": Field(
            (bool,), False, "Run the encoder (or the whole tagger) both ways."
        ),
        "residual": Field(
            (bool,), False, "Residual connections between stacked layers."
        ),
        "decoder": Field(
            (str,),
            "rnn",
            "seq2seq: rnn, a recurrent decoder generating the target token by "
            "token from the encoder's states; or ctc, a softmax over the target "
            "tokens plus a blank at every encoder step (CTC, Graves et al. 2006): "
            "one pass, no step loop, for outputs in the order of the input "
            "(G2P, transliteration, spelling).",
            choices=("rnn", "ctc"),
        ),
        "upsample": Field(
            (int,),
            1,
            "seq2seq with decoder ctc: read each source token this many times, "
            "so the output can be up to this many times longer than the input "
            "(G2P: 'x' -> 'K S'). Examples that still do not fit are left out "
            "of training and reported.",
            min=1,
            max=8,
        ),
        "upsample_mode": Field(
            (str,),
            "split",
            "seq2seq with decoder ctc, how steps are made: split, the encoder "
            "runs at the source's rate and its output layer gives `upsample` "
            "steps of scores per source token (cheapest); or repeat, each "
            "source embedding is repeated `upsample` times before the encoder.",
            choices=("split", "repeat"),
        ),
        "reverse_source": Field(
            (bool,),
            False,
            "seq2seq with decoder rnn: the encoder reads each source reversed "
            "(Sutskever et al. 2014), so the first target tokens sit close in "
            "time to the first source tokens. Inside the model: exports read "
            "the same way.",
        ),
        "context": Field(
            (str,),
            "initial_state",
            "seq2seq with decoder rnn, where the encoder's summary enters the "
            "decoder: initial_state, its final states start the decoder; or "
            "every_step, also a context vector (a tanh layer over the top "
            "encoder level's final states) joined to every decoder input and "
            "to the output layer's input (Cho et al. 2014).",
            choices=("initial_state", "every_step"),
        ),
        "embedding_dim": Field((int,), 64, "Token embedding size.", min=1),
        "dropout": Field(
            (float,), 0.0, "Dropout between layers and before the output.", min=0.0, max=0.95
        ),
        "recurrent_dropout": Field(
            (float,),
            0.0,
            "Variational dropout on the recurrent state.",
            min=0.0,
            max=0.95,
        ),
        "tie_embeddings": Field(
            (bool,),
            False,
            "language_model / one_to_many: the output layer is the embedding "
            "matrix transposed (units are projected to embedding_dim first "
            "where they differ).",
        ),
        "conditioning": Field(
            (str,),
            "initial_state",
            "one_to_many: the condition's embedding sets the decoder's initial "
            "states (through a Dense per state), is joined to every step's "
            "input, or both.",
            choices=("initial_state", "input", "both"),
        ),
        "pooling": Field(
            (str,),
            "last",
            "many_to_one: how the sequence becomes one vector: the final states "
            "(both directions' when bidirectional), or the mean or max over the "
            "real (unpadded) steps.",
            choices=("last", "mean", "max"),
        ),
        "head": Field(
            (str,),
            "classification",
            "many_to_one / one_to_one: a softmax over the target labels, or one "
            "number (the target is a float; mean squared error loss).",
            choices=("classification", "regression"),
        ),
        "spelling_features": Field(
            (bool,),
            False,
            "many_to_many: add each token's spelling to its embedding: its case "
            "pattern, digits, and its last three characters.",
        ),
        "char_cnn": Field(
            (int,),
            0,
            "many_to_many: filters of a character-level CNN over each word "
            "(width 3, max-pooled; Ma and Hovy 2016), joined to its embedding, "
            "so words training never saw are read from their spelling; 0: none.",
            min=0,
        ),
        "word_dropout": Field(
            (float,),
            0.0,
            "many_to_many: in training, read each word as <unk> with this "
            "probability, so the <unk> embedding learns the contexts that "
            "unknown words come in.",
            min=0.0,
            max=1.0,
        ),
        "crf": Field(
            (bool,),
            False,
            "many_to_many: score whole tag sequences with a linear-chain CRF "
            "(learned tag-to-tag transitions, Viterbi decoding) instead of "
            "choosing each token's tag on its own.",
        ),
    },
    "training": {
        "epochs": Field((int,), 10, "Passes over the training data.", min=1),
        "batch_size": Field((int,), 64, "Examples per step.", min=1),
        "learning_rate": Field((float,), 1e-3, "Initial learning rate.", min=0.0),
        "optimizer": Field(
            (str,),
            "adam",
            "Optimizer.",
            choices=("adam", "adamw", "sgd", "rmsprop"),
        ),
        "momentum": Field(
            (float,), 0.0, "Momentum of sgd and rmsprop.", min=0.0, max=1.0
        ),
        "weight_decay": Field(
            (float,),
            None,
            "Decoupled weight decay; null: adamw's 0.004, none for the others.",
            min=0.0,
            nullable=True,
        ),
        "lr_schedule": Field(
            (str,),
            "constant",
            "Learning rate over training: constant, exponential decay (times "
            "`decay_rate` each epoch), cosine decay to `min_learning_rate` by the "
            "last epoch, or reduced by `plateau_factor` when `monitor` stops "
            "improving for `plateau_patience` epochs.",
            choices=("constant", "exponential", "cosine", "plateau"),
        ),
        "decay_rate": Field(
            (float,), 0.5, "exponential: the rate is multiplied by this each epoch.",
            min=0.0, max=1.0,
        ),
        "min_learning_rate": Field(
            (float,), 0.0, "cosine and plateau: the rate never goes below this.", min=0.0
        ),
        "plateau_factor": Field(
            (float,), 0.5, "plateau: the rate is multiplied by this.", min=0.0, max=1.0
        ),
        "plateau_patience": Field(
            (int,), 2, "plateau: epochs without improvement before reducing.", min=1
        ),
        "warmup_steps": Field(
            (int,), 0, "Raise the rate linearly from 0 over this many first steps.", min=0
        ),
        "clipnorm": Field(
            (float,),
            1.0,
            "Clip gradients to this global norm (exploding gradients); null for none.",
            min=0.0,
            nullable=True,
        ),
        "clipvalue": Field(
            (float,),
            None,
            "Clip each gradient element to [-clipvalue, clipvalue] instead "
            "(set clipnorm: null with it).",
            min=0.0,
            nullable=True,
        ),
        "label_smoothing": Field(
            (float,),
            0.0,
            "Share of each target's probability spread over the other classes.",
            min=0.0,
            max=0.99,
        ),
        "monitor": Field(
            (str,),
            "val_loss",
            "The history.csv column that early stopping, the plateau schedule "
            "and keep_best watch (loss/error columns lower is better, others "
            "higher); val_ columns fall back to the training column without "
            "validation data.",
        ),
        "early_stopping": Field(
            (int,),
            None,
            "Stop after this many epochs without improvement of `monitor`; null: never.",
            min=1,
            nullable=True,
        ),
        "keep_best": Field(
            (bool,),
            True,
            "model.keras holds the epoch best on `monitor`, not the last one.",
        ),
        "checkpoints_to_keep": Field(
            (int,), 2, "Epoch checkpoints kept in RUN/checkpoints for --resume.", min=1
        ),
        "seed": Field((int,), 1337, "Seed for splits, shuffling and initializers."),
        "deterministic": Field(
            (bool,),
            False,
            "TensorFlow op determinism: the same seed gives the same weights "
            "(slower on GPUs).",
        ),
        "strategy": Field(
            (str,),
            "auto",
            "tf.distribute strategy: auto (mirrored over several local GPUs, "
            "multi_worker when TF_CONFIG is set, else default), default (one "
            "device), mirrored (every local GPU), multi_worker (the machines "
            "TF_CONFIG lists).",
            choices=("auto", "default", "mirrored", "multi_worker"),
        ),
        "precision": Field(
            (str,),
            "float32",
            "Keras dtype policy; the mixed ones compute in 16 bits on GPUs "
            "(variables and outputs stay float32; mixed_float16 scales the loss).",
            choices=("float32", "mixed_float16", "mixed_bfloat16"),
        ),
        "tensorboard": Field(
            (bool,), True, "Write TensorBoard logs to RUN/logs."
        ),
        "shuffle_buffer": Field(
            (int,), 20000, "Examples held in the shuffle buffer.", min=1
        ),
        "steps_per_epoch": Field(
            (int,),
            None,
            "Stop each epoch after this many steps (default: the whole data); "
            "each epoch then starts its own seeded pass over the data.",
            min=1,
            nullable=True,
        ),
        "verbose": Field(
            (int,), 1, "Keras progress display: 0 silent, 1 bar, 2 one line per epoch.", min=0, max=2
        ),
    },
    "decoding": {
        "strategy": Field(
            (str,),
            "greedy",
            "How sequences are generated for evaluation and predict.",
            choices=("greedy", "beam", "sample"),
        ),
        "beam_width": Field(
            (int,), 4, "Beam width for beam search (prefix beam search for a ctc decoder).", min=1
        ),
        "length_penalty": Field(
            (float,),
            0.0,
            "Beam scores divided by length**length_penalty (0: none).",
            min=0.0,
        ),
        "max_length": Field(
            (int,), 64, "Longest generated sequence, in tokens.", min=1
        ),
        "temperature": Field((float,), 1.0, "Sampling temperature.", min=0.0),
        "top_k": Field((int,), 0, "Sample among the k likeliest (0: all).", min=0),
        "top_p": Field(
            (float,), 1.0, "Sample within this probability mass.", min=0.0, max=1.0
        ),
    },
    "export": {
        "formats": Field(
            (list,), ["savedmodel"], "Formats `kerasrnn export` writes by default."
        ),
        "quantize": Field(
            (str,),
            "none",
            "TFLite quantization.",
            choices=("none", "float16", "dynamic", "int8"),
        ),
        "batch_size": Field((int,), 1, "Fixed batch of TFLite exports.", min=1),
    },
}

_SEP = " -> "


def _suggest(key, known):
    match = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _type_name(types):
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        list: "a list",
        dict: "a mapping",
    }
    return " or ".join(names[t] for t in types)


def _check_type(value, field):
    if isinstance(value, bool):
        return bool in field.types
    if isinstance(value, int) and float in field.types:
        return True
    return isinstance(value, field.types)


def _path_exists(pattern):
    if isinstance(pattern, str) and ".zip:" in pattern:
        pattern = pattern.split(".zip:", 1)[0] + ".zip"
    if glob.has_magic(pattern):
        return bool(glob.glob(pattern))
    return os.path.exists(pattern)


def _check_field(path, value, field, errors, files=True):
    where = _SEP.join(path)
    if value is None:
        if field.required:
            errors.append(f"{where}: missing required key")
        elif not field.nullable and field.default is not None:
            errors.append(f"{where}: must not be null")
        return value
    if not _check_type(value, field):
        errors.append(
            f"{where}: expected {_type_name(field.types)}, got {value!r}"
        )
        return value
    if float in field.types and isinstance(value, int):
        value = float(value)
    if field.choices is not None and value not in field.choices:
        errors.append(
            f"{where}: {value!r} is not one of {', '.join(field.choices)}"
            + _suggest(value, field.choices)
        )
    if field.min is not None and value < field.min:
        errors.append(f"{where}: {value!r} is below the minimum {field.min!r}")
    if field.max is not None and value > field.max:
        errors.append(f"{where}: {value!r} is above the maximum {field.max!r}")
    if field.path:
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                errors.append(f"{where}: expected a path, got {item!r}")
            elif files and not _path_exists(item):
                errors.append(f"{where}: no such file: {item}")
    return value


def _resolve(path, section, schema, errors, files=True):
    """Checks `section` against `schema`; returns it with defaults filled."""
    where = _SEP.join(path) if path else "recipe"
    if section is None:
        section = {}
    if not isinstance(section, dict):
        errors.append(f"{where}: expected a mapping, got {section!r}")
        section = {}
    resolved = {}
    for key in section:
        if key not in schema:
            errors.append(
                f"{_SEP.join(path + [str(key)])}: unknown key{_suggest(key, schema)}"
            )
    for key, spec in schema.items():
        value = section.get(key)
        if isinstance(spec, dict):
            resolved[key] = _resolve(path + [key], value, spec, errors, files)
        else:
            if key not in section:
                value = copy.deepcopy(spec.default)
            resolved[key] = _check_field(path + [key], value, spec, errors, files)
    return resolved


def _check_ctc(recipe, errors):
    model, strategy = recipe["model"], recipe["decoding"]["strategy"]
    if model["decoder"] == "ctc" and recipe["type"] != "seq2seq":
        errors.append(f"model{_SEP}decoder: ctc is a decoder of seq2seq, not of {recipe['type']}")
    if model["upsample"] != 1 and model["decoder"] != "ctc":
        errors.append(f"model{_SEP}upsample: only a ctc decoder (model.decoder: ctc) reads steps again")
    if model["decoder"] == "ctc" and strategy == "sample":
        errors.append(
            f"decoding{_SEP}strategy: a ctc decoder decodes by greedy or beam (prefix beam search), "
            "not sample"
        )


def _check_seq2seq(recipe, errors):
    model = recipe["model"]
    rnn = recipe["type"] == "seq2seq" and model["decoder"] == "rnn"
    where = "a ctc decoder" if recipe["type"] == "seq2seq" else recipe["type"]
    for key, value, default, what in (
        ("reverse_source", model["reverse_source"], False, "reads its source reversed"),
        ("context", model["context"], "initial_state", "joins a context to every step"),
    ):
        if value != default and not rnn:
            errors.append(
                f"model{_SEP}{key}: only a seq2seq with decoder rnn {what}, not {where}"
            )


def _check_data(recipe, errors):
    data = recipe["data"]
    if not data["dataset"] and not data["train"]:
        errors.append(
            f"data{_SEP}dataset: missing: name a catalog dataset or give data -> train"
        )
    if data["dataset"]:
        if data["dataset"] not in catalog.DATASETS:
            names = sorted(catalog.DATASETS)
            errors.append(
                f"data{_SEP}dataset: unknown dataset {data['dataset']!r}"
                f"{_suggest(data['dataset'], names)}; known: {', '.join(names)}"
            )
    for side in ("source", "target"):
        if data[side]["tokenizer"] == "vector" and (side, recipe["type"]) != ("source", "one_to_one"):
            errors.append(
                f"data{_SEP}{side}{_SEP}tokenizer: vector is for the input of one_to_one only"
            )
    source = data["source"]
    for key, what in (("crf", "has a CRF output"), ("word_dropout", "drops words to <unk>"),
                      ("char_cnn", "reads words' characters")):
        if recipe["model"][key] and recipe["type"] != "many_to_many":
            errors.append(f"model{_SEP}{key}: only a tagger (many_to_many) {what}")
    if source["factors"] and recipe["type"] != "many_to_many":
        errors.append(f"data{_SEP}source{_SEP}factors: only a tagger (many_to_many) reads token features")
    if source["factors"] and source["tokenizer"] not in ("word", "pretokenized"):
        errors.append(
            f"data{_SEP}source{_SEP}factors: needs tokenizer word or pretokenized, "
            f"not {source['tokenizer']!r}"
        )
    columns = (data["columns"] or {}).get("source")
    # Several columns are a word and its features, or (vector) the numbers of one input.
    joined = isinstance(columns, list) and source["tokenizer"] != "vector"
    if joined and len(columns) - 1 != source["factors"]:
        errors.append(
            f"data{_SEP}source{_SEP}factors: columns.source reads {len(columns)} columns, "
            f"so factors must be {len(columns) - 1}, not {source['factors']}"
        )
    for fmt in recipe["export"]["formats"] or []:
        if fmt not in ("savedmodel", "tflite"):
            errors.append(
                f"export{_SEP}formats: {fmt!r} is not one of savedmodel, tflite"
            )


def parse_override(text):
    """Splits `a.b.c=value` into (["a", "b", "c"], value parsed as YAML)."""
    if "=" not in text:
        raise RecipeError([f"--set {text}: expected KEY=VALUE, e.g. training.epochs=2"])
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return [part for part in key.strip().split(".")], value


def apply_overrides(raw, overrides):
    """Sets each `a.b=value` of `overrides` in the raw recipe mapping."""
    raw = copy.deepcopy(raw)
    for text in overrides:
        keys, value = parse_override(text)
        node = raw
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[keys[-1]] = value
    return raw


def read_yaml(path):
    """Reads a recipe file with `yaml.safe_load`; errors name the file and line."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError:
        raise RecipeError([f"{path}: no such recipe file"], source=path)
    except UnicodeDecodeError as e:
        raise RecipeError([f"{path}: not UTF-8 text ({e.reason})"], source=path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise RecipeError([f"{where}: invalid YAML: {problem}"], source=path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError([f"{path}: a recipe is a YAML mapping of sections"], source=path)
    return raw


def resolve(raw, source=None, files=True):
    """Validates a raw recipe mapping and returns it with every default filled.

    Args:
        source: the recipe's file (or a name), for the messages.
        files: check that the data files it names exist (a trained run's
            recipe is read without: its model does not need its data).

    Raises:
        RecipeError: listing every problem found, one line each.
    """
    errors = []
    recipe = _resolve([], raw, SCHEMA, errors, files)
    if not errors:
        _check_data(recipe, errors)
        _check_ctc(recipe, errors)
        _check_seq2seq(recipe, errors)
    if errors:
        raise RecipeError(errors, source=source)
    return recipe


def load_recipe(path, overrides=()):
    """Reads, overrides and validates a recipe file; returns the resolved recipe."""
    raw = read_yaml(path)
    return resolve(apply_overrides(raw, overrides), source=path)


def dump_recipe(recipe):
    """The resolved recipe as YAML text, keys in schema order."""
    return yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True)


def get(recipe, dotted):
    """`get(recipe, "training.epochs")`."""
    node = recipe
    for key in dotted.split("."):
        node = node[key]
    return node
