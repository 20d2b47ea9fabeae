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


# Columns per block when `_candidates` bounds a row's best tokens.
_BLOCK = 64


def _candidates(logits, count):
    """Each row's `count` likeliest tokens (and a few more), with log-probabilities.

    A hypothesis's best extensions are among its own best tokens, so only
    these are ranked. They are found without sorting a row: the `count`-th
    largest of the row's block maxima (blocks of `_BLOCK` columns) is at most
    the row's `count`-th largest logit, so every token at or above it holds
    them. The log-probabilities are `log_softmax`'s, in float64; the
    normalizer sums exponentials computed in the logits' own precision.

    Returns:
        (row, token, log-probability) arrays, ordered by row, then token.
    """
    logits = np.asarray(logits)
    if logits.dtype not in (np.float32, np.float64):
        logits = logits.astype(np.float64)
    vocab = logits.shape[-1]
    top = logits.max(axis=-1, keepdims=True)
    shifted = np.subtract(logits, top)
    norm = np.log(np.exp(shifted, out=shifted).sum(axis=-1, dtype=np.float64))
    if count >= vocab:
        rows, tokens = np.divmod(np.arange(logits.size), vocab)
    else:
        bounds = np.maximum.reduceat(logits, np.arange(0, vocab, _BLOCK), axis=-1)
        if bounds.shape[-1] <= count:
            bounds = logits
        cut = np.partition(bounds, bounds.shape[-1] - count, axis=-1)[:, -count:].min(axis=-1, keepdims=True)
        rows, tokens = np.nonzero(logits >= cut)
    values = logits[rows, tokens].astype(np.float64) - top[rows, 0].astype(np.float64)
    return rows, tokens, values - norm[rows]


def beam_search_batch(
    step, states, start_tokens, eos_id, max_length, width=4, length_penalty=0.0
):
    """Beam search for every row of a batch at once: one `step` call per step.

    The live hypotheses of all rows still searching go through `step`
    together; each row is then ranked, stopped and finished as `beam_search`
    does it for one row, so the results are the same.

    Args:
        step: `step(tokens, states) -> (logits, states)`.
        states: float arrays `[batch, n]`, one row per sequence.
        start_tokens: the first token of each row.
        eos_id: the stop token.
        max_length: the most tokens a hypothesis may take.
        width: hypotheses kept per row. Default 4.
        length_penalty: hypotheses are ranked by log-probability divided by
            length**length_penalty. Default 0.

    Returns:
        One (token ids without the stop token, normalized score) per row.
    """
    states = [np.asarray(s) for s in states]
    count = len(start_tokens)
    beams = [[([], 0.0)] for _ in range(count)]
    finished = [[] for _ in range(count)]
    # The rows still searching, in the order their hypotheses sit in `states`.
    live = list(range(count))
    tokens = np.asarray(start_tokens, np.int32)

    def norm(score, length):
        return score / (max(length, 1) ** length_penalty)

    for _ in range(max_length):
        if not live:
            break
        logits, states = step(tokens, states)
        vocab = np.shape(logits)[-1]
        rows, cand_tokens, logp = _candidates(logits, width * 2)
        bounds = np.searchsorted(rows, np.arange(len(tokens) + 1))
        still, gather, next_tokens, offset = [], [], [], 0
        for r in live:
            k = len(beams[r])
            span = slice(bounds[offset], bounds[offset + k])
            hyp_rows, hyp_tokens = rows[span] - offset, cand_tokens[span]
            total = np.array([score for _, score in beams[r]])[hyp_rows] + logp[span]
            # Ranked as a stable sort of the row's flattened [hypothesis, token] scores.
            order = np.lexsort((hyp_rows * vocab + hyp_tokens, -total))
            kept, picked = [], []
            for index in order[: width * 2]:
                row, token, value = int(hyp_rows[index]), int(hyp_tokens[index]), total[index]
                hyp = beams[r][row][0] + [token]
                if token == eos_id:
                    finished[r].append((hyp[:-1], norm(value, len(hyp))))
                else:
                    kept.append((hyp, float(value)))
                    picked.append(offset + row)
                if len(kept) == width:
                    break
            offset += k
            if len(finished[r]) >= width or not kept:
                continue
            if finished[r] and length_penalty == 0:
                best_live = max(norm(s, len(h)) for h, s in kept)
                if max(s for _, s in finished[r]) >= best_live:
                    continue
            beams[r] = kept
            still.append(r)
            gather.extend(picked)
            next_tokens.extend(h[-1] for h, _ in kept)
        live = still
        if live:
            index = np.asarray(gather)
            states = [s[index] for s in states]
            tokens = np.asarray(next_tokens, np.int32)
    for r in live:
        # Out of steps: the live hypotheses compete as they are.
        finished[r].extend((h, norm(s, len(h))) for h, s in beams[r])
    out = []
    for r in range(count):
        ended = finished[r] or [(h, norm(s, len(h))) for h, s in beams[r]]
        out.append(max(ended, key=lambda pair: pair[1]))
    return out


def beam_search(
    step, states, start_token, eos_id, max_length, width=4, length_penalty=0.0
):
    """Beam search for one sequence (`states` hold a batch of one).

    Hypotheses are ranked by log-probability divided by length**length_penalty;
    a hypothesis ends when it emits the stop token. Width 1 is greedy decoding.
    `beam_search_batch` searches many sequences at once, with the same results.

    Returns:
        (token ids without the stop token, normalized score) of the best one.
    """
    return beam_search_batch(
        step, states, [start_token], eos_id, max_length, width, length_penalty
    )[0]


def decode(step, states, start_tokens, eos_id, settings, seed=None):
    """Decodes a batch by a recipe's `decoding` settings: greedy, sample or beam.

    Args:
        settings: `strategy`, `max_length`, and the strategy's own keys
            (`temperature`, `top_k`, `top_p`; `beam_width`, `length_penalty`).
        seed: the sampling seed.

    Returns:
        One list of token ids per row, without the stop token. Every strategy
        steps all rows together (beam search: every row's hypotheses).
    """
    if settings["strategy"] == "greedy":
        return greedy(step, states, start_tokens, eos_id, settings["max_length"])
    if settings["strategy"] == "sample":
        return sample(
            step, states, start_tokens, eos_id, settings["max_length"],
            settings["temperature"], settings["top_k"], settings["top_p"], seed,
        )
    found = beam_search_batch(
        step, states, start_tokens, eos_id, settings["max_length"],
        settings["beam_width"], settings["length_penalty"],
    )
    return [tokens for tokens, _ in found]


# CTC ------------------------------------------------------------------------
# A CTC model scores every step at once, so its decoding needs no step
# function: it reads `[batch, steps, classes]` scores (logits or
# log-probabilities; class `blank` is the blank) and collapses them.


def _ctc_rows(logits, lengths):
    logits = np.asarray(logits)
    if lengths is None:
        lengths = [logits.shape[1]] * logits.shape[0]
    return logits, [int(n) for n in lengths]


def ctc_greedy(logits, lengths=None, blank=0):
    """Best-path CTC decoding of a batch: the likeliest class at each step,
    repeats merged, then blanks dropped.

    A label repeated across a blank (`a _ a`) is kept twice; repeated next to
    itself (`a a`) once.

    Args:
        logits: `[batch, steps, classes]` scores.
        lengths: optional real steps per row (default: every step).
        blank: the blank's class id.

    Returns:
        One list of label ids per row.

    Example:

    >>> ids = [[1, 1, 0, 1, 2, 2, 0]]
    >>> ctc_greedy(np.eye(3)[ids])
    [[1, 1, 2]]
    """
    logits, lengths = _ctc_rows(logits, lengths)
    best = logits.argmax(axis=-1)
    previous = np.concatenate([np.full((len(best), 1), -1), best[:, :-1]], axis=1)
    keep = (best != blank) & (best != previous)
    keep &= np.arange(best.shape[1])[None] < np.asarray(lengths)[:, None]
    return [row[k].tolist() for row, k in zip(best, keep)]


def _ctc_prefix_beam(logp, width, blank, prune):
    """The `width` best prefixes of one row `[steps, classes]`, as (labels, log-probability), best first."""
    add = np.logaddexp
    # prefix -> [log P(prefix, ending in a blank), log P(prefix, ending in its last label)]
    beams = {(): [0.0, -np.inf]}
    for lp in logp:
        tried = np.flatnonzero(lp >= min(prune, lp.max()))
        tried = tried[tried != blank]
        grown = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = add(p_blank, p_label)
            same = grown.setdefault(prefix, [-np.inf, -np.inf])
            same[0] = add(same[0], total + lp[blank])
            last = prefix[-1] if prefix else None
            if last is not None:
                # The last label again, merged into it.
                same[1] = add(same[1], p_label + lp[last])
            for c in tried.tolist():
                longer = grown.setdefault(prefix + (c,), [-np.inf, -np.inf])
                # A repeat is a new label only after a blank.
                longer[1] = add(longer[1], (p_blank if c == last else total) + lp[c])
        ranked = sorted(grown.items(), key=lambda item: -add(*item[1]))
        beams = dict(ranked[:width])
    ranked = sorted(beams.items(), key=lambda item: -add(*item[1]))
    return [(list(prefix), float(add(p_blank, p_label))) for prefix, (p_blank, p_label) in ranked]


def ctc_ensemble(logits, width=1, lengths=None, blank=0, prune=1e-4):
    """CTC decoding of several models at once: their candidates rescored by all of them.

    Separately trained CTC models put their label spikes on different steps,
    so their per-step probabilities cannot be averaged. They are joined per
    sequence instead: each member proposes its best path and, for `width` > 1,
    the `width` best prefixes of its beam; every candidate is scored by each
    member's CTC log-probability (the sum over all its alignments), and the
    one with the highest sum (the product of the members' probabilities) wins.
    Ties go to the earlier member's candidate.

    Args:
        logits: `[batch, members, steps, classes]` scores.
        width: each member's beam width; 1 proposes best paths only.
        lengths: optional real steps per row (default: every step).
        blank: the blank's class id.
        prune: as in `ctc_beam_search`.

    Returns:
        One list of label ids per row.
    """
    logits = np.asarray(logits, np.float32)
    lengths = [logits.shape[2]] * len(logits) if lengths is None else [int(n) for n in lengths]
    logp = log_softmax(logits)
    floor = np.log(prune) if prune > 0 else -np.inf
    # Each member's best paths, for the whole batch at once: [members][batch].
    paths = [ctc_greedy(logits[:, m], lengths, blank) for m in range(logits.shape[1])]
    out = []
    for b, (members, n) in enumerate(zip(logp, lengths)):
        members = members[:, :n]
        candidates = {}
        for m, row in enumerate(members):
            candidates.setdefault(tuple(paths[m][b]), None)
            if width > 1:
                for labels, _ in _ctc_prefix_beam(row, width, blank, floor):
                    candidates.setdefault(tuple(labels), None)
        candidates = list(candidates)
        totals = [sum(ctc_log_probability(row, c, blank) for row in members) for c in candidates]
        out.append(list(candidates[int(np.argmax(totals))]))
    return out


def ctc_log_probability(logp, labels, blank=0):
    """Log-probability of a labelling under one row of CTC log-probabilities.

    The forward algorithm (Graves et al. 2006) over `logp` `[steps, classes]`:
    the sum over every alignment of `labels`; `-inf` if none fits.
    """
    extended = [blank]
    for label in labels:
        extended += [label, blank]
    extended = np.asarray(extended)
    # A step may skip the blank between two different labels.
    skip = np.zeros(len(extended), bool)
    skip[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    alpha = np.full(len(extended), -np.inf)
    alpha[:2] = logp[0, extended[:2]] if len(logp) else alpha[:2]
    for lp in logp[1:]:
        moved = np.logaddexp(alpha, np.concatenate([[-np.inf], alpha[:-1]]))
        moved[skip] = np.logaddexp(moved[skip], alpha[np.flatnonzero(skip) - 2])
        alpha = moved + lp[extended]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if len(extended) > 1 else alpha[-1])


def ctc_beam_search(logits, width=4, lengths=None, blank=0, prune=1e-4):
    """CTC prefix beam search over a batch, row by row.

    Unlike best-path decoding it ranks label sequences (prefixes) by the sum
    over every alignment that collapses to them, keeping the `width` likeliest
    at each step (Graves 2012, section 7.5; Hannun et al. 2014 without a
    language model). Width 1 is taken as greedy decoding (`ctc_greedy`), as for
    the encoder-decoder's `beam_search`: a one-prefix search can differ from
    the best path only where summed alignments outweigh it, and then greedy is
    what width 1 is expected to give.

    Args:
        logits: `[batch, steps, classes]` scores (a softmax is taken per step).
        width: prefixes kept at each step. Default 4.
        lengths: optional real steps per row (default: every step).
        blank: the blank's class id.
        prune: classes below this probability at a step are not tried (the
            likeliest always is). Default 1e-4.

    Returns:
        One list of label ids per row, never less likely than the best path's
        labelling (`ctc_greedy`), which competes with the beam's best.
    """
    logits, lengths = _ctc_rows(logits, lengths)
    paths = ctc_greedy(logits, lengths, blank)
    if width <= 1:
        return paths
    logp = log_softmax(logits)
    floor = np.log(prune) if prune > 0 else -np.inf
    out = []
    for row, n, path in zip(logp, lengths, paths):
        best = _ctc_prefix_beam(row[:n], width, blank, floor)[0][0]
        # A narrow beam can lose the best path's labelling; it competes too.
        if best != path and ctc_log_probability(row[:n], path, blank) > ctc_log_probability(
            row[:n], best, blank
        ):
            best = path
        out.append(best)
    return out
