"""Linear-chain conditional random field over per-token tag scores.

A tagger that picks each token's likeliest tag on its own can emit
sequences no data has (`O I-NP`, `B-NP I-VP`). A CRF scores the whole tag
sequence instead: the per-token scores (emissions) plus a learned score for
every tag-to-tag transition, for starting on a tag and for ending on one.
Training maximizes the log-probability of the gold sequence, normalized over
every sequence by the forward algorithm; decoding finds the best-scoring
sequence by Viterbi (Lafferty et al. 2001; Huang et al. 2015 put it on a
BiLSTM).

`CRF` is the layer that holds those transition weights. In the model it
passes the scores (and their mask) through unchanged, so a tagger's logits
stay its output; `CRFLoss` and `ViterbiAccuracy` train and score with it,
`viterbi_decode` decodes with its weights anywhere, NumPy arrays included,
and `crf_marginals` gives each token's tag probabilities.
"""

import keras
import tensorflow as tf


def _time_major(*tensors):
    return [tf.transpose(t, [1, 0] + list(range(2, t.shape.rank))) for t in tensors]


def _forward(scores, tags, mask, transitions, start):
    """The forward algorithm over the masked positions, scoring `tags` on the way.

    Returns `[batch, tags]` log-sums of every path into each last tag, the
    gold path's score so far, its last tag, and whether the row has a position.
    """
    scores = tf.cast(scores, tf.float32)
    s, y, m = _time_major(scores, tf.cast(tags, tf.int32), tf.cast(mask, tf.bool))
    batch, k = tf.shape(scores)[0], tf.shape(scores)[2]

    def step(carry, inputs):
        alpha, gold, prev, started = carry
        s_t, y_t, m_t = inputs
        moved = tf.reduce_logsumexp(alpha[:, :, None] + transitions, axis=1)
        alpha_t = tf.where(started[:, None], moved, start[None]) + s_t
        into = tf.where(started, tf.gather_nd(transitions, tf.stack([prev, y_t], 1)),
                        tf.gather(start, y_t))
        gold_t = gold + into + tf.gather(s_t, y_t, batch_dims=1)
        return (tf.where(m_t[:, None], alpha_t, alpha), tf.where(m_t, gold_t, gold),
                tf.where(m_t, y_t, prev), started | m_t)

    init = (tf.zeros([batch, k]), tf.zeros([batch]), tf.zeros([batch], tf.int32),
            tf.zeros([batch], tf.bool))
    return tf.foldl(step, (s, y, m), init)


def crf_log_likelihood(scores, tags, mask, transitions, start, end):
    """Log-probability of each row's tag sequence under the CRF.

    Args:
        scores: `[batch, steps, tags]` emission scores.
        tags: `[batch, steps]` int tag ids.
        mask: `[batch, steps]` bool; positions that are False are left out of
            the sequence (padding, or a token whose tag is unknown).
        transitions: `[tags, tags]`, the score of tag `j` after tag `i` at `[i, j]`.
        start, end: `[tags]` scores of the first and the last tag.

    Returns:
        `[batch]` float32: gold score minus the log-partition; 0 for a row
        with no position in the mask.
    """
    alpha, gold, prev, started = _forward(scores, tags, mask, transitions, start)
    log_z = tf.reduce_logsumexp(alpha + end, axis=-1)
    likelihood = gold + tf.gather(end, prev) - log_z
    return tf.where(started, likelihood, 0.0)


def crf_marginals(scores, lengths, transitions, start, end):
    """Each token's probability of each tag under the CRF, every tag sequence counted.

    The forward-backward marginals, taken as the gradient of the
    log-partition with respect to the scores; unlike a softmax of the scores
    alone they count the transitions, as the Viterbi path does.

    Args:
        scores: `[batch, steps, tags]` emission scores (array or tensor).
        lengths: `[batch]` how many leading steps of each row are real.
        transitions, start, end: the CRF's weights, as in `crf_log_likelihood`.

    Returns:
        `[batch, steps, tags]` float32; each real step sums to 1, steps past
        a row's length are 0.
    """
    scores = tf.cast(scores, tf.float32)
    transitions, start, end = (tf.cast(w, tf.float32) for w in (transitions, start, end))
    mask = tf.sequence_mask(lengths, tf.shape(scores)[1])
    with tf.GradientTape() as tape:
        tape.watch(scores)
        alpha, _, _, started = _forward(scores, tf.zeros_like(mask, tf.int32), mask, transitions, start)
        log_z = tf.where(started, tf.reduce_logsumexp(alpha + end, axis=-1), 0.0)
    return tape.gradient(log_z, scores)


def viterbi_decode(scores, lengths, transitions, start, end):
    """The best-scoring tag sequence of each row.

    Args:
        scores: `[batch, steps, tags]` emission scores (array or tensor).
        lengths: `[batch]` how many leading steps of each row are real.
        transitions, start, end: the CRF's weights, as in `crf_log_likelihood`.

    Returns:
        `[batch, steps]` int32 tag ids; steps past a row's length repeat its
        last tag.
    """
    scores = tf.cast(scores, tf.float32)
    transitions, start, end = (tf.cast(w, tf.float32) for w in (transitions, start, end))
    steps, k = tf.shape(scores)[1], tf.shape(scores)[2]
    s, valid = _time_major(scores, tf.sequence_mask(lengths, steps))
    identity = tf.broadcast_to(tf.range(k)[None], tf.shape(s[0]))

    def forward(carry, inputs):
        alpha, _ = carry
        s_t, valid_t = inputs
        moved = alpha[:, :, None] + transitions
        back = tf.argmax(moved, axis=1, output_type=tf.int32)
        alpha_t = tf.reduce_max(moved, axis=1) + s_t
        return tf.where(valid_t[:, None], alpha_t, alpha), tf.where(valid_t[:, None], back, identity)

    first = start + s[0]
    alphas, backs = tf.scan(forward, (s[1:], valid[1:]), (first, identity))
    last = tf.concat([first[None], alphas], 0)[-1] + end
    final = tf.argmax(last, axis=-1, output_type=tf.int32)
    earlier = tf.scan(lambda tag, back: tf.gather(back, tag, batch_dims=1), backs, final, reverse=True)
    return tf.transpose(tf.concat([earlier, final[None]], 0))


@keras.saving.register_keras_serializable(package="kerasrnn")
class CRF(keras.layers.Layer):
    """The transition weights of a linear-chain CRF over the incoming tag scores.

    The layer returns its input (and mask) unchanged; train with
    `CRFLoss(layer)` and decode with `layer.decode(scores, lengths)`.

    Example:

    >>> scores = keras.Input((None, 5))
    >>> crf = CRF()
    >>> model = keras.Model(scores, crf(scores))
    >>> tuple(crf.transitions.shape)
    (5, 5)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        tags = input_shape[-1]
        self.transitions = self.add_weight(shape=(tags, tags), initializer="zeros", name="transitions")
        self.start = self.add_weight(shape=(tags,), initializer="zeros", name="start")
        self.end = self.add_weight(shape=(tags,), initializer="zeros", name="end")

    def call(self, scores):
        return scores

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def weights_tuple(self):
        """(transitions, start, end) as float32 tensors."""
        return tuple(tf.cast(w.value, tf.float32) for w in (self.transitions, self.start, self.end))

    def log_likelihood(self, scores, tags, mask):
        return crf_log_likelihood(scores, tags, mask, *self.weights_tuple())

    def decode(self, scores, lengths):
        return viterbi_decode(scores, lengths, *self.weights_tuple())


def _valid(y_true):
    """Positions with a tag (id 0 is padding or a tag training never saw)."""
    return tf.cast(y_true, tf.int32) > 0


class CRFLoss(keras.losses.Loss):
    """Negative log-likelihood of the gold tag sequences under a `CRF` layer.

    Each row's loss is spread evenly over its tagged positions, so with the
    `mean_with_sample_weight` reduction the batch loss is nats per token, on
    the scale of the per-token cross-entropy it replaces.
    """

    def __init__(self, crf, name="crf_loss", reduction="mean_with_sample_weight"):
        super().__init__(name=name, reduction=reduction)
        self.crf = crf

    def call(self, y_true, y_pred):
        valid = _valid(y_true)
        nll = -self.crf.log_likelihood(y_pred, y_true, valid)
        tokens = tf.maximum(tf.reduce_sum(tf.cast(valid, tf.float32), axis=1), 1.0)
        return tf.where(valid, (nll / tokens)[:, None], 0.0)


class ViterbiAccuracy(keras.metrics.MeanMetricWrapper):
    """Token accuracy of the Viterbi-decoded tags (positions with tag id 0 not counted)."""

    def __init__(self, crf, name="accuracy", dtype=None):
        def matches(y_true, y_pred):
            valid = _valid(y_true)
            steps = tf.shape(valid)[1]
            # Up to the last tagged position, so a row's untagged inner tokens still chain.
            lengths = tf.reduce_max(tf.where(valid, tf.range(1, steps + 1)[None], 0), axis=1)
            best = crf.decode(y_pred, lengths)
            return tf.cast(best == tf.cast(y_true, tf.int32), tf.float32)

        super().__init__(matches, name=name, dtype=dtype)
