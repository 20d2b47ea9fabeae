"""Host-side use of an export: tokenization and decoding here, model calls through a backend.

Every backend has one contract, `run(signature, {input: array}) -> {output:
array}`: a LiteRT interpreter (`.tflite`), a loaded SavedModel, or the
signature functions called on the Keras models themselves (the reference
that parity is measured against). What the answers mean is the builder's
to say (`builder.runner_predict`, `builder.runner_metric`).
"""

import collections
import json
import os

import numpy as np
import tensorflow as tf

from kerasrnn import builders, config, decoding
from kerasrnn.builders.language_model import without_unk
from kerasrnn.data.vocab import Vocabulary
from kerasrnn.export.signatures import functions
from kerasrnn.export.tflite import LITE_DEFAULT, interpreter

EXPORT_JSON = "export.json"
# The SavedModel's folder inside an export: the versioned folder TF Serving expects.
VERSION = "1"


class Signature:
    """One signature of a LiteRT interpreter, called as its `SignatureRunner` is.

    LiteRT's runner resizes every input and allocates the subgraph's tensors
    on every call, which costs about as much as a character LM's whole `step`
    (tens of microseconds). Here that happens only when the input shapes
    change (at the first call, and after a call with other shapes); otherwise
    a call sets the inputs, invokes and reads the outputs.

    Args:
        runner: the interpreter's `SignatureRunner` for the signature.
    """

    def __init__(self, runner):
        self.runner = runner
        # The runner's own handles on the interpreter (ai-edge-litert 2.x).
        self._wrapper = runner._interpreter_wrapper
        self._subgraph = runner._subgraph_index
        self._inputs = runner._inputs
        self._outputs = list(runner._outputs)
        self._shapes = None

    def __call__(self, **inputs):
        shapes = {name: np.shape(value) for name, value in inputs.items()}
        if shapes != self._shapes:
            result = self.runner(**inputs)
            self._shapes = shapes
            return result
        for name, value in inputs.items():
            self._wrapper.SetTensor(self._inputs[name], value, self._subgraph)
        self._wrapper.Invoke(self._subgraph)
        return {name: self._wrapper.GetTensor(index, self._subgraph) for name, index in self._outputs}

    def get_input_details(self):
        return self.runner.get_input_details()


class LiteBackend:
    """Signatures through a LiteRT interpreter at its fixed batch."""

    def __init__(self, path, batch):
        self.interpreter = interpreter(path)
        self.batch = batch
        self.runners = {k: Signature(self.interpreter.get_signature_runner(k))
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
            # Exports made by kerasrnn 0.1 hold fused LSTM ops, which keep
            # their state in variable tensors between calls.
            self.interpreter.reset_all_variables()
            # A model with one signature gets TFLite's default key for it.
            runner = self.runners.get(name) or self.runners[LITE_DEFAULT]
            result = runner(**chunk)
            for k, v in result.items():
                out.setdefault(k, []).append(v[: self.batch - short])
        return {k: np.concatenate(v) for k, v in out.items()}


class SavedModelBackend:
    """Signatures of a loaded SavedModel."""

    def __init__(self, folder):
        self.loaded = tf.saved_model.load(folder)

    def run(self, name, inputs):
        fn = self.loaded.signatures[name]
        return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


class KerasBackend:
    """The signature functions called on the Keras models themselves."""

    def __init__(self, builder, models):
        self.functions = functions(builder, models, None, lite=False)

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


class Runner:
    """An export's signatures on the host, for any backend.

    Args:
        builder: the run's builder, its vocabularies attached.
        vocabs: the vocabularies by side.
        backend: what runs the signatures.
        meta: what the builder added to export.json (`builder.export_meta`).
        names: the state names of a generator's `encode`/`step`.
    """

    def __init__(self, builder, vocabs, backend, meta=None, names=()):
        self.builder, self.vocabs, self.backend = builder, vocabs, backend
        self.recipe = builder.recipe
        self.type = self.recipe["type"]
        self.meta = meta or {}
        self.names = list(names)

    # Generators ------------------------------------------------------------

    def encode(self, rows):
        """Token id rows -> state arrays; a row of None gives zero states."""
        sizes = [int(n) for n in self.meta["state_sizes"]]
        states = [np.zeros((len(rows), n), np.float32) for n in sizes]
        for length, index in _groups([-1 if r is None else len(r) for r in rows]):
            if length < 0:
                continue
            tokens = np.asarray([rows[i] or [0] for i in index], np.int32)
            out = self.backend.run("encode", {"tokens": tokens})
            for s, name in zip(states, self.names):
                s[index] = out[name]
        return states

    def step(self, tokens, states):
        """One token per row -> (logits, new states)."""
        out = self.backend.run("step", {"token": np.asarray(tokens, np.int32),
                                        **dict(zip(self.names, states))})
        return out["logits"], [out[n] for n in self.names]

    def generate(self, texts, strategy=None, seed=None, **settings):
        """Output text per input, by the recipe's decoding (or `strategy` and other `settings`)."""
        dec = dict(self.recipe["decoding"], **settings, **({"strategy": strategy} if strategy else {}))
        rows, first, prefixes, eos = self.builder.prompts(self.vocabs, texts)
        step = without_unk(self.step) if dec.get("suppress_unk") else self.step
        ids = decoding.decode(step, self.encode(rows), first, eos, dec, seed)
        return [self.builder.render(self.vocabs, p + r) for p, r in zip(prefixes, ids)]

    # Classifiers and taggers ----------------------------------------------

    def padded_inputs(self, texts):
        """The `logits` signature's inputs for texts of one length, padded with 0."""
        ragged = self.builder.serving_inputs(self.vocabs, list(texts))
        return {k: padded(_id_rows(v), v.dtype.as_numpy_dtype) for k, v in ragged.items()}

    def logits(self, texts):
        """One logit array per text (a row per token for a tagger)."""
        ragged = self.builder.serving_inputs(self.vocabs, list(texts))
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
        return self.builder.runner_predict(self, list(texts))


def find_export_dir(path):
    """The export folder holding `path` (the folder itself, its SavedModel or a .tflite in it)."""
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
        self.dir = find_export_dir(path)
        with open(os.path.join(self.dir, EXPORT_JSON), encoding="utf-8") as f:
            meta = json.load(f)
        # Resolved again, so keys added since the export was made take their defaults.
        builder = builders.get(config.resolve(meta["recipe"], source=self.dir, files=False))
        vocabs = {side: Vocabulary.load(os.path.join(self.dir, name))
                  for side, name in meta["vocabs"].items()}
        builder.attach(vocabs)
        if str(path).endswith(".tflite"):
            backend = LiteBackend(path, meta["tflite"]["batch_size"])
            self.format = "tflite"
        else:
            folder = path if os.path.isfile(os.path.join(path, "saved_model.pb")) else os.path.join(self.dir, VERSION)
            backend = SavedModelBackend(folder)
            self.format = "savedmodel"
        super().__init__(builder, vocabs, backend, meta, meta["state_names"])
