"""Fused loops of the plain LSTM and GRU for the TensorFlow backend.

Both loops take the input projection of every step as one matmul before the
loop and keep as few ops per step as possible. Their gradient is written by
hand: the backward loop does only the recurrent matmul of each step, and the
weight gradients are one matmul over all steps after it. Per-step op overhead,
not arithmetic, dominates small recurrent models on CPU, in both directions.

Tensors inside are time-major: `(timesteps, batch, features)`. `mask` is
`None` or a boolean `(timesteps, batch, 1)` tensor; a masked step keeps the
state, as in `keras.layers.RNN`.
"""

import tensorflow as tf


def _unstack(x):
    return tf.TensorArray(x.dtype, size=tf.shape(x)[0], infer_shape=True).unstack(x)


def _loop(body, steps, state, reverse=False):
    t0 = steps - 1 if reverse else tf.constant(0)

    def cond(t, *_):
        return t >= 0 if reverse else t < steps

    def step(t, *state):
        return (t - 1 if reverse else t + 1, *body(t, *state))

    return tf.while_loop(cond, step, (t0, *state))[1:]


def _previous(seq, first):
    """The sequence shifted one step later in time, starting with `first`."""
    return tf.concat([first[None], seq[:-1]], axis=0)


def _lstm_forward(xw, h0, c0, u, mask):
    steps = tf.shape(xw)[0]
    xw_ta = _unstack(xw)
    mask_ta = None if mask is None else _unstack(mask)
    shapes = [h0.shape, c0.shape, xw.shape[1:]]
    tas = [tf.TensorArray(xw.dtype, size=steps, element_shape=shape) for shape in shapes]

    def body(t, h, c, h_ta, c_ta, z_ta):
        z = xw_ta.read(t) + tf.matmul(h, u)
        i, f, g, o = tf.split(z, 4, axis=1)
        c_new = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h_new = tf.sigmoid(o) * tf.tanh(c_new)
        if mask_ta is not None:
            m = mask_ta.read(t)
            h_new, c_new = tf.where(m, h_new, h), tf.where(m, c_new, c)
        return h_new, c_new, h_ta.write(t, h_new), c_ta.write(t, c_new), z_ta.write(t, z)

    h, c, *tas = _loop(body, steps, (h0, c0, *tas))
    return h, c, *(ta.stack() for ta in tas)


def lstm_forward(xw, h0, c0, u, bias, mask):
    """Plain LSTM over `xw = x W`: returns all `h`, the last `h` and `c`."""
    if bias is not None:
        xw = xw + bias
    h, c, hs, _, _ = _lstm_forward(xw, h0, c0, u, mask)
    return hs, h, c


def lstm_trainable(xw, h0, c0, u, bias, mask):
    """`lstm_forward` with the hand-written gradient."""
    if bias is not None:
        xw = xw + bias

    @tf.custom_gradient
    def run(xw, h0, c0, u):
        h_last, c_last, hs, cs, zs = _lstm_forward(xw, h0, c0, u, mask)

        def grad(d_hs, d_h_last, d_c_last):
            return _lstm_backward(hs, cs, zs, h0, c0, u, d_hs, d_h_last, d_c_last, mask)

        return (hs, h_last, c_last), grad

    return run(xw, h0, c0, u)


def _with_last(d_hs, d_last):
    """Adds the gradient of the final state to the last step's output gradient."""
    if d_last is None:
        return d_hs
    return d_hs + tf.pad(d_last[None], [[tf.shape(d_hs)[0] - 1, 0], [0, 0], [0, 0]])


def _lstm_backward(hs, cs, zs, h0, c0, u, d_hs, d_h_last, d_c_last, mask):
    """Gradients w.r.t. the input projection, `h0`, `c0` and `u`."""
    i, f, g, o = tf.split(zs, 4, axis=-1)
    i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
    tc = tf.tanh(cs)
    # d z = [dc, dc, dc, dh] * q, and dc gains dh * k through h = o tanh(c).
    q = tf.concat(
        [g * i * (1 - i), _previous(cs, c0) * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)],
        axis=-1,
    )
    k = o * (1 - tc * tc)
    keep_c = f
    keep_h = tf.zeros_like(f)
    if mask is not None:
        m = tf.cast(mask, q.dtype)
        q, k = q * m, k * m
        keep_c = tf.where(mask, f, tf.ones_like(f))
        keep_h = tf.broadcast_to(1 - m, tf.shape(f))
    units = hs.shape[-1]
    parts = [q, k, keep_c, _with_last(d_hs, d_h_last)]
    if mask is not None:
        parts.append(keep_h)
    packed_ta = _unstack(tf.concat(parts, -1))
    sizes = [4 * units] + [units] * (len(parts) - 1)
    dz_ta = tf.TensorArray(hs.dtype, size=tf.shape(hs)[0])

    def body(t, dh, dc, dz_ta):
        q_t, k_t, keep_c_t, d_out, *keep_h_t = tf.split(packed_ta.read(t), sizes, axis=-1)
        dh = dh + d_out
        dc = dc + dh * k_t
        dz = tf.concat([dc, dc, dc, dh], 1) * q_t
        dh_prev = tf.matmul(dz, u, transpose_b=True)
        if keep_h_t:
            dh_prev = dh_prev + dh * keep_h_t[0]
        return dh_prev, dc * keep_c_t, dz_ta.write(t, dz)

    dc_last = tf.zeros_like(c0) if d_c_last is None else d_c_last
    dh0, dc0, dz_ta = _loop(body, tf.shape(hs)[0], (tf.zeros_like(h0), dc_last, dz_ta), reverse=True)
    dz = dz_ta.stack()
    h_prev = tf.reshape(_previous(hs, h0), [-1, units])
    du = tf.matmul(h_prev, tf.reshape(dz, [-1, 4 * units]), transpose_a=True)
    return dz, dh0, dc0, du


def run_time_major(core, sequences, initial_state, kernel, recurrent_kernel, bias,
                   mask, go_backwards, zero_output_for_mask):
    """Runs a fused `core` on batch-major `sequences` like `keras.layers.RNN`.

    Returns `(last_output, outputs, states)` with the outputs in processing
    order, as `keras.layers.RNN.inner_loop` does.
    """
    x = tf.transpose(sequences, [1, 0, 2])
    if mask is not None:
        mask = tf.transpose(tf.cast(mask, tf.bool), [1, 0])[..., None]
    if go_backwards:
        x = tf.reverse(x, [0])
        mask = None if mask is None else tf.reverse(mask, [0])
    steps, batch = tf.shape(x)[0], tf.shape(x)[1]
    xw = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), kernel)
    xw = tf.reshape(xw, [steps, batch, kernel.shape[-1]])
    hs, *states = core(xw, *initial_state, recurrent_kernel, bias, mask)
    if mask is not None:
        # Keras repeats the previous output at a masked step, zeros before the first real one.
        shown = mask if zero_output_for_mask else tf.cumsum(tf.cast(mask, tf.int32), 0) > 0
        hs = tf.where(shown, hs, tf.zeros_like(hs))
    outputs = tf.transpose(hs, [1, 0, 2])
    return outputs[:, -1], outputs, list(states)


def _gru_split_bias(bias, units):
    if bias is None:
        return None, None
    # Keras's GRU bias is (2, 3 * units): input bias, recurrent bias. The
    # recurrent z and r biases fold into the input side; only the h part
    # stays inside the reset product.
    zeros = tf.zeros([units], bias.dtype)
    return bias[0] + tf.concat([bias[1][: 2 * units], zeros], 0), bias[1][2 * units:]


def _gru_forward(xw, h0, u, rec_bias, mask):
    steps = tf.shape(xw)[0]
    units = h0.shape[-1]
    xw_ta = _unstack(xw)
    mask_ta = None if mask is None else _unstack(mask)
    out_ta = tf.TensorArray(xw.dtype, size=steps, element_shape=[h0.shape[0], 5 * units])

    def body(t, h, out_ta):
        x_zr, x_h = tf.split(xw_ta.read(t), [2 * units, units], axis=1)
        rec_zr, rec_h = tf.split(tf.matmul(h, u), [2 * units, units], axis=1)
        if rec_bias is not None:
            rec_h = rec_h + rec_bias
        z, r = tf.split(tf.sigmoid(x_zr + rec_zr), 2, axis=1)
        candidate = tf.tanh(x_h + r * rec_h)
        h_new = candidate + z * (h - candidate)
        if mask_ta is not None:
            h_new = tf.where(mask_ta.read(t), h_new, h)
        return h_new, out_ta.write(t, tf.concat([h_new, z, r, candidate, rec_h], 1))

    h, out_ta = _loop(body, steps, (h0, out_ta))
    return h, out_ta.stack()


def gru_forward(xw, h0, u, bias, mask):
    """Plain GRU (`reset_after=True`) over `xw = x W`: all `h` and the last `h`."""
    in_bias, rec_bias = _gru_split_bias(bias, h0.shape[-1])
    if in_bias is not None:
        xw = xw + in_bias
    h, packed = _gru_forward(xw, h0, u, rec_bias, mask)
    return packed[..., : h0.shape[-1]], h


def gru_trainable(xw, h0, u, bias, mask):
    """`gru_forward` with the hand-written gradient."""
    units = h0.shape[-1]
    in_bias, rec_bias = _gru_split_bias(bias, units)
    if in_bias is not None:
        xw = xw + in_bias
    if rec_bias is None:
        return _gru_trainable(xw, h0, u, mask)
    return _gru_trainable_bias(xw, h0, u, rec_bias, mask)


def _gru_backward(hs, z, r, candidate, rec_h, h0, u, d_hs, d_h_last, mask):
    """Gradients w.r.t. the input projection, `h0`, `u` and the recurrent h bias."""
    h_prev = _previous(hs, h0)
    # With e = (1 - z)(1 - candidate^2): d x_h = dh e, d rec = dh [ez, er, e r].
    e = (1 - z) * (1 - candidate * candidate)
    ez = (h_prev - candidate) * z * (1 - z)
    er = e * rec_h * r * (1 - r)
    carry = z
    if mask is not None:
        m = tf.cast(mask, hs.dtype)
        e, ez, er = e * m, ez * m, er * m
        carry = tf.where(mask, z, tf.ones_like(z))
    q = tf.concat([ez, er, e * r], -1)
    packed_ta = _unstack(tf.concat([q, carry, _with_last(d_hs, d_h_last)], -1))
    sizes = [3 * hs.shape[-1], hs.shape[-1], hs.shape[-1]]
    dh_ta = tf.TensorArray(hs.dtype, size=tf.shape(hs)[0])

    def body(t, dh, dh_ta):
        q_t, carry_t, d_out = tf.split(packed_ta.read(t), sizes, axis=-1)
        dh = dh + d_out
        d_rec = tf.concat([dh, dh, dh], 1) * q_t
        return dh * carry_t + tf.matmul(d_rec, u, transpose_b=True), dh_ta.write(t, dh)

    dh0, dh_ta = _loop(body, tf.shape(hs)[0], (tf.zeros_like(h0), dh_ta), reverse=True)
    dh = dh_ta.stack()
    d_rec = tf.concat([dh, dh, dh], -1) * q
    d_xw = tf.concat([d_rec[..., : 2 * hs.shape[-1]], dh * e], -1)
    flat = tf.reshape(h_prev, [-1, hs.shape[-1]])
    du = tf.matmul(flat, tf.reshape(d_rec, [-1, d_rec.shape[-1]]), transpose_a=True)
    d_rec_bias = tf.reduce_sum(d_rec[..., 2 * hs.shape[-1]:], [0, 1])
    return d_xw, dh0, du, d_rec_bias


def _gru_trainable(xw, h0, u, mask):
    @tf.custom_gradient
    def run(xw, h0, u):
        h_last, packed = _gru_forward(xw, h0, u, None, mask)
        hs, z, r, candidate, rec_h = tf.split(packed, 5, axis=-1)

        def grad(d_hs, d_h_last):
            return _gru_backward(hs, z, r, candidate, rec_h, h0, u, d_hs, d_h_last, mask)[:3]

        return (hs, h_last), grad

    return run(xw, h0, u)


def _gru_trainable_bias(xw, h0, u, rec_bias, mask):
    @tf.custom_gradient
    def run(xw, h0, u, rec_bias):
        h_last, packed = _gru_forward(xw, h0, u, rec_bias, mask)
        hs, z, r, candidate, rec_h = tf.split(packed, 5, axis=-1)

        def grad(d_hs, d_h_last):
            return _gru_backward(hs, z, r, candidate, rec_h, h0, u, d_hs, d_h_last, mask)

        return (hs, h_last), grad

    return run(xw, h0, u, rec_bias)
