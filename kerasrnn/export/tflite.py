"""The TFLite (LiteRT) format: builtin ops only, a fixed batch, token ids in.

A TFLite graph has no masks: every row of one call is read to its full
length. With a batch above one, the rows of a call must share one length
(`kerasrnn.export.runner` groups them). The recurrent layers are traced in
the forms of `lstm_rewrite`.
"""

import re

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.export.errors import ExportError
from kerasrnn.export.lstm_rewrite import is_plain_lstm
from kerasrnn.export.signatures import functions

# The name TFLite gives the signature of a model converted from one function.
LITE_DEFAULT = "serving_default"


def _named(name, function, specs, models):
    """`function` as a concrete function named `name`, with constant weights.

    Weights are read as constants through a `keras.StatelessScope`, so the
    graph holds no variables for the converter to freeze.
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


def convert_tflite(builder, models, batch, quantize="none", representative=None):
    """The TFLite flatbuffer of the builder's signature functions, builtin ops only.

    Args:
        quantize: "none", "float16", "dynamic" (int8 weights) or "int8"
            (weights and activations, calibrated on `representative`).
        representative: a generator function of `(signature, inputs)` pairs.
    """
    int8 = quantize == "int8"
    concretes = [_named(name, fn, specs, models)
                 for name, (fn, specs) in functions(builder, models, batch, lite=True, fused_lstm=int8).items()]
    if int8:
        _check_calibratable(concretes, models)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(concretes, tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if representative is None:
            raise ExportError("int8 quantization needs training examples to calibrate on")
        converter.representative_dataset = representative
    try:
        blob = converter.convert()
    except Exception as error:  # the converter raises several unrelated types
        raise ExportError(_explain(error, models, concretes)) from None
    bad = [op for op in op_list(blob) if op.startswith("Flex") or op == "CUSTOM"]
    if bad:
        raise ExportError(f"the TFLite model needs ops outside the builtins: {', '.join(bad)}")
    return blob


def check_int8(builder, models, batch):
    """Raises `ExportError` where int8 quantization cannot calibrate the model."""
    _check_calibratable([_named(name, fn, specs, models) for name, (fn, specs)
                         in functions(builder, models, batch, lite=True, fused_lstm=True).items()], models)


def _check_calibratable(concretes, models):
    """int8 needs every sequence loop fused: TensorFlow's calibrator crashes on a WHILE loop."""
    if not any(op.type in ("While", "StatelessWhile") for c in concretes for op in c.graph.get_operations()):
        return
    looped = [layer.name for model in models for layer in model._flatten_layers(include_self=False)
              if not is_plain_lstm(getattr(layer, "forward_layer", layer))
              and isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]
    raise ExportError(
        "int8 quantization calibrates plain LSTMs only, and "
        + (f"layer {looped[0]!r}" if looped else "this model")
        + " runs a recurrent loop (TensorFlow's calibrator crashes on it); "
        "use --quantize dynamic (int8 weights) or float16"
    )


def interpreter(blob_or_path):
    """A LiteRT interpreter over a flatbuffer or a `.tflite` file, on one thread."""
    from ai_edge_litert.interpreter import Interpreter

    # One thread: at batch 1 a call is a few small matrix products, and handing
    # them to a thread pool costs more than it saves (a `step` ran several
    # times slower with the default threads on a busy 2-core machine).
    if isinstance(blob_or_path, (bytes, bytearray)):
        return Interpreter(model_content=bytes(blob_or_path), num_threads=1)
    return Interpreter(model_path=str(blob_or_path), num_threads=1)


def op_list(blob_or_path):
    """The sorted op names of a TFLite model (every subgraph)."""
    return sorted({d["op_name"] for d in interpreter(blob_or_path)._get_ops_details()})


def representative(runner, texts, batch):
    """Calibration inputs for int8: every signature, on the given (training) texts.

    The calibrator sizes a signature's inputs once, from its first sample, so
    every row of token ids is repeated to the length of that signature's
    longest row.
    """
    samples = []
    for text in texts:
        if runner.builder.EXPORT == "generate":
            rows, first, _, _ = runner.builder.prompts(runner.vocabs, [text])
            row = rows[0] or [first[0]]
            states = runner.encode([row])
            samples.append(("encode", {"tokens": np.asarray([row], np.int32)}))
            samples.append(("step", {"token": np.asarray(first, np.int32),
                                     **dict(zip(runner.names, states))}))
        else:
            samples.append((LITE_DEFAULT, runner.padded_inputs([text])))

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
