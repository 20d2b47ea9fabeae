"""Fused loops of the plain LSTM and GRU for the TensorFlow backend.

Both loops take the input projection of every step as one matmul before the
loop. Their gradient is written by hand: wherever a gradient may be taken
(`wants_gradient`), the forward loop records each step's gate values
(TensorArray writes, which copy nothing), the
backward loop forms each step's gate gradients from them next to its one
recurrent matmul, and the weight gradients are one matmul over all steps after
it. On CPU the recurrent matmuls dominate; what else costs is whole-sequence
copies (concatenating, stacking, splitting `(timesteps, batch, k * units)`
tensors), so the loops avoid them: steps read the projection in place
(`xw[t]`), which is cheap here because no autodiff runs through these loops
(it would make autodiff's backward pass quadratic in the sequence length).

Where the sequence length is fixed when the layer is traced (windows of a
language model, inputs padded to one length), the trainable loops run
compiled by XLA (`compiled=True`): XLA fuses each step's elementwise ops and
runs the loop without the graph executor's per-op cost (1.07x to 1.19x on
CPU at batch 64 and 256 units, no gain at batch 20 and 400 units:
`benchmarks/layers_speed.py`). XLA compiles once per shape, so lengths that
change from batch to batch keep the plain loops; only the batch size is left
to vary (usually two sizes, the full batch and the last).

Tensors inside are time-major: `(timesteps, batch, features)`. `mask` is
`None` or a boolean `(timesteps, batch, 1)` tensor; a masked step keeps the
state, as in `keras.layers.RNN`.
"""

import functools

import tensorflow as tf
from tensorflow.python.eager import record as tape


def wants_gradient(training):
    """Whether to run the loop with the hand-written gradient.

    Training always does; otherwise it is whether a gradient tape may be
    recording, as under `tf.GradientTape()` in a custom loop that calls the
    layer with the default `training=False`. Without it the gradient would be
    TensorFlow's autodiff of the forward loop, about 1.3x slower.
    """
    return bool(training) or tape.could_possibly_record()


def _loop(body, steps, state, reverse=False):
    t0 = steps - 1 if reverse else tf.constant(0)

    def cond(t, *_):
        return t >= 0 if reverse else t < steps

    def step(t, *state):
        return (t - 1 if reverse else t + 1, *body(t, *state))

    # The bound lets XLA size the loop's buffers.
    return tf.while_loop(cond, step, (t0, *state), maximum_iterations=steps)[1:]


def _xla(function):
    """`function` compiled by XLA; module-level, so that layers share compiled shapes."""
    return tf.function(function, jit_compile=True, autograph=False)


def _loops(recorded, backward):
    """`{compiled: (forward, backward)}`: the plain loops, and both compiled by XLA.

    The compiled forward returns its recorded values stacked, as tensors
    cannot leave XLA as TensorArrays.
    """

    @_xla
    def compiled(*args):
        *outputs, record = recorded(*args)
        return (*outputs, [ta.stack() for ta in record])

    return {False: (recorded, backward), True: (compiled, _xla(backward))}


def _reads(record):
    """Per-step readers of recorded values: TensorArrays, or stacked tensors (XLA)."""
    return [r.read if isinstance(r, tf.TensorArray) else r.__getitem__ for r in record]


def _transposed(u):
    # Transposed once here: a small per-step MatMul with `transpose_b=True`
    # ran about 2.4x slower on CPU than the same product with `u.T` in memory.
    return tf.transpose(u)


def _time_major(xw, bias, like):
    """The flat input projection plus `bias`, as `(timesteps, batch, gates)`.

    The bias is added before the reshape, where the MatMul and BiasAdd fuse
    into one op on CPU.
    """
    if bias is not None:
        xw = tf.nn.bias_add(xw, bias)
    return tf.reshape(xw, [-1, tf.shape(like)[0], xw.shape[-1]])


def _tas(like, count, steps):
    return [
        tf.TensorArray(like.dtype, size=steps, element_shape=like.shape) for _ in range(count)
    ]


def _recurrent_gradient(hs, h0, d_gates):
    """`sum_t h_{t-1}^T d_gates_t` as two matmuls, without copying `hs` shifted."""
    units, width = hs.shape[-1], d_gates.shape[-1]
    later = tf.matmul(
        tf.reshape(hs[:-1], [-1, units]), tf.reshape(d_gates[1:], [-1, width]), transpose_a=True
    )
    return later + tf.matmul(h0, d_gates[0], transpose_a=True)


def _lstm_forward(xw, h0, c0, u, mask, record):
    """The loop; with `record` it also keeps, per step, what the backward loop reads.

    Steps read `xw[t]` in place: this loop is never differentiated by
    autodiff when recording, and unstacking `xw` first copies it whole.
    """
    steps = tf.shape(xw)[0]
    # hs, then (recorded) the gates i, f, g, o, tanh(c) and the previous c.
    tas = _tas(h0, 7 if record else 1, steps)

    def body(t, h, c, *tas):
        z = xw[t] + tf.matmul(h, u)
        i, f, g, o = tf.split(z, 4, axis=1)
        i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
        c_new = f * c + i * g
        tc = tf.tanh(c_new)
        h_new = o * tc
        if mask is not None:
            m = mask[t]
            h_new, c_new = tf.where(m, h_new, h), tf.where(m, c_new, c)
        values = (h_new, i, f, g, o, tc, c)[: len(tas)]
        return (h_new, c_new, *(ta.write(t, v) for ta, v in zip(tas, values)))

    h, c, hs_ta, *record_tas = _loop(body, steps, (h0, c0, *tas))
    return h, c, hs_ta.stack(), record_tas


def lstm_forward(xw, h0, c0, u, bias, mask):
    """Plain LSTM over the flat projection `xw = x W`: all `h`, the last `h` and `c`."""
    h, c, hs, _ = _lstm_forward(_time_major(xw, bias, h0), h0, c0, u, mask, record=False)
    return hs, h, c


def lstm_trainable(xw, h0, c0, u, bias, mask, compiled=False):
    """`lstm_forward` with the hand-written gradient; `compiled`: both loops by XLA."""
    xw = _time_major(xw, bias, h0)
    forward, backward = _LSTM_LOOPS[compiled]

    @tf.custom_gradient
    def run(xw, h0, c0, u):
        # The tape records the custom gradient, not the loop (eager tapes would).
        with tape.stop_recording():
            h_last, c_last, hs, saved = forward(xw, h0, c0, u, mask)

        def grad(d_hs, d_h_last, d_c_last):
            d_hs, d_h_last, d_c_last = (
                _zeros_if_none(d, like) for d, like in ((d_hs, hs), (d_h_last, h0), (d_c_last, c0))
            )
            return backward(saved, hs, h0, c0, u, d_hs, d_h_last, d_c_last, mask)

        return (hs, h_last, c_last), grad

    return run(xw, h0, c0, u)


def _zeros_if_none(d, like):
    return tf.zeros_like(like) if d is None else d


def _lstm_backward(record, hs, h0, c0, u, d_hs, d_h_last, d_c_last, mask):
    """Gradients w.r.t. the input projection, `h0`, `c0` and `u`.

    `d_hs`, `d_h_last` and `d_c_last` are the incoming gradients (zeros, not
    `None`, where nothing depends on an output).

    Each step's gate gradients come from the values the forward loop
    recorded, inside the loop: that reads cache-warm tensors instead of
    sweeping whole sequences several times before and after it. The
    gradient of the final `h` starts the loop's carry, which adds it to the
    last step's output gradient.
    """
    i_at, f_at, g_at, o_at, tc_at, c_prev_at = _reads(record)
    steps = tf.shape(hs)[0]
    u_t = _transposed(u)

    def body(t, dh, dc, dz_ta):
        i, f, g, o, tc = i_at(t), f_at(t), g_at(t), o_at(t), tc_at(t)
        dh = dh + d_hs[t]
        dc_step = dc + dh * o * (1 - tc * tc)
        dz = tf.concat(
            [
                dc_step * g * i * (1 - i),
                dc_step * c_prev_at(t) * f * (1 - f),
                dc_step * i * (1 - g * g),
                dh * tc * o * (1 - o),
            ],
            1,
        )
        dc_prev = dc_step * f
        if mask is not None:
            # A masked step copies both states: the gradient passes it untouched.
            m = mask[t]
            dz = tf.where(m, dz, tf.zeros_like(dz))
            dc_prev = tf.where(m, dc_prev, dc)
            dh_prev = tf.matmul(dz, u_t) + tf.where(m, tf.zeros_like(dh), dh)
        else:
            dh_prev = tf.matmul(dz, u_t)
        return dh_prev, dc_prev, dz_ta.write(t, dz)

    dz_ta = tf.TensorArray(hs.dtype, size=steps)
    dh0, dc0, dz_ta = _loop(body, steps, (d_h_last, d_c_last, dz_ta), reverse=True)
    dz = dz_ta.stack()
    return dz, dh0, dc0, _recurrent_gradient(hs, h0, dz)


_LSTM_LOOPS = _loops(functools.partial(_lstm_forward, record=True), _lstm_backward)


def run_time_major(core, sequences, initial_state, kernel, recurrent_kernel, bias,
                   mask, go_backwards, zero_output_for_mask):
    """Runs a fused `core` on batch-major `sequences` like `keras.layers.RNN`.

    Returns `(last_output, outputs, states)` with the outputs in processing
    order, as `keras.layers.RNN.inner_loop` does. The last output is read
    time-major, so a layer that returns only it never transposes the
    sequence back.
    """
    x = tf.transpose(sequences, [1, 0, 2])
    if mask is not None:
        mask = tf.transpose(tf.cast(mask, tf.bool), [1, 0])[..., None]
    if go_backwards:
        x = tf.reverse(x, [0])
        mask = None if mask is None else tf.reverse(mask, [0])
    xw = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), kernel)
    hs, *states = core(xw, *initial_state, recurrent_kernel, bias, mask)
    if mask is not None:
        # Keras repeats the previous output at a masked step, zeros before the first real one.
        shown = mask if zero_output_for_mask else tf.cumsum(tf.cast(mask, tf.int32), 0) > 0
        hs = tf.where(shown, hs, tf.zeros_like(hs))
    return hs[-1], tf.transpose(hs, [1, 0, 2]), list(states)


def _gru_split_bias(bias, units):
    if bias is None:
        return None, None
    # Keras's GRU bias is (2, 3 * units): input bias, recurrent bias. The
    # recurrent z and r biases fold into the input side; only the h part
    # stays inside the reset product.
    zeros = tf.zeros([units], bias.dtype)
    return bias[0] + tf.concat([bias[1][: 2 * units], zeros], 0), bias[1][2 * units:]


def _gru_forward(xw, h0, u, rec_bias, mask, record):
    """The loop; with `record` it also keeps, per step, what the backward loop reads."""
    steps = tf.shape(xw)[0]
    units = h0.shape[-1]
    # hs, then (recorded) z, r, the candidate, h_prev - candidate and h U_h + b_rh.
    tas = _tas(h0, 6 if record else 1, steps)

    def body(t, h, *tas):
        x_zr, x_h = tf.split(xw[t], [2 * units, units], axis=1)
        rec_zr, rec_h = tf.split(tf.matmul(h, u), [2 * units, units], axis=1)
        if rec_bias is not None:
            rec_h = rec_h + rec_bias
        z, r = tf.split(tf.sigmoid(x_zr + rec_zr), 2, axis=1)
        candidate = tf.tanh(x_h + r * rec_h)
        gap = h - candidate
        h_new = candidate + z * gap
        if mask is not None:
            h_new = tf.where(mask[t], h_new, h)
        values = (h_new, z, r, candidate, gap, rec_h)[: len(tas)]
        return (h_new, *(ta.write(t, v) for ta, v in zip(tas, values)))

    h, hs_ta, *record_tas = _loop(body, steps, (h0, *tas))
    return h, hs_ta.stack(), record_tas


def gru_forward(xw, h0, u, bias, mask):
    """Plain GRU (`reset_after=True`) over the flat projection `xw = x W`: all `h` and the last `h`."""
    in_bias, rec_bias = _gru_split_bias(bias, h0.shape[-1])
    h, hs, _ = _gru_forward(_time_major(xw, in_bias, h0), h0, u, rec_bias, mask, record=False)
    return hs, h


def gru_trainable(xw, h0, u, bias, mask, compiled=False):
    """`gru_forward` with the hand-written gradient; `compiled`: both loops by XLA."""
    in_bias, rec_bias = _gru_split_bias(bias, h0.shape[-1])
    xw = _time_major(xw, in_bias, h0)
    recorded, backward = _GRU_LOOPS[compiled]

    def forward(xw, h0, u, rec_bias=None):
        # The tape records the custom gradient, not the loop (eager tapes would).
        with tape.stop_recording():
            h_last, hs, saved = recorded(xw, h0, u, rec_bias, mask)

        def grad(d_hs, d_h_last):
            d_hs, d_h_last = _zeros_if_none(d_hs, hs), _zeros_if_none(d_h_last, h0)
            grads = backward(saved, hs, h0, u, d_hs, d_h_last, mask)
            return grads if rec_bias is not None else grads[:3]

        return (hs, h_last), grad

    if rec_bias is None:
        return tf.custom_gradient(lambda xw, h0, u: forward(xw, h0, u))(xw, h0, u)
    return tf.custom_gradient(forward)(xw, h0, u, rec_bias)


def _gru_backward(record, hs, h0, u, d_hs, d_h_last, mask):
    """Gradients w.r.t. the input projection, `h0`, `u` and the recurrent h bias.

    `d_hs` and `d_h_last` are the incoming gradients (zeros, not `None`).

    As for the LSTM, each step's gate gradients are formed inside the loop
    from the values the forward loop recorded, and the final `h`'s gradient
    starts the carry. The loop writes the input side's gradient whole per
    step, so no sequence-long concatenation follows it.
    """
    z_at, r_at, candidate_at, gap_at, rec_h_at = _reads(record)
    steps = tf.shape(hs)[0]
    u_t = _transposed(u)

    def body(t, dh, d_rec_ta, d_xw_ta):
        z, r, candidate = z_at(t), r_at(t), candidate_at(t)
        dh = dh + d_hs[t]
        # d x_h; h U_h + b_rh gets it times r, and r gets it times h U_h + b_rh.
        d_xh = dh * (1 - z) * (1 - candidate * candidate)
        d_rec_h = d_xh * r
        d_zr = tf.concat([dh * gap_at(t) * z * (1 - z), d_rec_h * (1 - r) * rec_h_at(t)], 1)
        carry = dh * z
        if mask is not None:
            # A masked step copies the state: the gradient passes it untouched.
            m = mask[t]
            d_zr = tf.where(m, d_zr, tf.zeros_like(d_zr))
            d_xh = tf.where(m, d_xh, tf.zeros_like(d_xh))
            d_rec_h = tf.where(m, d_rec_h, tf.zeros_like(d_rec_h))
            carry = tf.where(m, carry, dh)
        d_rec = tf.concat([d_zr, d_rec_h], 1)
        dh_prev = carry + tf.matmul(d_rec, u_t)
        return dh_prev, d_rec_ta.write(t, d_rec), d_xw_ta.write(t, tf.concat([d_zr, d_xh], 1))

    tas = [tf.TensorArray(hs.dtype, size=steps) for _ in range(2)]
    dh0, d_rec_ta, d_xw_ta = _loop(body, steps, (d_h_last, *tas), reverse=True)
    d_rec = d_rec_ta.stack()
    units = hs.shape[-1]
    d_rec_bias = tf.reduce_sum(d_rec, [0, 1])[2 * units:]
    return d_xw_ta.stack(), dh0, _recurrent_gradient(hs, h0, d_rec), d_rec_bias


_GRU_LOOPS = _loops(functools.partial(_gru_forward, record=True), _gru_backward)
