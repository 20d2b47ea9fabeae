"""Export a trained run to a SavedModel and to TFLite (LiteRT), with a parity check.

The export folder of a run named `name`:

    <out>/<name>/
        1/                   SavedModel, the versioned folder TF Serving expects
        model.tflite         float TFLite model (builtin ops only)
        model.<quant>.tflite quantized TFLite model, with --quantize
        export.json          tokenizer settings, signatures, states, special ids, recipe
        vocab.<side>.json    vocabularies
        report.json          parity, held-out metric, sizes and op lists of the artifacts

The SavedModel takes raw strings: tokenization and vocabularies are inside.
Its `serving_default` returns readable answers: a label and probabilities
(many_to_one, one_to_one), a tag per token with each tag's probability
(many_to_many; for a CRF tagger the Viterbi path and the CRF's marginals), the decoded
sequence (seq2seq), the prompt's greedy continuation (language_model) or a
greedy sequence for a condition label (one_to_many).

The TFLite model takes token ids at a fixed batch; the app tokenizes with the
settings in export.json (and a CRF tagger's app runs Viterbi over the logits
with the transition scores export.json holds). Sequence generators (seq2seq, language_model,
one_to_many) export `encode(tokens) -> states` and
`step(token, states) -> (logits, states)`, so decoding runs token by token on
the host (`kerasrnn.decoding`); the others export `logits(inputs)`, which TFLite names `serving_default`
as the model's only signature.

A TFLite graph has no masks: every row of one call is read to its full
length. With a batch above one, the rows of a call must share one length
(group inputs by length; fill spare rows with anything of that length, and
drop their outputs). `Exported` does that grouping.

What `encode` reads, by type:

- seq2seq: the source ids;
- language_model: `<bos> prompt` without its last token, from zero states
  (an empty prompt starts from zero states); decoding then steps from the
  last token, `<bos>` for an empty prompt (`<eos>` in a stream model);
- one_to_many: the condition's id, `tokens` of shape [batch, 1].
"""

import collections
import json
import os
import re
import shutil

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import builders, decoding, export_lstm, metrics
from kerasrnn.builders.base import as_text, float32_model
from kerasrnn.builders.tagger import best_tags, crf_weights
from kerasrnn.data.vocab import BOS_ID, EOS_ID, Vocabulary
from kerasrnn.fileio import write_json
from kerasrnn.layers.crf import crf_marginals, viterbi_decode

EXPORT_JSON = "export.json"
REPORT_JSON = "report.json"
VERSION = "1"
FORMATS = ("savedmodel", "tflite")
QUANTIZE = ("none", "float16", "dynamic", "int8")
# The name TFLite gives the signature of a model converted from one function.
LITE_DEFAULT = "serving_default"
GENERATE = ("seq2seq", "language_model", "one_to_many")
LOGITS = ("many_to_one", "one_to_one", "many_to_many")
# The held-out metric each type reports, and whether higher is better.
METRIC = {"seq2seq": "token_error_rate", "language_model": "perplexity",
          "one_to_many": "perplexity", "many_to_one": "accuracy", "one_to_one": "accuracy",
          "many_to_many": "accuracy"}


class ExportError(Exception):
    """An export that cannot be made (a layer with no builtin TFLite form, ...)."""


def kind(recipe):
    """`generate` (encode/step signatures) or `logits` (one call per text)."""
    if recipe["type"] in GENERATE:
        return "generate"
    if recipe["type"] in LOGITS:
        return "logits"
    raise ExportError(f"type {recipe['type']!r}: export is not supported for this type")


def _keras_call(model, inputs):
    return model(inputs, training=False)


def inference_models(builder, model, vocabs):
    """The Keras models an export traces: (encoder, step) or (model,).

    The encoder is the seq2seq encoder, the language model's reader
    (`[tokens, *states] -> [logits, *states]`) or the one_to_many starter
    (condition -> first states).
    """
    model = float32_model(model)
    if kind(builder.recipe) == "logits":
        return (model,)
    encoder, step = builder.inference_models(model, vocabs)
    if builder.recipe["type"] == "one_to_many":
        encoder = builder.starter
    return encoder, step


# Signatures ------------------------------------------------------------------


def state_sizes(models):
    """The sizes of the states a step model carries (its inputs after the token)."""
    return [int(t.shape[-1]) for t in models[1].inputs[1:]]


def state_names(models):
    return [f"state_{i}" for i in range(len(models[1].inputs) - 1)]


def _input_names(model):
    return [t.name.split(":")[0] for t in model.inputs]


def _flat(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _first_states(recipe, models, tokens, call):
    """The states `encode` returns for a batch of token rows."""
    encoder, _ = models
    sizes = state_sizes(models)
    rows = tokens.shape[0] if tokens.shape[0] is not None else tf.shape(tokens)[0]
    if recipe["type"] == "language_model":
        zeros = [tf.zeros([rows, n]) for n in sizes]
        return _flat(call(encoder, [tokens, *zeros]))[1:]
    if recipe["type"] == "one_to_many":
        states = _flat(call(encoder, tokens[:, 0]))
        # Without conditioned initial states the recurrent states start at zero.
        return states + [tf.zeros([rows, n]) for n in sizes[len(states):]]
    return _flat(call(encoder, tokens))


def _functions(recipe, models, batch, lite):
    """The signature functions `{name: (python function, input specs)}`."""
    call = export_lstm.lite_call if lite else _keras_call
    if kind(recipe) == "generate":
        _, step = models
        names, sizes = state_names(models), state_sizes(models)
        length = 1 if recipe["type"] == "one_to_many" else None

        def encode(tokens):
            states = _first_states(recipe, models, tokens, call)
            return {n: tf.cast(s, tf.float32) for n, s in zip(names, states)}

        def step_fn(token, *states):
            out = _flat(call(step, [token[:, None], *states]))
            return {"logits": tf.cast(out[0], tf.float32),
                    **{n: tf.cast(s, tf.float32) for n, s in zip(names, out[1:])}}

        return {
            "encode": (encode, [tf.TensorSpec([batch, length], tf.int32, "tokens")]),
            "step": (step_fn, [tf.TensorSpec([batch], tf.int32, "token")]
                     + [tf.TensorSpec([batch, n], tf.float32, name) for name, n in zip(names, sizes)]),
        }
    (model,) = models
    names = _input_names(model)

    def logits(*inputs):
        out = call(model, list(inputs) if lite else dict(zip(names, inputs)))
        return {"logits": tf.cast(out, tf.float32)}

    # Token ids (batch, length) or (batch, 1); a one_to_one vector (batch, width).
    specs = [tf.TensorSpec([batch, *t.shape[1:]], t.dtype, n) for t, n in zip(model.inputs, names)]
    return {"logits": (logits, specs)}


# SavedModel -------------------------------------------------------------------


def _greedy_graph(step, states, logits, eos, max_length):
    """In-graph greedy decoding from the logits of the first token: ids [batch, steps]."""
    batch = tf.shape(logits)[0]
    done = tf.zeros([batch], tf.bool)
    ids = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])

    def cond(t, logits, done, ids, *states):
        return tf.logical_and(t < max_length, tf.logical_not(tf.reduce_all(done)))

    def body(t, logits, done, ids, *states):
        tokens = tf.where(done, eos, tf.argmax(logits, -1, output_type=tf.int32))
        done = tf.logical_or(done, tokens == eos)
        out = _flat(step([tokens[:, None], *states], training=False))
        return (t + 1, tf.cast(out[0], tf.float32), done, ids.write(t, tokens), *out[1:])

    _, _, _, ids, *_ = tf.while_loop(cond, body, (0, logits, done, ids, *states))
    return tf.reshape(tf.transpose(ids.stack(), [1, 0]), [batch, -1])


def _ids_to_text(ids, vocab, tokenizer, stream=False):
    """Ids [batch, steps] -> display strings, specials dropped.

    Text ends at the first <eos>; in a stream model <eos> is a line break.
    """
    tokens = list(vocab.tokens)
    keep = ids >= vocab.specials
    if stream:
        tokens[EOS_ID] = "\n"
        keep |= ids == EOS_ID
    else:
        keep &= tf.cumsum(tf.cast(ids == EOS_ID, tf.int32), axis=1) == 0
    pieces = tf.ragged.boolean_mask(tf.gather(tf.constant(tokens), ids), keep)
    text = tf.strings.reduce_join(pieces, axis=1, separator="" if tokenizer.kind == "char" else " ")
    if tokenizer.kind != "char":
        text = tf.strings.regex_replace(text, " ?\n ?", "\n")
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


def _prompt_ids_graph(builder, vocabs, text):
    """One prompt -> its ids (1-D); a stream model joins its lines with <eos>."""
    side = builder.OUTPUT
    if not builder.stream:
        return builder.ids(side, vocabs, text[None]).flat_values
    lines = builder.ids(side, vocabs, tf.strings.split(text, "\n"))
    ends = tf.RaggedTensor.from_tensor(tf.fill([lines.nrows(), 1], EOS_ID))
    return tf.concat([lines, ends], axis=1).flat_values[:-1]


def _serve_function(module, recipe):
    """The `serving_default` function: raw strings in, readable results out."""
    builder, vocabs = module.builder, module.vocabs
    models = module.models
    max_length = recipe["decoding"]["max_length"]
    kind_ = recipe["type"]
    if kind_ in GENERATE:
        encoder, step = models
        sizes = state_sizes(models)
        target = builder.SIDES[-1] if kind_ == "seq2seq" else builder.OUTPUT
        stream = getattr(builder, "stream", False)
        eos = -1 if stream else EOS_ID

        def first_logits(states):
            bos = tf.fill([tf.shape(states[0])[0], 1], BOS_ID)
            out = _flat(step([bos, *states], training=False))
            return tf.cast(out[0], tf.float32), out[1:]

    if kind_ == "seq2seq":
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text")])
        def serve(text):
            ids = builder.ids(builder.SIDES[0], vocabs, text).to_tensor()
            states = _first_states(recipe, models, ids, _keras_call)
            logits, states = first_logits(states)
            out = _greedy_graph(step, states, logits, eos, max_length)
            return {"output": _ids_to_text(out, vocabs[target], builder.tokenizers[target]), "ids": out}

    elif kind_ == "language_model":
        def one(text):
            ids = _prompt_ids_graph(builder, vocabs, text)
            fed = tf.concat([[builder.start_id], ids], 0)[None]
            out = _flat(encoder([fed, *[tf.zeros([1, n]) for n in sizes]], training=False))
            logits = tf.cast(out[0][:, -1], tf.float32)
            generated = _greedy_graph(step, out[1:], logits, eos, max_length)
            whole = tf.concat([ids[None], generated], 1)
            return _ids_to_text(whole, vocabs[target], builder.tokenizers[target], stream)[0]

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "prompt")])
        def serve(prompt):
            # Prompts differ in length and the reader has no mask: one at a time.
            return {"output": tf.map_fn(one, prompt, fn_output_signature=tf.string)}

    elif kind_ == "one_to_many":
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "condition")])
        def serve(condition):
            ids = builder.ids("source", vocabs, condition).to_tensor(shape=[None, 1])
            known = ids[:, 0] > 0
            states = _first_states(recipe, models, tf.maximum(ids, 0), _keras_call)
            logits, states = first_logits(states)
            out = _greedy_graph(step, states, logits, eos, max_length)
            text = _ids_to_text(out, vocabs[target], builder.tokenizers[target])
            return {"output": tf.where(known, text, ""), "known": known}

    elif kind_ == "many_to_many":
        (model,) = models
        crf = crf_weights(model)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text")])
        def serve(text):
            ragged = builder.inputs(vocabs, text, truncate=False)
            logits = tf.cast(model({k: v.to_tensor() for k, v in ragged.items()}, training=False), tf.float32)
            lengths = ragged["source"].row_lengths()
            if crf is None:
                probs = tf.nn.softmax(logits[..., 1:])
                best = tf.argmax(probs, -1)
            else:
                never_pad = logits - 1e9 * tf.one_hot(0, tf.shape(logits)[-1])
                probs = crf_marginals(never_pad, lengths, *crf)[..., 1:]
                best = viterbi_decode(never_pad, lengths, *crf) - 1
            tags = tf.gather(tf.constant(vocabs["target"].tokens[1:]), best)
            words = builder.tokenizers["source"].split(text).to_tensor("")
            mask = tf.sequence_mask(lengths, tf.shape(tags)[1])
            return {"tokens": words[:, : tf.shape(tags)[1]], "tags": tf.where(mask, tags, ""),
                    "length": tf.cast(lengths, tf.int32), "probabilities": probs}

    elif getattr(builder, "regression", False):
        (model,) = models

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text")])
        def serve(text):
            ragged = builder.inputs(vocabs, text)
            out = model({k: v.to_tensor() for k, v in ragged.items()}, training=False)
            return {"output": tf.cast(out, tf.float32)[:, 0]}

    else:
        (model,) = models

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text")])
        def serve(text):
            ragged = builder.inputs(vocabs, text)
            logits = model({k: v.to_tensor() for k, v in ragged.items()}, training=False)
            labels = tf.constant(vocabs["target"].tokens[1:])
            probs = tf.nn.softmax(tf.cast(logits, tf.float32)[:, 1:])
            return {"label": tf.gather(labels, tf.argmax(probs, -1)),
                    "probabilities": probs,
                    "labels": tf.tile(labels[None], [tf.shape(probs)[0], 1])}

    return serve


def _savedmodel_signatures(module, recipe):
    builder, vocabs = module.builder, module.vocabs
    functions = _functions(recipe, module.models, None, lite=False)
    signatures = {
        name: tf.function(fn, input_signature=specs).get_concrete_function()
        for name, (fn, specs) in functions.items()
    }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text")])
    def tokenize(text):
        ids = builder.ids(builder.SIDES[0], vocabs, text)
        return {"tokens": ids.to_tensor(), "length": tf.cast(ids.row_lengths(), tf.int32)}

    signatures["serving_default"] = _serve_function(module, recipe).get_concrete_function()
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
    variables = list({id(v): v for model in models for v in model.weights}.values())
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

    # One thread: at batch 1 a call is a few small matrix products, and handing
    # them to a thread pool costs more than it saves (a `step` ran several
    # times slower with the default threads on a busy 2-core machine).
    if isinstance(blob_or_path, (bytes, bytearray)):
        return Interpreter(model_content=bytes(blob_or_path), num_threads=1)
    return Interpreter(model_path=str(blob_or_path), num_threads=1)


# Backends: one contract `run(signature, {input: array}) -> {output: array}` ---


class _LiteBackend:
    """Signatures through a LiteRT interpreter at its fixed batch."""

    def __init__(self, path, batch):
        self.interpreter = _interpreter(path)
        self.batch = batch
        self.runners = {k: self.interpreter.get_signature_runner(k)
                        for k in self.interpreter.get_signature_list()}
        # One call each allocates every subgraph, so their states can be reset.
        for runner in self.runners.values():
            runner(**{k: np.zeros(d["shape"], d["dtype"]) for k, d in runner.get_input_details().items()})

    def run(self, name, inputs):
        """Any number of rows, `batch` rows a call; spare rows are zeros."""
        n = len(next(iter(inputs.values())))
        out = {}
        for start in range(0, n, self.batch):
            chunk = {k: v[start : start + self.batch] for k, v in inputs.items()}
            short = self.batch - len(next(iter(chunk.values())))
            if short:
                chunk = {k: np.concatenate([v, np.zeros((short,) + v.shape[1:], v.dtype)]) for k, v in chunk.items()}
            # The fused LSTM op keeps its state in variable tensors between calls.
            self.interpreter.reset_all_variables()
            # A model with one signature gets TFLite's default key for it.
            runner = self.runners.get(name) or self.runners[LITE_DEFAULT]
            result = runner(**chunk)
            for k, v in result.items():
                out.setdefault(k, []).append(v[: self.batch - short])
        return {k: np.concatenate(v) for k, v in out.items()}


class _SavedModelBackend:
    def __init__(self, folder):
        self.loaded = tf.saved_model.load(folder)

    def run(self, name, inputs):
        fn = self.loaded.signatures[name]
        return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


class _KerasBackend:
    """The signature functions called on the Keras models themselves."""

    def __init__(self, recipe, models):
        self.functions = _functions(recipe, models, None, lite=False)

    def run(self, name, inputs):
        fn, specs = self.functions[name]
        out = fn(*[tf.constant(inputs[s.name]) for s in specs])
        return {k: np.asarray(v) for k, v in out.items()}


def _id_rows(ragged):
    """Ragged ids -> nested lists, an empty row given one padding id (or one padded token)."""
    blank = [[0]] if ragged.ragged_rank == 2 else [0]
    return [row or blank for row in ragged.to_list()]


def padded(rows, dtype):
    """Rows of ids, or rows of tokens' character ids, -> one array padded with 0 at the ends."""
    if any(isinstance(t, list) for r in rows for t in r):
        width = max(len(t) for r in rows for t in r)
        rows = [[t + [0] * (width - len(t)) for t in r] for r in rows]
        blank = [[0] * width]
    else:
        blank = [0]
    steps = max(len(r) for r in rows)
    return np.asarray([r + blank * (steps - len(r)) for r in rows], dtype)


def _groups(lengths):
    """Row indices grouped by length: a graph without masks reads rows unpadded."""
    groups = collections.defaultdict(list)
    for i, n in enumerate(lengths):
        groups[n].append(i)
    return groups.items()


# Host-side use of an export ----------------------------------------------------


class Runner:
    """Tokenization, decoding and scoring on the host, model calls through a backend."""

    def __init__(self, builder, vocabs, backend, names, sizes, crf=None):
        self.builder, self.vocabs, self.backend = builder, vocabs, backend
        # A CRF tagger's (transitions, start, end): its tags come from Viterbi.
        self.crf = crf
        self.recipe = builder.recipe
        self.type = self.recipe["type"]
        self.kind = kind(self.recipe)
        self.names, self.sizes = names, sizes

    # Generation types ----------------------------------------------------

    def encode(self, rows):
        """Token id rows -> state arrays; an empty language-model row gives zero states."""
        states = [np.zeros((len(rows), n), np.float32) for n in self.sizes]
        for length, index in _groups([len(r) for r in rows]):
            if length == 0 and self.type == "language_model":
                continue
            tokens = np.asarray([rows[i] or [0] for i in index], np.int32)
            out = self.backend.run("encode", {"tokens": tokens})
            for s, name in zip(states, self.names):
                s[index] = out[name]
        return states

    def step(self, tokens, states):
        out = self.backend.run("step", {"token": np.asarray(tokens, np.int32),
                                        **dict(zip(self.names, states))})
        return out["logits"], [out[n] for n in self.names]

    def prompts(self, texts):
        """(rows to encode, first tokens, ids shown before the output, stop token)."""
        b, vocabs = self.builder, self.vocabs
        if self.type == "seq2seq":
            rows = b.ids("source", vocabs, tf.constant(texts, tf.string)).to_list()
            return rows, [BOS_ID] * len(rows), [[] for _ in rows], EOS_ID
        if self.type == "one_to_many":
            ids = b.condition_ids(vocabs, list(texts))
            return [[int(i)] for i in ids], [BOS_ID] * len(ids), [[] for _ in ids], EOS_ID
        prompts = b.token_ids(vocabs, list(texts))
        fed = [[b.start_id] + p for p in prompts]
        return [f[:-1] for f in fed], [f[-1] for f in fed], prompts, (-1 if b.stream else EOS_ID)

    def generate(self, texts, strategy=None, seed=None):
        """Output text per input, by the recipe's decoding (or `strategy`)."""
        dec = dict(self.recipe["decoding"], **({"strategy": strategy} if strategy else {}))
        rows, first, prefixes, eos = self.prompts(texts)
        ids = self.decode(self.encode(rows), first, eos, dec, seed)
        return [self.render(p + r) for p, r in zip(prefixes, ids)]

    def decode(self, states, first, eos, dec, seed=None):
        if dec["strategy"] == "greedy":
            return decoding.greedy(self.step, states, first, eos, dec["max_length"])
        if dec["strategy"] == "sample":
            return decoding.sample(self.step, states, first, eos, dec["max_length"],
                                   dec["temperature"], dec["top_k"], dec["top_p"], seed)
        return [decoding.beam_search(self.step, [s[i : i + 1] for s in states], first[i], eos,
                                     dec["max_length"], dec["beam_width"], dec["length_penalty"])[0]
                for i in range(len(first))]

    def render(self, ids):
        if self.type == "seq2seq":
            return self.builder.tokenizers["target"].join(self.vocabs["target"].decode(ids))
        return self.builder.render(self.vocabs, ids)

    def log_probs(self, texts, conditions=None):
        """Per-token log-probabilities of `text <eos>` (given each condition), by stepping."""
        b = self.builder
        targets = b.token_ids(self.vocabs, list(texts))
        if self.type == "one_to_many":
            states = self.encode([[int(i)] for i in b.condition_ids(self.vocabs, conditions)])
        else:
            states = self.encode([[] for _ in targets])
        labels = [t + [EOS_ID] for t in targets]
        tokens = np.full(len(labels), b.start_id if self.type == "language_model" else BOS_ID, np.int32)
        out = [[] for _ in labels]
        for t in range(max(map(len, labels))):
            logits, states = self.step(tokens, states)
            logp = decoding.log_softmax(logits)
            for i, row in enumerate(labels):
                if t < len(row):
                    out[i].append(float(logp[i, row[t]]))
            tokens = np.asarray([row[t] if t < len(row) else 0 for row in labels], np.int32)
        return out

    # Classifiers and taggers ----------------------------------------------

    def logits(self, texts):
        """One logit array per text (a row per token for a tagger)."""
        extra = {"truncate": False} if self.type == "many_to_many" else {}
        if getattr(self.builder, "vector", False):
            self.builder.check_vectors(texts, len(self.vocabs["source"]), "input")
        ragged = self.builder.inputs(self.vocabs, tf.constant(texts, tf.string), **extra)
        lists = {k: _id_rows(v) for k, v in ragged.items()}
        out = [None] * len(texts)
        for _, index in _groups([len(r) for r in lists["source"]]):
            inputs = {k: padded([rows[i] for i in index], ragged[k].dtype.as_numpy_dtype)
                      for k, rows in lists.items()}
            for i, row in zip(index, self.backend.run("logits", inputs)["logits"]):
                out[i] = row
        return out

    def predict(self, texts):
        """Rows like `kerasrnn predict` on the run gives."""
        if self.type == "seq2seq":
            return [{"input": t, "output": o} for t, o in zip(texts, self.generate(texts))]
        if self.type == "one_to_many":
            return [{"input": t, "output": o} for t, o in zip(texts, self.generate(texts))]
        if self.type == "language_model":
            outputs = self.generate(texts, strategy="greedy")
            rows = []
            for text, output, logp in zip(texts, outputs, self.log_probs(texts)):
                total = float(np.sum(logp))
                rows.append({"input": text, "output": output, "log_prob": total, "tokens": len(logp),
                             "mean_log_prob": total / len(logp),
                             "perplexity": float(np.exp(-total / len(logp)))})
            return rows
        return _logit_rows(self.builder, self.vocabs, texts, self.logits(texts), self.crf)


def _logit_rows(builder, vocabs, texts, rows, crf=None):
    """`predict` rows of a classifier or tagger from its logits."""
    if builder.recipe["type"] == "many_to_many":
        tokens = builder.tokenizers["source"].split_py(texts)
        tags = best_tags(rows, [len(t) for t in tokens], vocabs["target"].tokens, crf)
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


class Exported(Runner):
    """A loaded export: host-side tokenization and decoding, model calls through the artifact.

    Args:
        path: a `.tflite` file (its sidecar files beside it), a SavedModel
            folder (`<name>/1`) or the export folder `<name>`.
    """

    def __init__(self, path):
        self.dir = _find_export_dir(path)
        with open(os.path.join(self.dir, EXPORT_JSON), encoding="utf-8") as f:
            self.meta = json.load(f)
        builder = builders.get(self.meta["recipe"])
        vocabs = {side: Vocabulary.load(os.path.join(self.dir, name))
                  for side, name in self.meta["vocabs"].items()}
        builder.attach(vocabs)
        if str(path).endswith(".tflite"):
            backend = _LiteBackend(path, self.meta["tflite"]["batch_size"])
            self.format = "tflite"
        else:
            folder = path if os.path.isfile(os.path.join(path, "saved_model.pb")) else os.path.join(self.dir, VERSION)
            backend = _SavedModelBackend(folder)
            self.format = "savedmodel"
        crf = self.meta.get("crf")
        crf = crf and tuple(np.asarray(crf[k], np.float32) for k in ("transitions", "start", "end"))
        super().__init__(builder, vocabs, backend, self.meta["state_names"], self.meta["state_sizes"], crf)


def predict(path, texts):
    """`kerasrnn predict` on an exported model."""
    return Exported(path).predict(texts)


# Parity ----------------------------------------------------------------------


def _max_diff(a, b):
    return float(max(np.abs(np.asarray(x) - np.asarray(y)).max() for x, y in zip(a, b)))


def held_out_metric(runner, texts, references):
    """The type's held-out metric (METRIC) through `runner`, or None."""
    kind_ = runner.type
    if kind_ == "seq2seq":
        hyps = runner.generate(texts, strategy="greedy")
        split = runner.builder.tokenizers["target"].split_py
        return metrics.error_rates(split(hyps), [[t] for t in split(references)])["token_error_rate"]
    if kind_ in ("language_model", "one_to_many"):
        texts, conditions = (references, texts) if kind_ == "one_to_many" else (texts, None)
        logps = runner.log_probs(texts, conditions)
        return float(np.exp(-sum(map(sum, logps)) / sum(map(len, logps))))
    if getattr(runner.builder, "regression", False):
        return None
    rows = runner.logits(texts)
    if kind_ == "many_to_many":
        gold = runner.builder.tokenizers["target"].split_py(references)
        tags = best_tags(rows, [len(t) for t in gold], runner.vocabs["target"].tokens, runner.crf)
        return float(np.mean([p == g for row, want in zip(tags, gold) for p, g in zip(row, want)]))
    labels = runner.builder.labels(runner.vocabs, rows)
    return float(np.mean([a == b for a, b in zip(labels, references)]))


def parity(exported, reference, texts, references=None):
    """Max |difference| from the Keras `reference` runner and agreement on `texts`."""
    result = {"examples": len(texts)}
    if exported.kind == "generate":
        rows, first, _, eos = reference.prompts(texts)
        want, got = reference.encode(rows), exported.encode(rows)
        result["state_max_abs_diff"] = _max_diff(want, got)
        result["logits_max_abs_diff"] = _max_diff(reference.step(first, want)[0], exported.step(first, got)[0])
        dec = dict(reference.recipe["decoding"], strategy="greedy")
        same = [a == b for a, b in zip(reference.decode(want, first, eos, dec),
                                       exported.decode(got, first, eos, dec))]
        result["greedy_identical"] = int(sum(same))
    else:
        want, got = reference.logits(texts), exported.logits(texts)
        result["logits_max_abs_diff"] = _max_diff(want, got)
        same = [np.array_equal(np.argmax(a[..., 1:], -1), np.argmax(b[..., 1:], -1)) for a, b in zip(want, got)]
        result["labels_identical"] = int(sum(same))
    if references is not None:
        value = held_out_metric(exported, texts, references)
        if value is not None:
            result[METRIC[exported.type]] = value
    return result


# The export command ----------------------------------------------------------


def _held_out(run, builder, texts, count):
    """(texts, references or None) to check parity on."""
    if texts:
        return list(texts), None
    from kerasrnn import training

    examples = training.load_splits(run.recipe, echo=lambda _: None)["test"]
    examples = getattr(builder, "oriented", list)(examples)
    if builder.recipe["type"] == "one_to_many":
        examples = [ex for ex in examples if as_text(ex.source) in run.vocabs["source"]]
    examples = examples[:count]
    if not examples:
        raise ExportError("no held-out examples to check parity on; give --text")
    return [as_text(ex.source) for ex in examples], [as_text(ex.target) for ex in examples]


def _representative(reference, texts, batch):
    """Calibration inputs for int8: every signature, on the held-out texts.

    The calibrator sizes a signature's inputs once, from its first sample, so
    every row of token ids is repeated to the length of that signature's
    longest row.
    """
    samples = []
    for text in texts:
        if reference.kind == "generate":
            rows, first, _, _ = reference.prompts([text])
            row = rows[0] or [first[0]]
            states = reference.encode([row])
            samples.append(("encode", {"tokens": np.asarray([row], np.int32)}))
            samples.append(("step", {"token": np.asarray(first, np.int32),
                                     **dict(zip(reference.names, states))}))
        else:
            extra = {"truncate": False} if reference.type == "many_to_many" else {}
            ragged = reference.builder.inputs(reference.vocabs, tf.constant([text]), **extra)
            samples.append((LITE_DEFAULT, {k: padded(_id_rows(v), np.int32) for k, v in ragged.items()}))

    def is_ids(array):
        return array.ndim >= 2 and array.dtype == np.int32

    # The widest shape of each id input of each signature (tokens, and characters per token).
    widest = {}
    for key, inputs in samples:
        for name, array in inputs.items():
            if is_ids(array):
                seen = widest.get((key, name), array.shape[1:])
                widest[key, name] = tuple(max(a, b) for a, b in zip(seen, array.shape[1:]))

    def fit(key, name, array):
        if is_ids(array):
            array = np.resize(array, (1,) + widest[key, name])
        return np.repeat(array[:1], batch, axis=0)

    def gen():
        for key, inputs in samples:
            yield key, {k: fit(key, k, v) for k, v in inputs.items()}
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
    generate = kind(recipe) == "generate"
    names = state_names(models) if generate else []
    sizes = state_sizes(models) if generate else []
    crf = crf_weights(run.model) if recipe["type"] == "many_to_many" else None
    reference = Runner(builder, vocabs, _KerasBackend(recipe, models), names, sizes, crf)
    meta = {
        "name": recipe["name"],
        "type": recipe["type"],
        "kind": kind(recipe),
        "tokenizers": {side: {k: getattr(t, k) for k in ("kind", "lowercase", "normalize", "max_length")}
                       for side, t in builder.tokenizers.items()},
        "vocabs": {side: f"vocab.{side}.json" for side in vocabs},
        "special_ids": {"pad": 0, "unk": 1, "bos": BOS_ID, "eos": EOS_ID},
        "state_names": names,
        "state_sizes": sizes,
        "signatures": {},
        "tflite": {"batch_size": batch, "files": {},
                   "rows": "no masks: the rows of one call are read in full, so they must share one length"},
        "recipe": recipe,
    }
    if crf is not None:
        # A CRF tagger's tags are the Viterbi path over the logits and these scores.
        meta["crf"] = {k: w.tolist() for k, w in zip(("transitions", "start", "end"), crf)}
    for side, vocab in vocabs.items():
        vocab.save(os.path.join(folder, meta["vocabs"][side]))
    check_texts, references = _held_out(run, builder, texts, parity_examples)
    report = {"folder": folder, "artifacts": {}}
    if "savedmodel" in formats:
        path = os.path.join(folder, VERSION)
        meta["signatures"]["savedmodel"] = save_savedmodel(builder, vocabs, models, path)
        report["artifacts"]["savedmodel"] = {"path": path, "bytes": _size(path)}
    if "tflite" in formats:
        variants = ["none"] + ([quantize] if quantize != "none" else [])
        for variant in variants:
            name = "model.tflite" if variant == "none" else f"model.{variant}.tflite"
            rep = _representative(reference, check_texts, batch) if variant == "int8" else None
            blob = convert_tflite(recipe, models, batch, variant, rep)
            path = os.path.join(folder, name)
            with open(path + ".tmp", "wb") as f:
                f.write(blob)
            os.replace(path + ".tmp", path)
            meta["tflite"]["files"][variant] = name
            report["artifacts"][f"tflite/{variant}"] = {"path": path, "bytes": len(blob), "ops": op_list(blob)}
        meta["signatures"]["tflite"] = sorted(_interpreter(blob).get_signature_list())
    write_json(os.path.join(folder, EXPORT_JSON), meta)
    for key, info in report["artifacts"].items():
        info["parity"] = parity(Exported(info["path"]), reference, check_texts, references)
    for key, info in report["artifacts"].items():
        echo(_describe(key, info, report["artifacts"].get("tflite/none")))
    write_json(os.path.join(folder, REPORT_JSON), report)
    return report


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def _describe(key, info, float_info=None):
    """One line per artifact; a quantized one shows the float export's size and metric beside."""
    checks = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in info["parity"].items())
    line = f"{key}: {info['path']} ({info['bytes'] / 1024:.1f} KiB); {checks}"
    if key.startswith("tflite/") and key != "tflite/none" and float_info:
        metric = next((m for m in set(METRIC.values()) if m in info["parity"]), None)
        beside = f"{float_info['bytes'] / 1024:.1f} KiB"
        if metric and metric in float_info["parity"]:
            beside = (f"{metric} {info['parity'][metric]:.4g} vs {float_info['parity'][metric]:.4g} float, "
                      f"{info['bytes'] / 1024:.1f} KiB vs {beside}")
        else:
            beside = f"{info['bytes'] / 1024:.1f} KiB vs {beside}"
        info["float"] = {"bytes": float_info["bytes"],
                         **({metric: float_info["parity"][metric]} if metric in float_info["parity"] else {})}
        line += f"; quantized {beside}"
    return line
