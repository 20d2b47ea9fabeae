"""Export a trained run to a SavedModel and to TFLite (LiteRT), with a parity check.

The export folder of a run named `name`:

    <out>/<name>/
        1/                   SavedModel, the versioned folder TF Serving expects
        model.tflite         float TFLite model (builtin ops only)
        model.<quant>.tflite quantized TFLite model, with --quantize
        export.json          tokenizer settings, signatures, special ids, recipe
        vocab.<side>.json    vocabularies
        report.json          parity, sizes and op lists of the artifacts

The SavedModel takes raw strings: tokenization and vocabularies are inside.
The TFLite model takes token ids at a fixed batch; the app tokenizes with the
settings in export.json. Sequence generators export `encode(tokens) -> state`
and `step(token, state) -> (logits, state)`, so decoding runs token by token
on the host (`kerasrnn.decoding`).
"""

import json
import os
import re
import shutil

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import builders, export_lstm
from kerasrnn.builders.base import as_text
from kerasrnn.data.vocab import BOS_ID, EOS_ID, Vocabulary
from kerasrnn.fileio import write_json

EXPORT_JSON = "export.json"
REPORT_JSON = "report.json"
VERSION = "1"
FORMATS = ("savedmodel", "tflite")
QUANTIZE = ("none", "float16", "dynamic", "int8")
GENERATE = ("seq2seq",)
LOGITS = ("many_to_one", "one_to_one", "many_to_many")


class ExportError(Exception):
    """An export that cannot be made (a layer with no builtin TFLite form, ...)."""


def kind(recipe):
    """`generate` (encode/step signatures) or `logits` (one call per text)."""
    if recipe["type"] in GENERATE:
        return "generate"
    if recipe["type"] in LOGITS:
        return "logits"
    raise ExportError(f"type {recipe['type']!r}: export is not supported for this type yet")


def _float32(model):
    """The model with float32 weights and compute (mixed-precision runs too)."""
    config = json.dumps(keras.saving.serialize_keras_object(model))
    if "mixed_" not in config:
        return model
    config = re.sub(r'"mixed_(float16|bfloat16)"', '"float32"', config)
    clone = keras.saving.deserialize_keras_object(json.loads(config))
    clone.set_weights(model.get_weights())
    return clone


def _cast_inputs(model, inputs):
    return model(inputs, training=False)


# Signatures ------------------------------------------------------------------


def _state_names(encoder):
    return [f"state_{i}" for i in range(len(encoder.outputs))]


def _state_sizes(encoder):
    return [int(t.shape[-1]) for t in encoder.outputs]


def _input_names(model):
    return [t.name.split(":")[0] for t in model.inputs]


def _functions(recipe, models, batch, lite):
    """The signature functions `{name: (python function, input specs)}`."""
    call = export_lstm.lite_call if lite else _cast_inputs
    if kind(recipe) == "generate":
        encoder, step = models
        names, sizes = _state_names(encoder), _state_sizes(encoder)

        def encode(tokens):
            states = call(encoder, tokens)
            states = states if isinstance(states, (list, tuple)) else [states]
            return {n: tf.cast(s, tf.float32) for n, s in zip(names, states)}

        def step_fn(token, *states):
            out = call(step, [token[:, None], *states])
            return {"logits": tf.cast(out[0], tf.float32),
                    **{n: tf.cast(s, tf.float32) for n, s in zip(names, out[1:])}}

        return {
            "encode": (encode, [tf.TensorSpec([batch, None], tf.int32, "tokens")]),
            "step": (step_fn, [tf.TensorSpec([batch], tf.int32, "token")]
                     + [tf.TensorSpec([batch, n], tf.float32, name) for name, n in zip(names, sizes)]),
        }
    (model,) = models
    names = _input_names(model)
    length = 1 if recipe["type"] == "one_to_one" else None

    def logits(*inputs):
        out = call(model, list(inputs) if lite else dict(zip(names, inputs)))
        return {"logits": tf.cast(out, tf.float32)}

    return {"logits": (logits, [tf.TensorSpec([batch, length], tf.int32, n) for n in names])}


def inference_models(builder, model, vocabs):
    """The Keras models an export traces: (encoder, step) or (model,)."""
    model = _float32(model)
    if kind(builder.recipe) == "generate":
        return builder.inference_models(model, vocabs)
    return (model,)


# SavedModel -------------------------------------------------------------------


def _greedy_graph(step, states, max_length):
    """In-graph greedy decoding from <bos>: int32 ids [batch, steps]."""
    batch = tf.shape(states[0])[0]
    tokens = tf.fill([batch], BOS_ID)
    done = tf.zeros([batch], tf.bool)
    ids = tf.TensorArray(tf.int32, size=0, dynamic_size=True)

    def cond(t, tokens, done, ids, *states):
        return tf.logical_and(t < max_length, tf.logical_not(tf.reduce_all(done)))

    def body(t, tokens, done, ids, *states):
        out = step([tokens[:, None], *states], training=False)
        tokens = tf.where(done, EOS_ID, tf.argmax(out[0], -1, output_type=tf.int32))
        return (t + 1, tokens, tf.logical_or(done, tokens == EOS_ID), ids.write(t, tokens), *out[1:])

    _, _, _, ids, *_ = tf.while_loop(cond, body, (0, tokens, done, ids, *states))
    return tf.transpose(ids.stack(), [1, 0])


def _ids_to_text(ids, vocab, tokenizer, stop_at_eos):
    """Ids [batch, steps] -> display strings, specials dropped."""
    keep = ids >= vocab.specials
    if stop_at_eos:
        keep &= tf.cumsum(tf.cast(ids == EOS_ID, tf.int32), axis=1) == 0
    tokens = tf.ragged.boolean_mask(tf.gather(tf.constant(vocab.tokens), ids), keep)
    text = tf.strings.reduce_join(tokens, axis=1, separator="" if tokenizer.kind == "char" else " ")
    if tokenizer.kind == "subword":
        text = tf.strings.regex_replace(text, " ##", "")
    return text


class _Serving(tf.Module):
    """The SavedModel's tracked state: models and lookup tables."""

    def __init__(self, builder, vocabs, models):
        super().__init__()
        self.models = list(models)
        self.tables = [v.table() for v in vocabs.values()]
        self.builder, self.vocabs = builder, vocabs


def _savedmodel_signatures(module, recipe):
    builder, vocabs = module.builder, module.vocabs
    functions = _functions(recipe, module.models, None, lite=False)
    signatures = {
        name: tf.function(fn, input_signature=specs).get_concrete_function()
        for name, (fn, specs) in functions.items()
    }
    text = tf.TensorSpec([None], tf.string, "text")
    if kind(recipe) == "generate":
        encoder, step = module.models
        max_length = recipe["decoding"]["max_length"]

        @tf.function(input_signature=[text])
        def serve(text):
            ids = builder.ids(builder.SIDES[0], vocabs, text).to_tensor()
            states = encoder(ids, training=False)
            states = states if isinstance(states, (list, tuple)) else [states]
            out = _greedy_graph(step, list(states), max_length)
            target = builder.SIDES[-1]
            return {"output": _ids_to_text(out, vocabs[target], builder.tokenizers[target], True),
                    "ids": out}
    elif recipe["type"] == "many_to_many":
        (model,) = module.models

        @tf.function(input_signature=[text])
        def serve(text):
            ragged = builder.inputs(vocabs, text)
            probs = tf.nn.softmax(model({k: v.to_tensor() for k, v in ragged.items()}, training=False)[..., 1:])
            tags = tf.gather(tf.constant(vocabs["target"].tokens[1:]), tf.argmax(probs, -1))
            lengths = ragged["source"].row_lengths()
            words = builder.tokenizers["source"].split(text).to_tensor("")
            mask = tf.sequence_mask(lengths, tf.shape(tags)[1])
            return {"tokens": words[:, : tf.shape(tags)[1]], "tags": tf.where(mask, tags, ""),
                    "length": tf.cast(lengths, tf.int32), "probabilities": probs}
    else:
        (model,) = module.models

        @tf.function(input_signature=[text])
        def serve(text):
            ragged = builder.inputs(vocabs, text)
            logits = model({k: v.to_tensor() for k, v in ragged.items()}, training=False)
            labels = tf.constant(vocabs["target"].tokens[1:])
            probs = tf.nn.softmax(tf.cast(logits, tf.float32)[:, 1:])
            return {"label": tf.gather(labels, tf.argmax(probs, -1)),
                    "probabilities": probs,
                    "labels": tf.tile(labels[None], [tf.shape(probs)[0], 1])}

    @tf.function(input_signature=[text])
    def tokenize(text):
        ids = builder.ids(builder.SIDES[0], vocabs, text)
        return {"tokens": ids.to_tensor(), "length": tf.cast(ids.row_lengths(), tf.int32)}

    signatures["serving_default"] = serve.get_concrete_function()
    signatures["tokenize"] = tokenize.get_concrete_function()
    return signatures


def save_savedmodel(builder, vocabs, models, folder):
    """Writes the SavedModel into `folder` (replaced if it exists)."""
    module = _Serving(builder, vocabs, models)
    signatures = _savedmodel_signatures(module, builder.recipe)
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tf.saved_model.save(module, tmp, signatures=signatures)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return sorted(signatures)


# TFLite ----------------------------------------------------------------------


def _named(name, function, specs, models):
    """`function` as a concrete function named `name`, with constant weights.

    Weights are read as constants through a `keras.StatelessScope`, since
    freezing variables afterwards would undo the fused LSTM ops.
    """
    variables = [v for model in models for v in model.weights]
    with tf.init_scope():
        values = [v.value.numpy() for v in variables]

    def signature(*args):
        mapping = [(v, tf.constant(x)) for v, x in zip(variables, values)]
        with keras.StatelessScope(state_mapping=mapping):
            return function(*args)

    signature.__name__ = name
    return tf.function(signature, input_signature=specs, autograph=False).get_concrete_function()


def _layer_names(models):
    names = {}
    for model in models:
        for layer in model._flatten_layers(include_self=False):
            names[layer.name] = type(layer).__name__
    return names


def _explain(error, models, concretes):
    """The converter's error as one line naming the layer at fault."""
    text = str(error)
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op", text)))
    # Where the message gives no location, the traced graphs name the op's layer.
    text += "\n" + "\n".join(
        f'"{op.name}' for c in concretes for op in c.graph.get_operations() if op.type in ops
    )
    for name, cls in sorted(_layer_names(models).items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"[\"/\s]{re.escape(name)}(_\d+)?/", text):
            return (
                f"layer {name!r} ({cls}) cannot be expressed with TFLite builtin ops"
                + (f" (needs {', '.join(ops)})" if ops else "")
            )
    return f"the model cannot be expressed with TFLite builtin ops: {text.splitlines()[0][:300]}"


def convert_tflite(recipe, models, batch, quantize="none", representative=None):
    """The TFLite flatbuffer of the signature functions, builtin ops only."""
    functions = _functions(recipe, models, batch, lite=True)
    concretes = [_named(name, fn, specs, models) for name, (fn, specs) in functions.items()]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(concretes, tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if representative is None:
            raise ExportError("int8 quantization needs held-out examples to calibrate on")
        converter.representative_dataset = representative
    try:
        blob = converter.convert()
    except Exception as error:  # the converter raises several unrelated types
        raise ExportError(_explain(error, models, concretes)) from None
    bad = [op for op in op_list(blob) if op.startswith("Flex") or op == "CUSTOM"]
    if bad:
        raise ExportError(f"the TFLite model needs ops outside the builtins: {', '.join(bad)}")
    return blob


def op_list(blob_or_path):
    """The sorted op names of a TFLite model (every subgraph)."""
    interpreter = _interpreter(blob_or_path)
    return sorted({d["op_name"] for d in interpreter._get_ops_details()})


def _interpreter(blob_or_path):
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(blob_or_path, (bytes, bytearray)):
        return Interpreter(model_content=bytes(blob_or_path))
    return Interpreter(model_path=str(blob_or_path))


# Loading exports -------------------------------------------------------------


def _find_export_dir(path):
    path = os.path.abspath(path)
    folder = os.path.dirname(path) if os.path.isfile(path) else path
    for candidate in (folder, os.path.dirname(folder)):
        if os.path.isfile(os.path.join(candidate, EXPORT_JSON)):
            return candidate
    raise FileNotFoundError(f"{path}: no {EXPORT_JSON} beside it (not a kerasrnn export)")


def is_export(path):
    """Whether `path` is a .tflite file, a SavedModel or an export folder."""
    if str(path).endswith(".tflite"):
        return True
    return os.path.isfile(os.path.join(path, "saved_model.pb")) or os.path.isfile(
        os.path.join(path, EXPORT_JSON)
    )


class _LiteBackend:
    """encode/step/logits through a LiteRT interpreter at its fixed batch."""

    def __init__(self, path, batch):
        self.interpreter = _interpreter(path)
        self.batch = batch
        self.runners = {k: self.interpreter.get_signature_runner(k)
                        for k in self.interpreter.get_signature_list()}
        # One call each allocates every subgraph, so their states can be reset.
        for runner in self.runners.values():
            runner(**{k: np.zeros(d["shape"], d["dtype"]) for k, d in runner.get_input_details().items()})

    def _rows(self, name, inputs):
        """Runs a signature over any number of rows, `batch` rows at a time."""
        n = len(next(iter(inputs.values())))
        out = {}
        for start in range(0, n, self.batch):
            chunk = {k: v[start : start + self.batch] for k, v in inputs.items()}
            short = self.batch - len(next(iter(chunk.values())))
            if short:
                chunk = {k: np.concatenate([v, np.zeros((short,) + v.shape[1:], v.dtype)]) for k, v in chunk.items()}
            # The fused LSTM op keeps its state in variable tensors between calls.
            self.interpreter.reset_all_variables()
            result = self.runners[name](**chunk)
            for k, v in result.items():
                out.setdefault(k, []).append(v[: self.batch - short])
        return {k: np.concatenate(v) for k, v in out.items()}

    def run(self, name, inputs):
        return self._rows(name, inputs)


class _SavedModelBackend:
    def __init__(self, folder):
        self.loaded = tf.saved_model.load(folder)

    def run(self, name, inputs):
        fn = self.loaded.signatures[name]
        return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


class Exported:
    """A loaded export: host-side tokenization, model calls through the artifact.

    Args:
        path: a `.tflite` file (its sidecar files beside it), a SavedModel
            folder (`<name>/1`) or the export folder `<name>`.
    """

    def __init__(self, path):
        self.dir = _find_export_dir(path)
        with open(os.path.join(self.dir, EXPORT_JSON), encoding="utf-8") as f:
            self.meta = json.load(f)
        self.recipe = self.meta["recipe"]
        self.builder = builders.get(self.recipe)
        self.vocabs = {side: Vocabulary.load(os.path.join(self.dir, name))
                       for side, name in self.meta["vocabs"].items()}
        if str(path).endswith(".tflite"):
            self.backend = _LiteBackend(path, self.meta["tflite"]["batch_size"])
            self.format = "tflite"
        else:
            folder = path if os.path.isfile(os.path.join(path, "saved_model.pb")) else os.path.join(self.dir, VERSION)
            self.backend = _SavedModelBackend(folder)
            self.format = "savedmodel"
        self.kind = kind(self.recipe)
        self.names = self.meta["state_names"]
        self.one_row = self.format == "tflite"

    def encode(self, rows):
        """Token id lists -> state arrays (one row each; unpadded on TFLite)."""
        if self.one_row:
            parts = [self.backend.run("encode", {"tokens": np.asarray([r] * self.backend.batch, np.int32).reshape(self.backend.batch, -1)}) for r in rows]
            return [np.concatenate([p[n][:1] for p in parts]) for n in self.names]
        width = max(1, max(len(r) for r in rows))
        ids = np.zeros((len(rows), width), np.int32)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
        out = self.backend.run("encode", {"tokens": ids})
        return [out[n] for n in self.names]

    def step(self, tokens, states):
        inputs = {"token": np.asarray(tokens, np.int32), **dict(zip(self.names, states))}
        out = self.backend.run("step", inputs)
        return out["logits"], [out[n] for n in self.names]

    def logits(self, texts):
        """Logit arrays per text (one row each; unpadded on TFLite)."""
        ragged = self.builder.inputs(self.vocabs, tf.constant(texts, tf.string))
        lists = {k: v.to_list() for k, v in ragged.items()}
        out = []
        for i in range(len(texts)):
            inputs = {k: np.asarray([rows[i] or [0]] * self.backend.batch, np.int32) for k, rows in lists.items()}
            out.append(self.backend.run("logits", inputs)["logits"][0])
        return out

    def generate(self, texts, strategy=None):
        """Decoded target tokens per text, by the recipe's decoding (or `strategy`)."""
        decoding = dict(self.recipe["decoding"], **({"strategy": strategy} if strategy else {}))
        side = self.builder.SIDES[0]
        rows = self.builder.ids(side, self.vocabs, tf.constant(texts, tf.string)).to_list()
        states = self.encode(rows)
        ids = self.builder._decode_batch(self.step, states, len(texts), decoding, None)
        target = self.vocabs[self.builder.SIDES[-1]]
        return [target.decode(r) for r in ids]

    def predict(self, texts):
        """Rows like `kerasrnn predict` on the run gives."""
        if self.kind == "generate":
            join = self.builder.tokenizers[self.builder.SIDES[-1]].join
            return [{"input": t, "output": join(h)} for t, h in zip(texts, self.generate(texts))]
        return _logit_rows(self.builder, self.vocabs, texts, self.logits(texts))


def _logit_rows(builder, vocabs, texts, rows):
    """`predict` rows of a classifier or tagger from its logits."""
    if builder.recipe["type"] == "many_to_many":
        tokens = builder.tokenizers["source"].split_py(texts)
        names = vocabs["target"].tokens
        tags = [[names[1 + int(i)] for i in np.argmax(r[: len(t), 1:], -1)] for t, r in zip(tokens, rows)]
        return [{"input": x, "output": " ".join(t), "tokens": w, "tags": t} for x, w, t in zip(texts, tokens, tags)]
    if getattr(builder, "regression", False):
        return [{"input": t, "output": float(r[0])} for t, r in zip(texts, rows)]
    labels = builder.labels(vocabs, rows)
    out = []
    for text, label, row in zip(texts, labels, rows):
        probs = np.exp(row[1:] - row[1:].max())
        probs /= probs.sum()
        top = np.argsort(-probs)[:3]
        out.append({"input": text, "output": label, "probabilities": {
            vocabs["target"].tokens[1 + int(i)]: round(float(probs[i]), 4) for i in top}})
    return out


def predict(path, texts):
    """`kerasrnn predict` on an exported model."""
    return Exported(path).predict(texts)


# Parity ----------------------------------------------------------------------


def _keras_reference(builder, models, vocabs, texts):
    """Keras outputs per text, one unpadded row each: states/logits or logits."""
    if kind(builder.recipe) == "generate":
        encoder, step = models
        rows = builder.ids(builder.SIDES[0], vocabs, tf.constant(texts, tf.string)).to_list()
        states = [np.concatenate(s) for s in zip(*[
            [np.asarray(x) for x in tf.nest.flatten(encoder(np.asarray([r], np.int32), training=False))]
            for r in rows])]
        first = step([np.full((len(rows), 1), BOS_ID, np.int32), *states], training=False)
        return rows, states, np.asarray(first[0])
    (model,) = models
    ragged = builder.inputs(vocabs, tf.constant(texts, tf.string))
    lists = {k: v.to_list() for k, v in ragged.items()}
    return [np.asarray(model({k: np.asarray([rows[i] or [0]], np.int32) for k, rows in lists.items()},
                             training=False))[0] for i in range(len(texts))]


def _keras_greedy(builder, models, states, n, max_length):
    _, step_model = models

    def step(tokens, states):
        out = step_model([tokens[:, None], *states], training=False)
        return np.asarray(out[0]), [np.asarray(s) for s in out[1:]]

    decoding = dict(builder.recipe["decoding"], strategy="greedy", max_length=max_length)
    return builder._decode_batch(step, states, n, decoding, None)


def parity(exported, builder, models, vocabs, texts, references=None):
    """Max |difference| from Keras and decoded/label agreement on `texts`."""
    result = {"examples": len(texts)}
    if exported.kind == "generate":
        rows, states, first = _keras_reference(builder, models, vocabs, texts)
        got = exported.encode(rows)
        result["state_max_abs_diff"] = float(max(np.abs(a - b).max() for a, b in zip(states, got)))
        logits, _ = exported.step(np.full(len(rows), BOS_ID, np.int32), got)
        result["logits_max_abs_diff"] = float(np.abs(logits - first).max())
        max_length = builder.recipe["decoding"]["max_length"]
        ref = _keras_greedy(builder, models, states, len(rows), max_length)
        hyp = exported.builder._decode_batch(
            exported.step, got, len(rows), dict(exported.recipe["decoding"], strategy="greedy"), None)
        result["greedy_identical"] = sum(a == b for a, b in zip(ref, hyp))
        if references is not None:
            from kerasrnn import metrics

            target = vocabs[builder.SIDES[-1]]
            split = builder.tokenizers[builder.SIDES[-1]].split_py
            result["token_error_rate"] = metrics.error_rates(
                [target.decode(h) for h in hyp], [[t] for t in split(references)])["token_error_rate"]
        return result
    ref = _keras_reference(builder, models, vocabs, texts)
    got = exported.logits(texts)
    result["logits_max_abs_diff"] = float(max(np.abs(a - b).max() for a, b in zip(ref, got)))
    if builder.recipe["type"] == "many_to_many":
        same = [np.array_equal(np.argmax(a[..., 1:], -1), np.argmax(b[..., 1:], -1)) for a, b in zip(ref, got)]
    else:
        same = [np.argmax(a[1:]) == np.argmax(b[1:]) for a, b in zip(ref, got)]
    result["labels_identical"] = int(sum(same))
    if references is not None and builder.recipe["type"] != "many_to_many":
        labels = builder.labels(vocabs, got)
        result["accuracy"] = float(np.mean([a == b for a, b in zip(labels, references)]))
    return result


# The export command ----------------------------------------------------------


def _held_out(run, texts, count):
    """(texts, references or None) to check parity on."""
    if texts:
        return list(texts), None
    from kerasrnn import training

    examples = training.load_splits(run.recipe, echo=lambda _: None)["test"][:count]
    if not examples:
        raise ExportError("no held-out examples to check parity on; give --text")
    return [as_text(ex.source) for ex in examples], [as_text(ex.target) for ex in examples]


def _representative(recipe, builder, vocabs, texts, batch):
    def gen():
        for text in texts:
            ids = builder.ids(builder.SIDES[0], vocabs, tf.constant([text])).to_list()[0] or [0]
            tokens = np.asarray([ids] * batch, np.int32)
            if kind(recipe) == "generate":
                yield "encode", {"tokens": tokens}
            else:
                yield "logits", {_name: tokens for _name in ("source",)}
    return gen


def export(run, formats=("savedmodel",), quantize="none", out=None, batch_size=None,
           texts=None, parity_examples=16, echo=print):
    """Exports a `kerasrnn.runs.Run`; returns the report (also in report.json)."""
    recipe = run.recipe
    kind(recipe)
    builder, vocabs = run.builder, run.vocabs
    batch = batch_size or recipe["export"]["batch_size"]
    folder = os.path.join(out or os.path.join(run.dir, "export"), recipe["name"])
    os.makedirs(folder, exist_ok=True)
    models = inference_models(builder, run.model, vocabs)
    names = _state_names(models[0]) if kind(recipe) == "generate" else []
    meta = {
        "name": recipe["name"],
        "type": recipe["type"],
        "kind": kind(recipe),
        "tokenizers": {side: {k: getattr(t, k) for k in ("kind", "lowercase", "normalize", "max_length")}
                       for side, t in builder.tokenizers.items()},
        "vocabs": {side: f"vocab.{side}.json" for side in vocabs},
        "special_ids": {"pad": 0, "unk": 1, "bos": BOS_ID, "eos": EOS_ID},
        "state_names": names,
        "signatures": {},
        "tflite": {"batch_size": batch, "files": {}},
        "recipe": recipe,
    }
    for side, vocab in vocabs.items():
        vocab.save(os.path.join(folder, meta["vocabs"][side]))
    check_texts, references = _held_out(run, texts, parity_examples)
    report = {"folder": folder, "artifacts": {}}
    if "savedmodel" in formats:
        path = os.path.join(folder, VERSION)
        meta["signatures"]["savedmodel"] = save_savedmodel(builder, vocabs, models, path)
        write_json(os.path.join(folder, EXPORT_JSON), meta)
        report["artifacts"]["savedmodel"] = {"path": path, "bytes": _size(path)}
    if "tflite" in formats:
        variants = ["none"] + ([quantize] if quantize != "none" else [])
        for variant in variants:
            name = "model.tflite" if variant == "none" else f"model.{variant}.tflite"
            rep = _representative(recipe, builder, vocabs, check_texts, batch) if variant == "int8" else None
            blob = convert_tflite(recipe, models, batch, variant, rep)
            path = os.path.join(folder, name)
            with open(path + ".tmp", "wb") as f:
                f.write(blob)
            os.replace(path + ".tmp", path)
            meta["tflite"]["files"][variant] = name
            report["artifacts"][f"tflite/{variant}"] = {"path": path, "bytes": len(blob), "ops": op_list(blob)}
        meta["signatures"]["tflite"] = sorted(_functions(recipe, models, batch, lite=True))
    write_json(os.path.join(folder, EXPORT_JSON), meta)
    for key, info in report["artifacts"].items():
        info["parity"] = parity(Exported(info["path"]), builder, models, vocabs, check_texts, references)
        echo(_describe(key, info))
    write_json(os.path.join(folder, REPORT_JSON), report)
    return report


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def _describe(key, info):
    checks = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in info["parity"].items())
    return f"{key}: {info['path']} ({info['bytes'] / 1024:.1f} KiB); {checks}"
