"""Linear recurrence scans: `h_t = a_t * h_{t-1} + b_t` over a whole sequence.

The minimal RNN layers (`kerasrnn.layers.min_rnn`) run their recurrence here.
"""

import tensorflow as tf


def _sequential(a, b, h0, reverse=False):
    return tf.scan(
        lambda h, ab: ab[0] * h + ab[1], (a, b), initializer=h0, reverse=reverse
    )


def _parallel(a, b, h0, reverse=False):
    if reverse:
        a, b = tf.reverse(a, [0]), tf.reverse(b, [0])
    # Folding h0 into the first input lets the scan start from zero.
    b = tf.concat([b[:1] + a[:1] * h0[None], b[1:]], axis=0)
    steps = tf.range(tf.shape(a)[0])

    def double(shift, a, b):
        # Hillis-Steele: compose each step with the one `shift` earlier; the
        # first `shift` steps have none and compose with the identity (1, 0).
        # A gather and a mask, not a slice, keep the shapes static for XLA.
        earlier = tf.maximum(steps - shift, 0)
        has_earlier = (steps >= shift)[:, None, None]
        b = b + a * tf.where(has_earlier, tf.gather(b, earlier), 0.0)
        a = a * tf.where(has_earlier, tf.gather(a, earlier), 1.0)
        return shift * 2, a, b

    _, _, h = tf.while_loop(
        lambda shift, a, b: shift < tf.shape(a)[0], double, (1, a, b)
    )
    return tf.reverse(h, [0]) if reverse else h


def linear_recurrence(a, b, h0, parallel=False):
    """Returns all `h_t = a_t * h_{t-1} + b_t` along axis 0, from `h0`.

    `a` and `b` are time-major `(steps, batch, units)`. The gradient is
    itself a reversed linear recurrence, so it is computed by the same scan
    instead of differentiating through the loop; that keeps the backward pass
    as cheap as the forward one and stores nothing but `h`.

    Args:
        a: Decay at each step.
        b: Input at each step.
        h0: State before the first step, `(batch, units)`.
        parallel: Use an associative scan (log-depth, more work) instead
            of a step-by-step loop.
    """
    run = _parallel if parallel else _sequential

    @tf.custom_gradient
    def scan(a, b, h0):
        h = run(a, b, h0)

        def grad(dh):
            dh = tf.reshape(dh, tf.shape(h))
            a_next = tf.concat([a[1:], tf.zeros_like(a[:1])], axis=0)
            db = run(a_next, dh, tf.zeros_like(h0), reverse=True)
            h_prev = tf.concat([h0[None], h[:-1]], axis=0)
            return db * h_prev, db, a[0] * db[0]

        return h, grad

    return scan(a, b, h0)


def parallel_pays():
    """Whether the associative scan beats the loop: only on an accelerator."""
    return bool(tf.config.list_logical_devices("GPU"))
