"""Shared checks for recurrent layer tests, modelled on Keras's `run_layer_test`.

Every function takes a layer class (or layer) and small inputs and asserts one
behaviour; a test module calls the ones that apply to its layer:

- `run_layer_test(cls, kwargs, input_shape, expected_output_shape, expected_num_trainable_weights)`:
  config round-trip, weight counts, symbolic and eager shapes, one `fit`
  step with a finite loss, and float16 outputs with float32 variables under
  `mixed_float16`. `input_data` gives inputs of another dtype (token ids)
  or several inputs (a list).
- `assert_masking(cls, kwargs, x)`: right- and left-padded rows equal the
  rows run alone, and the final state equals the output at the last real
  step, in both directions.
- `assert_stateful_chunks(cls, kwargs, x, split)`: a stateful layer fed the
  sequence in two chunks equals one call on the whole sequence.
- `assert_loads_in_fresh_process(tmp_path, {name: (model, x)})`: `.keras`
  files load in a new Python process that only imports `kerasrnn.layers`
  and give the same outputs (`x` one array or a list of them).
  `assert_saved_files_load(folder, names)` checks files saved before.
- `assert_tflite_matches(model, x)`: builtin-ops TFLite conversion, run with
  LiteRT, within 1e-4 of Keras (`x` of any dtype: token ids too).
- `outputs_and_gradients(layer, x, mask, length)`: outputs and gradients
  in training, with the length fixed or unknown when traced.
- `assert_gradients_match_finite_differences(cls, kwargs, x)`: float64
  analytic gradients against finite differences.

Inputs are numpy arrays, `(batch, timesteps, features)` for recurrent layers;
keep them tiny.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def random_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_num_trainable_weights,
    expected_num_non_trainable_weights=0,
    run_training=True,
    run_mixed_precision=True,
    input_data=None,
):
    """Checks config, weights, shapes, one training step and mixed precision.

    `expected_output_shape` is a tuple, or a list of tuples when the layer
    returns several tensors (e.g. `return_state=True`). `input_data` replaces
    the random float inputs of `input_shape`: one array or a list of arrays.
    """
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config
    assert json.loads(json.dumps(config)) == config

    x = random_inputs(input_shape) if input_data is None else input_data
    outputs = layer(x)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    expected = (
        [expected_output_shape] if isinstance(expected_output_shape, tuple) else expected_output_shape
    )
    assert [tuple(o.shape) for o in _as_list(outputs)] == [tuple(s) for s in expected]

    symbolic = layer_cls(**init_kwargs)(_symbolic(x))
    assert [tuple(o.shape)[1:] for o in _as_list(symbolic)] == [tuple(s)[1:] for s in expected]

    if run_training:
        inputs = _symbolic(x)
        model = keras.Model(inputs, _as_list(layer_cls(**init_kwargs)(inputs))[0])
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(x, np.zeros(expected[0], "float32"), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    if run_mixed_precision:
        mixed = layer_cls(**init_kwargs, dtype="mixed_float16")
        for output in _as_list(mixed(x)):
            assert output.dtype == "float16"
        assert all(w.dtype == "float32" for w in mixed.weights)


def _symbolic(x):
    """Keras inputs like the arrays `x` (one or a list), any batch size."""
    if isinstance(x, (list, tuple)):
        return [_symbolic(a) for a in x]
    return keras.Input(batch_shape=(None, *x.shape[1:]), dtype=str(x.dtype))


def _copy_weights(source, target, x):
    target(x[:, :1])
    target.set_weights(source.get_weights())


def _last_real_step(mask_row, go_backwards):
    steps = np.flatnonzero(mask_row[::-1] if go_backwards else mask_row)
    return steps[-1]


def assert_masking(layer_cls, init_kwargs, x, lengths=None, atol=1e-5, output_state=0):
    """Checks masking with right- and left-padded rows, in both directions.

    `init_kwargs` must not set `return_sequences`, `return_state` or
    `go_backwards`. `states[output_state]` must be the layer's output (the
    first state for every single kerasrnn layer).
    """
    batch, steps = x.shape[:2]
    lengths = lengths or [steps] + [max(1, steps - 2 - i) for i in range(batch - 1)]
    for go_backwards in (False, True):
        layer = layer_cls(
            **init_kwargs, return_sequences=True, return_state=True, go_backwards=go_backwards
        )
        layer(x)
        for padding in ("right", "left"):
            mask = np.zeros((batch, steps), bool)
            for row, length in enumerate(lengths):
                if padding == "right":
                    mask[row, :length] = True
                else:
                    mask[row, steps - length :] = True
            outputs, *states = [np.asarray(t) for t in layer(x, mask=mask)]
            for row in range(batch):
                real = x[row][mask[row]][None]
                alone_outputs, *alone_states = [np.asarray(t) for t in layer(real)]
                processed = mask[row][::-1] if go_backwards else mask[row]
                np.testing.assert_allclose(outputs[row][processed], alone_outputs[0], atol=atol)
                for state, alone_state in zip(states, alone_states):
                    np.testing.assert_allclose(state[row], alone_state[0], atol=atol)
                last = _last_real_step(mask[row], go_backwards)
                np.testing.assert_allclose(states[output_state][row], outputs[row, last], atol=atol)


def assert_stateful_chunks(layer_cls, init_kwargs, x, split, atol=1e-5):
    """Checks that two stateful chunks equal one call on the whole sequence."""
    full = layer_cls(**init_kwargs, return_sequences=True, return_state=True)
    expected_outputs, *expected_states = full(x)
    stateful = layer_cls(**init_kwargs, return_sequences=True, return_state=True, stateful=True)
    _copy_weights(full, stateful, x)
    stateful.reset_state()
    first, *_ = stateful(x[:, :split])
    second, *states = stateful(x[:, split:])
    np.testing.assert_allclose(
        np.concatenate([first, second], axis=1), expected_outputs, atol=atol
    )
    for state, expected in zip(states, expected_states):
        np.testing.assert_allclose(state, expected, atol=atol)
    stateful.reset_state()
    again, *_ = stateful(x[:, :split])
    np.testing.assert_allclose(again, first, atol=atol)


_LOADER = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    import kerasrnn.layers

    def arrays(data, key):
        found = [data[k] for k in sorted(data.files) if k.rstrip("0123456789") == key]
        return found[0] if len(found) == 1 else found

    folder = sys.argv[1]
    for name in sys.argv[2:]:
        model = keras.saving.load_model(f"{folder}/{name}.keras")
        data = np.load(f"{folder}/{name}.npz")
        got = model.predict(arrays(data, "x"), verbose=0)
        want = arrays(data, "y")
        for g, w in zip(got, want) if isinstance(want, list) else [(got, want)]:
            np.testing.assert_allclose(g, w, atol=1e-6)
    print("loaded", len(sys.argv) - 2)
    """
)


def assert_loads_in_fresh_process(tmp_path, cases):
    """Saves each `name: (model, x)` as `.keras`; a fresh process loads and compares."""
    for name, (model, x) in cases.items():
        model.save(tmp_path / f"{name}.keras")
        save_expected(tmp_path / f"{name}.npz", x, model.predict(x, verbose=0))
    assert_saved_files_load(tmp_path, list(cases))


def save_expected(path, x, y):
    """Writes inputs and outputs (each one array or a list) as `x0, x1, ..., y0, ...`."""
    arrays = {f"x{i}": a for i, a in enumerate(_as_list(x))}
    arrays.update({f"y{i}": a for i, a in enumerate(_as_list(y))})
    np.savez(path, **arrays)


def assert_saved_files_load(folder, names):
    """`folder/name.keras` loads in a fresh process and gives `folder/name.npz`'s outputs."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", _LOADER, str(folder), *names],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"loaded {len(names)}" in result.stdout


def assert_tflite_matches(model, x, atol=1e-4):
    """Converts `model` with builtin ops only and compares LiteRT with Keras."""
    from ai_edge_litert.interpreter import Interpreter

    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    function = tf.function(lambda inputs: model(inputs, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec(x.shape, x.dtype))
    # Frozen weights: LiteRT cannot read resource variables inside a WHILE body.
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [convert_variables_to_constants_v2(concrete)]
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    expected = _as_list(model(x, training=False))
    details = sorted(interpreter.get_output_details(), key=lambda d: d["index"])
    got = [interpreter.get_tensor(d["index"]) for d in details]
    assert len(got) == len(expected)
    # Output order in the flatbuffer is not guaranteed; match by shape then value.
    for want in expected:
        want = np.asarray(want)
        assert any(
            g.shape == want.shape and np.allclose(g, want, atol=atol) for g in got
        ), f"no LiteRT output within {atol} of Keras output of shape {want.shape}"


def assert_gradients_match_finite_differences(layer_cls, init_kwargs, x, tol=1e-6):
    """Checks float64 gradients w.r.t. inputs and every weight by finite differences."""
    layer = layer_cls(**init_kwargs, return_sequences=True, dtype="float64")
    x = tf.constant(x, tf.float64)
    layer(x)
    rng = np.random.default_rng(1)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()])
    fixed = [v.value for v in layer.non_trainable_variables]

    @tf.function
    def f(inputs, *trainable):
        return layer.stateless_call(list(trainable), fixed, inputs, training=False)[0]

    start = [x] + [tf.constant(w.numpy()) for w in layer.trainable_weights]
    theoretical, numerical = tf.test.compute_gradient(f, start)
    for analytic, numeric in zip(theoretical, numerical):
        np.testing.assert_allclose(analytic, numeric, atol=tol, rtol=1e-4)


def outputs_and_gradients(layer, x, mask, length="fixed"):
    """`layer`'s outputs and the gradients of a loss on them, in training.

    `length="varying"` traces the call with the length unknown, as batches
    padded to their longest are.
    """

    def run(x, *mask):
        with tf.GradientTape() as tape:
            tape.watch(x)
            output, *states = layer(x, mask=mask[0] if mask else None, training=True)
            loss = tf.reduce_sum(tf.sin(output)) + sum(tf.reduce_sum(s * s) for s in states)
        return [output, *states], tape.gradient(loss, [x, *layer.trainable_weights])

    args = [tf.constant(x)] + ([] if mask is None else [tf.constant(mask)])
    if length == "varying":
        specs = [tf.TensorSpec([None, None, x.shape[-1]]), tf.TensorSpec([None, None], tf.bool)]
        run = tf.function(run, input_signature=specs[: len(args)])
    return run(*args)
