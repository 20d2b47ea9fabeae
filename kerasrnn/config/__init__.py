"""Recipe schema: load a YAML recipe, apply overrides, validate, fill defaults.

A recipe is a YAML mapping with the sections `name`, `type`, `data`, `model`,
`training`, `decoding` and `export`. Every key, its type, default and range is
declared once, in `SCHEMA` (`schema.py` and its sections); `kerasrnn validate` and `kerasrnn fit` both
go through `load_recipe`, which reports every problem at once, one line each:

    training -> epocs: unknown key (did you mean 'epochs'?)
"""

import copy
import difflib
import glob
import os
import re

import yaml

from kerasrnn.config.fields import CELLS, FORMATS, TOKENIZERS, TYPES, Field
from kerasrnn.config.schema import SCHEMA
from kerasrnn.data import catalog, readers
from kerasrnn.data.errors import DataError
from kerasrnn.errors import RecipeError

__all__ = ["CELLS", "FORMATS", "SCHEMA", "TOKENIZERS", "TYPES", "Field", "RecipeError", "apply_overrides",
           "dump_recipe", "get", "load_recipe", "parse_override", "read_yaml", "resolve"]

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
    for key, what in (("crf", "has a CRF output"), ("char_cnn", "reads words' characters")):
        if recipe["model"][key] and recipe["type"] != "many_to_many":
            errors.append(f"model{_SEP}{key}: only a tagger (many_to_many) {what}")
    if recipe["model"]["word_dropout"] and recipe["type"] not in ("many_to_many", "many_to_one"):
        errors.append(
            f"model{_SEP}word_dropout: only a tagger (many_to_many) or a classifier "
            "(many_to_one) drops words to <unk>"
        )
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


# Types whose builders start word embeddings from `model.embeddings`, by side.
_VECTOR_SIDES = {
    "many_to_one": ("source",),
    "one_to_one": ("source",),
    "many_to_many": ("source",),
    "seq2seq": ("source", "target"),
}
_WORD_TOKENIZERS = ("word", "script", "pretokenized")


def _check_embeddings(recipe, errors):
    spec, where = recipe["model"]["embeddings"], f"model{_SEP}embeddings"
    if spec["path"] and spec["dataset"]:
        errors.append(f"{where}: give path or dataset, not both")
    if not (spec["path"] or spec["dataset"]):
        return
    if spec["static_copy"] and not spec["trainable"]:
        errors.append(f"{where}{_SEP}static_copy: the copy only differs from trained embeddings; set trainable: true")
    kind = recipe["type"]
    if kind == "seq2seq" and recipe["model"]["decoder"] != "rnn":
        kind = "seq2seq with decoder ctc"
    sides = ("source", "target") if spec["side"] == "both" else (spec["side"],)
    for side in sides:
        if side not in _VECTOR_SIDES.get(kind, ()):
            errors.append(f"{where}{_SEP}side: {kind} does not start its {side} embeddings from vectors")
            continue
        section = recipe["data"][side]
        if section["tokenizer"] not in _WORD_TOKENIZERS:
            errors.append(
                f"{where}: vectors are for words; data{_SEP}{side}{_SEP}tokenizer is {section['tokenizer']!r} "
                f"(use {', '.join(_WORD_TOKENIZERS)})"
            )
        if spec["add_words"] is True and not section["max_vocab"]:
            errors.append(
                f"{where}{_SEP}add_words: true adds words up to data{_SEP}{side}{_SEP}max_vocab, which is not set; "
                "set it or give a number"
            )


# A run's folder is saved_models/<name>/, so a name is one plain folder name.
_NAME = re.compile(r"[\w.-]+")


def _check_name(name, errors):
    if not isinstance(name, str):
        return
    if not _NAME.fullmatch(name) or ".." in name or name == ".":
        errors.append(
            f"name: {name!r} is not a plain folder name: use letters, digits, _, - and ., "
            "with no '..' (the run folder is saved_models/<name>/)"
        )


def _check_reader_options(data, errors):
    """Columns or options the data's format cannot use, as `data -> columns -> target: ...`."""
    entry = catalog.DATASETS.get(data["dataset"])
    fmt = data["format"]
    if fmt == "auto":
        fmt = entry.format if entry else readers.guess_format(data["train"]) if data["train"] else None
    if fmt is None:
        return
    options = readers.recipe_options(data, entry.options if entry else {})
    try:
        readers.check_options(fmt, options)
    except DataError as error:
        errors.append(f"data{_SEP}{error}")


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
    _check_name(recipe["name"], errors)
    if not errors:
        _check_data(recipe, errors)
        _check_reader_options(recipe["data"], errors)
        _check_ctc(recipe, errors)
        _check_seq2seq(recipe, errors)
        _check_embeddings(recipe, errors)
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
