"""Sequence generation over a step function: greedy, sampling and beam search.

Every strategy drives the same contract, so it works alike on a Keras model,
an exported SavedModel or a LiteRT interpreter:

    step(tokens, states) -> (logits, states)

`tokens` is an int array [batch], `states` a list of float arrays [batch, n],
`logits` a float array [batch, vocab]. Decoding runs on the host in NumPy.
"""

import numpy as np


def _log_softmax(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def log_softmax(logits):
    """Log-probabilities from logits, along the last axis, in float64."""
    return _log_softmax(np.asarray(logits, np.float64))


def _trim(rows, eos_id):
    out = []
    for row in rows:
        row = list(row)
        out.append(row[: row.index(eos_id)] if eos_id in row else row)
    return out


def _generate(step, states, start_tokens, eos_id, max_length, choose):
    """Feeds each row's chosen token back until every row has stopped."""
    tokens = np.asarray(start_tokens, np.int32)
    done = np.zeros(len(tokens), bool)
    rows = []
    for _ in range(max_length):
        logits, states = step(tokens, states)
        tokens = choose(logits).astype(np.int32)
        tokens[done] = eos_id
        rows.append(tokens)
        done |= tokens == eos_id
        if done.all():
            break
    rows = np.stack(rows, axis=1) if rows else np.zeros((len(done), 0), np.int32)
    return _trim(rows.tolist(), eos_id)


def greedy(step, states, start_tokens, eos_id, max_length):
    """The likeliest token at every step, for a whole batch at once.

    Returns:
        One list of token ids per row, without the stop token.
    """
    return _generate(
        step, states, start_tokens, eos_id, max_length, lambda logits: np.argmax(logits, axis=-1)
    )


def filter_logits(logits, temperature=1.0, top_k=0, top_p=1.0):
    """Logits rescaled by temperature, keeping only the top-k / top-p tokens."""
    logits = np.asarray(logits, np.float64) / max(temperature, 1e-8)
    vocab = logits.shape[-1]
    if 0 < top_k < vocab:
        kth = -np.sort(-logits, axis=-1)[:, top_k - 1 : top_k]
        logits = np.where(logits < kth, -np.inf, logits)
    if top_p < 1.0:
        order = np.argsort(-logits, axis=-1, kind="stable")
        sorted_logits = np.take_along_axis(logits, order, axis=-1)
        probs = np.exp(_log_softmax(sorted_logits))
        # Keep each token whose preceding mass is still below top_p (the first always).
        drop_sorted = np.cumsum(probs, axis=-1) - probs >= top_p
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        logits = np.where(drop, -np.inf, logits)
    return logits


def sample(
    step,
    states,
    start_tokens,
    eos_id,
    max_length,
    temperature=1.0,
    top_k=0,
    top_p=1.0,
    seed=None,
):
    """Draws each next token from the (filtered) distribution; seeded.

    A temperature of 0 or top_k of 1 is greedy decoding.
    """
    if temperature == 0 or top_k == 1:
        return greedy(step, states, start_tokens, eos_id, max_length)
    rng = np.random.default_rng(seed)

    def choose(logits):
        probs = np.exp(_log_softmax(filter_logits(logits, temperature, top_k, top_p)))
        cum = np.cumsum(probs, axis=-1)
        draws = rng.random((len(probs), 1)) * cum[:, -1:]
        return np.minimum((cum < draws).sum(axis=-1), probs.shape[-1] - 1)

    return _generate(step, states, start_tokens, eos_id, max_length, choose)


def beam_search(
    step, states, start_token, eos_id, max_length, width=4, length_penalty=0.0
):
    """Beam search for one sequence (`states` hold a batch of one).

    Hypotheses are ranked by log-probability divided by length**length_penalty;
    a hypothesis ends when it emits the stop token. Width 1 is greedy decoding.

    Returns:
        (token ids without the stop token, normalized score) of the best one.
    """
    states = [np.asarray(s) for s in states]
    beams = [([], 0.0)]
    tokens = np.asarray([start_token], np.int32)
    finished = []

    def norm(score, length):
        return score / (max(length, 1) ** length_penalty)

    for t in range(max_length):
        logits, states = step(tokens, states)
        logp = _log_softmax(np.asarray(logits, np.float64))
        total = np.array([score for _, score in beams])[:, None] + logp
        flat = total.reshape(-1)
        best = np.argsort(-flat, kind="stable")[: width * 2]
        kept, rows = [], []
        for index in best:
            row, token = divmod(int(index), logp.shape[-1])
            hyp = beams[row][0] + [token]
            if token == eos_id:
                finished.append((hyp[:-1], norm(flat[index], len(hyp))))
            else:
                kept.append((hyp, float(flat[index])))
                rows.append(row)
            if len(kept) == width:
                break
        if len(finished) >= width or not kept:
            break
        best_live = max(norm(s, len(h)) for h, s in kept)
        if finished and length_penalty == 0 and max(s for _, s in finished) >= best_live:
            break
        beams = kept
        states = [s[rows] for s in states]
        tokens = np.asarray([h[-1] for h, _ in kept], np.int32)
    else:
        finished.extend((h, norm(s, len(h))) for h, s in beams)
    if not finished:
        finished = [(h, norm(s, len(h))) for h, s in beams]
    return max(finished, key=lambda pair: pair[1])
