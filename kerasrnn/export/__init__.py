"""Export a trained run to a SavedModel and to TFLite (LiteRT), with a parity check.

The export folder of a run named `name`:

    <out>/<name>/
        1/                   SavedModel, the versioned folder TF Serving expects
        model.tflite         float TFLite model (builtin ops only)
        model.<quant>.tflite quantized TFLite model, with --quantize
        export.json          tokenizer settings, signatures, states, special ids, recipe
        vocab.<side>.json    vocabularies
        report.json          parity, held-out metric, sizes and op lists of the artifacts

This package knows formats only (`savedmodel`, `tflite` and its recurrent
rewrite `lstm_rewrite`, the host-side `runner`, `parity`); everything that
depends on the recipe's type is asked of its builder: the models to trace,
what `encode` reads, the SavedModel's `serving_default`, and what answers
and metric a runner's outputs make.

The SavedModel takes raw strings: tokenization and vocabularies are inside,
and `serving_default` returns readable answers. The TFLite model takes token
ids at a fixed batch; the app tokenizes with the settings in export.json.
Sequence generators export `encode(tokens) -> states` and
`step(token, states) -> (logits, states)`, and decoding runs token by token
on the host (`kerasrnn.decoding`); the others export `logits(inputs)`,
which TFLite names `serving_default` as the model's only signature.
"""

import itertools
import os
import random

from kerasrnn.data import pipeline
from kerasrnn.data.loading import load_splits
from kerasrnn.data.vocab import BOS_ID, EOS_ID
from kerasrnn.export.errors import ExportError
from kerasrnn.export.parity import parity
from kerasrnn.export.runner import EXPORT_JSON, VERSION, Exported, KerasBackend, Runner, is_export
from kerasrnn.export.savedmodel import save_savedmodel
from kerasrnn.export.signatures import state_names
from kerasrnn.export.tflite import check_int8, convert_tflite, interpreter, op_list, representative
from kerasrnn.fileio import write_json

__all__ = ["EXPORT_JSON", "ExportError", "Exported", "FORMATS", "QUANTIZE", "convert_tflite",
           "export", "is_export", "op_list", "predict", "save_savedmodel"]

REPORT_JSON = "report.json"
FORMATS = ("savedmodel", "tflite")
QUANTIZE = ("none", "float16", "dynamic", "int8")
# How many held-out examples an export's metric reads (at most), and how
# many training texts calibrate an int8 model.
METRIC_EXAMPLES = 500
CALIBRATION_EXAMPLES = 100


def predict(path, texts):
    """`kerasrnn predict` on an exported model."""
    return Exported(path).predict(texts)


def _examples(run, builder, texts, count, calibration):
    """(texts to check parity on, held-out (texts, references) or None, training texts).

    Parity reads the first `count` held-out texts (or the given `texts`).
    The held-out metric reads up to `METRIC_EXAMPLES` of the test split (the
    validation split when there is none), the same ones for every artifact,
    each with every reference. An int8 model calibrates on up to
    `calibration` training texts, a seeded sample, never on texts it is
    scored on.
    """
    splits = load_splits(run.recipe, echo=lambda _: None)
    train = splits["train"]
    if pipeline.in_memory(train):
        train = random.Random(run.recipe["training"]["seed"]).sample(train, min(calibration, len(train)))
    else:
        train = list(itertools.islice(train, calibration))
    calibration_texts = builder.held_out(train, run.vocabs)[0]
    if texts:
        return list(texts), None, calibration_texts, None
    split = "test" if splits["test"] else "valid"
    held, references = builder.held_out(splits[split], run.vocabs)
    if not held:
        raise ExportError("no held-out examples to check parity on; give --text")
    scored = held[:METRIC_EXAMPLES], references[:METRIC_EXAMPLES]
    where = {"split": "test" if split == "test" else "validation", "examples": len(scored[0])}
    return held[:count], scored, calibration_texts, where


def _meta(builder, vocabs, models, model, batch):
    """export.json, before the artifacts' signatures are added."""
    recipe = builder.recipe
    generate = builder.EXPORT == "generate"
    return {
        "name": recipe["name"],
        "type": recipe["type"],
        "kind": builder.EXPORT,
        "tokenizers": {side: {k: getattr(t, k) for k in ("kind", "lowercase", "normalize", "max_length")}
                       for side, t in builder.tokenizers.items()},
        "vocabs": {side: f"vocab.{side}.json" for side in vocabs},
        "special_ids": {"pad": 0, "unk": 1, "bos": BOS_ID, "eos": EOS_ID},
        "state_names": state_names(models) if generate else [],
        "state_sizes": [int(t.shape[-1]) for t in models[1].inputs[1:]] if generate else [],
        "signatures": {},
        "tflite": {"batch_size": batch, "files": {},
                   "rows": "no masks: the rows of one call are read in full, so they must share one length"},
        "recipe": recipe,
        **builder.export_meta(model),
    }


def export(run, formats=("savedmodel",), quantize="none", out=None, batch_size=None,
           texts=None, parity_examples=16, echo=print):
    """Exports a `kerasrnn.runs.Run`; returns the report (also in report.json).

    Args:
        formats: any of FORMATS.
        quantize: also write a TFLite model quantized this way (QUANTIZE);
            int8 calibrates on training texts.
        out: the export root; the model lands in `out/<name>/` (default: `<run>/export`).
        batch_size: the TFLite model's fixed batch (default: the recipe's `export.batch_size`).
        texts: inputs to check parity on (default: the test split, whose
            first `METRIC_EXAMPLES` examples also give each artifact's metric).
        parity_examples: how many test examples parity reads.
    """
    recipe = run.recipe
    builder, vocabs = run.builder, run.vocabs
    batch = batch_size or recipe["export"]["batch_size"]
    folder = os.path.join(out or os.path.join(run.dir, "export"), recipe["name"])
    models = builder.export_models(run.model, vocabs)
    if quantize == "int8" and "tflite" in formats:
        check_int8(builder, models, batch)  # before anything is written
    os.makedirs(folder, exist_ok=True)
    meta = _meta(builder, vocabs, models, run.model, batch)
    reference = Runner(builder, vocabs, KerasBackend(builder, models), meta, meta["state_names"])
    for side, vocab in vocabs.items():
        vocab.save(os.path.join(folder, meta["vocabs"][side]))
    check_texts, scored, calibration, where = _examples(run, builder, texts, parity_examples,
                                                       CALIBRATION_EXAMPLES)
    report = {"folder": folder, "artifacts": {}}
    if where:
        report["metric"] = {"name": builder.METRIC, **where}
    if quantize == "int8":
        report["calibration"] = {"split": "train", "examples": len(calibration)}
    if "savedmodel" in formats:
        path = os.path.join(folder, VERSION)
        meta["signatures"]["savedmodel"] = save_savedmodel(builder, vocabs, models, path)
        report["artifacts"]["savedmodel"] = {"path": path, "bytes": _size(path)}
    if "tflite" in formats:
        variants = ["none"] + ([quantize] if quantize != "none" else [])
        for variant in variants:
            name = "model.tflite" if variant == "none" else f"model.{variant}.tflite"
            rep = representative(reference, calibration, batch) if variant == "int8" else None
            blob = convert_tflite(builder, models, batch, variant, rep)
            path = os.path.join(folder, name)
            with open(path + ".tmp", "wb") as f:
                f.write(blob)
            os.replace(path + ".tmp", path)
            meta["tflite"]["files"][variant] = name
            report["artifacts"][f"tflite/{variant}"] = {"path": path, "bytes": len(blob), "ops": op_list(blob)}
        meta["signatures"]["tflite"] = sorted(interpreter(blob).get_signature_list())
    write_json(os.path.join(folder, EXPORT_JSON), meta)
    for key, info in report["artifacts"].items():
        exported = Exported(info["path"])
        info["parity"] = parity(exported, reference, check_texts)
        value = builder.runner_metric(exported, *scored) if scored else None
        if value is not None:
            info["parity"][builder.METRIC] = value
    if where:
        echo(f"{builder.METRIC} of every artifact: the first {where['examples']} {where['split']} examples"
             + (f"; int8 calibrated on {len(calibration)} training texts" if quantize == "int8" else ""))
    for key, info in report["artifacts"].items():
        echo(_describe(key, info, builder.METRIC, report["artifacts"].get("tflite/none")))
    write_json(os.path.join(folder, REPORT_JSON), report)
    return report


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def _describe(key, info, metric, float_info=None):
    """One line per artifact; a quantized one shows the float export's size and metric beside."""
    checks = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in info["parity"].items())
    line = f"{key}: {info['path']} ({info['bytes'] / 1024:.1f} KiB); {checks}"
    if key.startswith("tflite/") and key != "tflite/none" and float_info:
        beside = f"{float_info['bytes'] / 1024:.1f} KiB"
        if metric in info["parity"] and metric in float_info["parity"]:
            beside = (f"{metric} {info['parity'][metric]:.4g} vs {float_info['parity'][metric]:.4g} float, "
                      f"{info['bytes'] / 1024:.1f} KiB vs {beside}")
        else:
            beside = f"{info['bytes'] / 1024:.1f} KiB vs {beside}"
        info["float"] = {"bytes": float_info["bytes"],
                         **({metric: float_info["parity"][metric]} if metric in float_info["parity"] else {})}
        line += f"; quantized {beside}"
    return line
