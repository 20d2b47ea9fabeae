"""Recurrent layers rewritten for TFLite graphs that use builtin ops only.

`lite_call(model, inputs)` runs a functional Keras model with every
recurrent layer replaced by one of three forms:

- a plain LSTM (or one direction of a bidirectional one) over a sequence
  projects every step's input through the whole input kernel at once (one
  `FULLY_CONNECTED` over the sequence), then runs a `WHILE` loop whose body
  is one recurrent product, the four gates split from it and the state
  update;
- a layer over a single time step (a decoder's `step`) runs its cell once
  (a plain LSTM with the same whole kernels as the loop, so a model with
  `encode` and `step` signatures stores its weights once);
- any other layer runs its cell in a `tf.while_loop` with no tensor lists,
  which converts to the builtin `WHILE` op.

A loop gathers its outputs at every step only when the model reads the
layer's sequence; a layer whose sequence goes unused (an `encode` that
returns the final states) carries its last output alone.

TFLite's fused `UNIDIRECTIONAL_SEQUENCE_LSTM` op serves int8 exports only
(`fused_lstm=True`), whose calibration cannot run a `WHILE` loop: it
multiplies gate by gate at every step, and at batch 1 on x86 it ran a
100-token sequence at 0.36x the speed of the converter's own WHILE loop,
where the loop above runs ahead of it (`benchmarks/export_speed.py`). It
returns the output sequence only, so the final cell state is recomputed from
that sequence without a loop: with the gates `i, f, g` of every step known
from the outputs, `c_T = prod(f) c_0 + sum_t prod(f_s, s > t) i_t g_t`, the
products taken as exponentials of reversed cumulative sums of `log f`.

Masks are ignored: these graphs are traced for unpadded sequences (one
sequence per row, a fixed batch of one by default).
"""

import uuid

import keras
import tensorflow as tf

from kerasrnn.layers.lstm import LSTM


def is_plain_lstm(layer):
    """Whether `layer` is an LSTM the whole-kernel loop computes exactly."""
    if isinstance(layer, LSTM):
        return not layer._fused_obstacles() and layer.cell.use_bias
    if isinstance(layer, keras.layers.LSTM):
        cell = layer.cell
        return (
            cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and cell.use_bias
            and not layer.unroll
        )
    return False


def _lstm_update(z, c):
    """New `(h, c)` from the gates' pre-activations `z` (i, f, g, o) and the cell state."""
    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c), c


def _weights(layer):
    cell = layer.cell
    return [tf.cast(w.value, tf.float32) for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]


def _zero_states(layer, x):
    batch = x.shape[0] if x.shape[0] is not None else tf.shape(x)[0]
    return [
        tf.zeros([batch, size], tf.float32)
        for size in tf.nest.flatten(layer.cell.state_size)
    ]


def _fused_lstm_function(batch, features, units, go_backwards):
    """The composite function the TFLite converter replaces by the fused op."""
    attributes = {
        "api_implements": f"lstm_{uuid.uuid4().hex}",
        "time_major": False,
        "go_backwards": go_backwards,
    }
    signature = [
        tf.TensorSpec([batch, None, features], tf.float32),
        tf.TensorSpec([batch, units], tf.float32),
        tf.TensorSpec([batch, units], tf.float32),
        tf.TensorSpec([features, 4 * units], tf.float32),
        tf.TensorSpec([units, 4 * units], tf.float32),
        tf.TensorSpec([4 * units], tf.float32),
    ]

    # The body only runs in TensorFlow; the converter discards it.
    @tf.function(input_signature=signature, experimental_attributes=attributes, autograph=False)
    def lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        x = tf.reverse(inputs, [1]) if go_backwards else inputs
        xw = tf.einsum("btf,fg->tbg", x, kernel) + bias

        def body(carry, z):
            h, c = carry
            i, f, g, o = tf.split(z + tf.matmul(h, recurrent_kernel), 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            return tf.sigmoid(o) * tf.tanh(c), c

        hs, cs = tf.scan(body, xw, (init_h, init_c))
        sequence = tf.transpose(hs, [1, 0, 2])
        return sequence[:, -1], sequence, hs[-1], cs[-1], tf.zeros([])

    return lstm


def _gates(x, h, kernel, recurrent_kernel, bias, which):
    """Pre-activations of the gates `which` (0 i, 1 f, 2 c, 3 o) at every step.

    Gate by gate, with each gate's own slice of the weights: the slices are
    the constants the fused op holds, so they are stored once.
    """
    units = recurrent_kernel.shape[0]
    parts = []
    for k in which:
        cut = slice(k * units, (k + 1) * units)
        parts.append(
            tf.einsum("btf,fg->btg", x, kernel[:, cut])
            + tf.einsum("btu,ug->btg", h, recurrent_kernel[:, cut])
            + bias[cut]
        )
    return parts


def _final_cell_state(x, sequence, h0, c0, kernel, recurrent_kernel, bias):
    """The last cell state of an LSTM, from its inputs and output sequence."""
    h_prev = tf.concat([h0[:, None], sequence[:, :-1]], axis=1)
    i, f, g = _gates(x, h_prev, kernel, recurrent_kernel, bias, (0, 1, 2))
    log_f = tf.math.log(tf.sigmoid(f))
    after = tf.math.cumsum(log_f, axis=1, exclusive=True, reverse=True)
    c = tf.reduce_sum(tf.exp(after) * tf.sigmoid(i) * tf.tanh(g), axis=1)
    return c + tf.exp(tf.reduce_sum(log_f, axis=1)) * c0


def _fused_lstm(layer, x, states):
    """(sequence in processing order, [h, c]) through the fused op (int8 exports)."""
    kernel, recurrent_kernel, bias = _weights(layer)
    function = _fused_lstm_function(x.shape[0], x.shape[-1], layer.cell.units, layer.go_backwards)
    h0, c0 = states
    last, sequence, *_ = function(x, h0, c0, kernel, recurrent_kernel, bias)
    ordered = tf.reverse(x, [1]) if layer.go_backwards else x
    c = _final_cell_state(ordered, sequence, h0, c0, kernel, recurrent_kernel, bias)
    return sequence, [last, c]


def _cell_once(layer, x, states):
    if is_plain_lstm(layer):
        kernel, recurrent_kernel, bias = _weights(layer)
        # The bias next to the recurrent product: the converter folds it into that op.
        z = tf.matmul(states[0], recurrent_kernel) + bias + tf.matmul(x[:, 0], kernel)
        h, c = _lstm_update(z, states[1])
        return h[:, None], [h, c]
    out, new_states = layer.cell(x[:, 0], states, training=False)
    return out[:, None], tf.nest.flatten(new_states)


def _loop(x, states, step, units, keep):
    """`step(t, states) -> (output, states)` over every step of `x` in a `WHILE` loop.

    With `keep` the loop gathers every output (in processing order);
    otherwise it carries the last one alone.
    """
    steps = tf.shape(x)[1]
    outputs = tf.zeros([x.shape[0], 0 if keep else 1, units], tf.float32)

    def body(t, outputs, *states):
        out, new_states = step(t, list(states))
        outputs = tf.concat([outputs, out[:, None]], 1) if keep else out[:, None]
        return (t + 1, outputs, *new_states)

    _, outputs, *states = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), outputs, *states),
        shape_invariants=(
            tf.TensorShape([]),
            tf.TensorShape([x.shape[0], None if keep else 1, units]),
            *[s.shape for s in states],
        ),
    )
    return outputs, states


def _lstm_loop(layer, x, states, keep):
    """A plain LSTM: the input projection of every step at once, then the recurrence."""
    kernel, recurrent_kernel, bias = _weights(layer)
    projected = tf.einsum("btf,fg->btg", x, kernel) + bias
    if layer.go_backwards:
        projected = tf.reverse(projected, [1])

    def step(t, states):
        h, c = _lstm_update(tf.gather(projected, t, axis=1) + tf.matmul(states[0], recurrent_kernel), states[1])
        return h, [h, c]

    return _loop(x, states, step, layer.cell.units, keep)


def _cell_loop(layer, x, states, keep):
    """Any cell, called once per step."""
    steps = tf.shape(x)[1]

    def step(t, states):
        index = steps - 1 - t if layer.go_backwards else t
        out, new_states = layer.cell(tf.gather(x, index, axis=1), states, training=False)
        return out, tf.nest.flatten(new_states)

    return _loop(x, states, step, layer.cell.output_size, keep)


def _run_direction(layer, x, states, keep, fused=False):
    """One recurrent layer: (outputs in processing order, final states)."""
    x = tf.cast(x, tf.float32)
    states = [tf.cast(s, tf.float32) for s in states] if states else _zero_states(layer, x)
    if x.shape[1] == 1:
        return _cell_once(layer, x, states)
    keep = keep and layer.return_sequences
    if is_plain_lstm(layer):
        return _fused_lstm(layer, x, states) if fused else _lstm_loop(layer, x, states, keep)
    return _cell_loop(layer, x, states, keep)


def _layer_result(layer, sequence, states, reverse_back):
    if layer.return_sequences:
        output = tf.reverse(sequence, [1]) if reverse_back else sequence
    else:
        output = sequence[:, -1]
    return output, states


def _recurrent(layer, x, initial_state=None, keep=True, fused=False):
    sequence, states = _run_direction(layer, x, initial_state, keep, fused)
    output, states = _layer_result(layer, sequence, states, reverse_back=False)
    return [output, *states] if layer.return_state else output


def _bidirectional(layer, x, initial_state=None, keep=True, fused=False):
    forward, backward = layer.forward_layer, layer.backward_layer
    half = len(initial_state) // 2 if initial_state else 0
    fw_seq, fw_states = _run_direction(forward, x, initial_state[:half] if half else None, keep, fused)
    bw_seq, bw_states = _run_direction(backward, x, initial_state[half:] if half else None, keep, fused)
    fw_out, _ = _layer_result(forward, fw_seq, fw_states, False)
    # The backward layer's sequence runs in reverse time; put it back in order.
    bw_out, _ = _layer_result(backward, bw_seq, bw_states, True)
    mode = layer.merge_mode
    if mode == "concat":
        output = tf.concat([fw_out, bw_out], -1)
    elif mode == "sum":
        output = fw_out + bw_out
    elif mode == "ave":
        output = (fw_out + bw_out) / 2
    elif mode == "mul":
        output = fw_out * bw_out
    else:
        output = [fw_out, bw_out]
    output = output if isinstance(output, list) else [output]
    if layer.return_state:
        return [*output, *fw_states, *bw_states]
    return output if len(output) > 1 else output[0]


def _sequences_read(model):
    """The layers of `model` whose first output (the sequence) something reads."""
    read = {id(t) for t in model.outputs}
    for nodes in model._nodes_by_depth.values():
        read.update(id(t) for node in nodes for t in node.input_tensors)
    return {
        id(node.operation)
        for nodes in model._nodes_by_depth.values()
        for node in nodes
        if node.operation is not None and node.output_tensors and id(node.output_tensors[0]) in read
    }


def _operation(op, read, fused):
    keep = id(op) in read
    if isinstance(op, keras.layers.Bidirectional):
        return lambda x, initial_state=None, **_: _bidirectional(op, x, initial_state, keep, fused)
    if isinstance(op, keras.layers.RNN):
        return lambda x, initial_state=None, **_: _recurrent(op, x, initial_state, keep, fused)
    if isinstance(op, keras.Model):
        return lambda *args, **kwargs: lite_call(op, *args, fused_lstm=fused)
    if isinstance(op, keras.layers.Layer):
        return lambda *args, **kwargs: op(*args, **{**kwargs, "training": False})
    return op


def lite_call(model, inputs, fused_lstm=False):
    """Runs a functional `model` on `inputs` with TFLite-friendly recurrent layers.

    With `fused_lstm` a plain LSTM over a sequence becomes TFLite's fused LSTM
    op, the one form whose weights and activations int8 quantization can
    calibrate (TensorFlow's calibrator crashes on a `WHILE` loop).
    """
    read = _sequences_read(model)
    outputs = model._run_through_graph(inputs, operation_fn=lambda op: _operation(op, read, fused_lstm))
    if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
        return outputs[0]
    return outputs
