"""Decoding strategies over a step function, on a toy model in NumPy."""

import numpy as np
import pytest

from kerasrnn import decoding

VOCAB, EOS = 7, 3


def toy_step(seed=0):
    """A random first-order Markov chain whose state counts the steps taken."""
    table = np.random.default_rng(seed).normal(0, 2.0, (VOCAB, VOCAB))

    def step(tokens, states):
        count = states[0] + 1
        logits = table[np.asarray(tokens)] + (count >= 6) * np.eye(VOCAB)[EOS] * 8.0
        return logits, [count]

    return step


def zero_states(n):
    return [np.zeros((n, 1))]


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_one_and_top_k_of_one_equal_greedy(seed):
    step = toy_step(seed)
    greedy = decoding.greedy(step, zero_states(1), [2], EOS, 20)[0]
    beam, _ = decoding.beam_search(step, zero_states(1), 2, EOS, 20, width=1)
    top1 = decoding.sample(step, zero_states(1), [2], EOS, 20, top_k=1, seed=seed)[0]
    tiny_p = decoding.sample(step, zero_states(1), [2], EOS, 20, top_p=1e-9, seed=seed)[0]
    assert beam == greedy == top1 == tiny_p


def test_wider_beams_never_score_worse():
    step = toy_step(1)

    def log_prob(tokens):
        states, token, total = zero_states(1), 2, 0.0
        for t in tokens + [EOS]:
            logits, states = step([token], states)
            total += decoding.log_softmax(logits)[0, t]
            token = t
        return total

    scores = [log_prob(decoding.beam_search(step, zero_states(1), 2, EOS, 20, width=w)[0]) for w in (1, 3, 6)]
    assert scores[0] <= scores[1] + 1e-9 <= scores[2] + 2e-9


def test_sampling_is_reproducible_and_seed_dependent():
    step = toy_step(2)
    a = decoding.sample(step, zero_states(8), [2] * 8, EOS, 20, seed=11)
    b = decoding.sample(step, zero_states(8), [2] * 8, EOS, 20, seed=11)
    c = decoding.sample(step, zero_states(8), [2] * 8, EOS, 20, seed=12)
    assert a == b
    assert a != c
    assert all(EOS not in row for row in a)


def test_filter_logits_keeps_the_top_k_and_top_p():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    kept = np.isfinite(decoding.filter_logits(logits, top_k=2))[0]
    assert kept.tolist() == [True, True, False, False]
    kept = np.isfinite(decoding.filter_logits(logits, top_p=0.7))[0]
    assert kept.tolist() == [True, True, False, False]
    kept = np.isfinite(decoding.filter_logits(logits, top_p=0.81))[0]
    assert kept.tolist() == [True, True, True, False]


def test_log_softmax_normalizes():
    logits = np.random.default_rng(0).normal(size=(3, 5)) * 50
    probs = np.exp(decoding.log_softmax(logits))
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-12)


# length_penalty (issue 15) ------------------------------------------------------


def test_length_penalty_changes_the_winner_as_computed_by_hand():
    """From the start: <eos> 0.4, A 0.6; after A: <eos> 0.5, A 0.5; after A A: <eos> only.

    Ranked by log p / len**penalty, the stop token counted in len:
      ""    log 0.4             = -0.916, len 1
      "A"   log 0.6 + log 0.5   = -1.204, len 2
      "A A" log 0.6 + log 0.5   = -1.204, len 3
    Penalty 0 picks "" (-0.916); penalty 1 picks "A A" (-0.401 beats -0.602 and -0.916).
    """
    A, STOP = 1, 2
    tables = np.log(np.array([[1e-12, 0.6, 0.4], [1e-12, 0.5, 0.5], [1e-12, 1e-12, 1.0]]))

    def step(tokens, states):
        count = np.asarray(states[0])
        return tables[np.minimum(count[:, 0], 2).astype(int)], [count + 1]

    def best(penalty):
        settings = {"strategy": "beam", "beam_width": 3, "length_penalty": penalty, "max_length": 5}
        return decoding.decode(step, [np.zeros((1, 1))], [0], STOP, settings)[0]

    assert best(0.0) == []
    assert best(1.0) == [A, A]
    _, score = decoding.beam_search(step, [np.zeros((1, 1))], 0, STOP, 5, width=3, length_penalty=1.0)
    assert score == pytest.approx((np.log(0.6) + np.log(0.5)) / 3)
