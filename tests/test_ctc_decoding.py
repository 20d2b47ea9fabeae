"""CTC decoding: collapse rules, and prefix beam search against every labelling."""

import collections
import itertools

import numpy as np
import pytest

from kerasrnn.decoding import (
    ctc_beam_search,
    ctc_ensemble,
    ctc_greedy,
    ctc_log_probability,
    log_softmax,
)


def one_hot(rows, classes=4):
    return np.eye(classes, dtype="float32")[np.array(rows)]


def test_greedy_merges_repeats_and_drops_blanks():
    rows = [
        [1, 1, 0, 2, 2, 2, 0],  # repeats merge, blanks go
        [1, 0, 1, 1, 0, 0, 0],  # a repeat across a blank is kept twice
        [0, 0, 0, 0, 0, 0, 0],  # only blanks
        [3, 1, 3, 1, 1, 3, 3],  # no blank at all
    ]
    assert ctc_greedy(one_hot(rows)) == [[1, 2], [1, 1], [], [3, 1, 3, 1, 3]]


def test_greedy_reads_only_each_rows_length():
    assert ctc_greedy(one_hot([[1, 2, 3, 3], [2, 2, 1, 3]]), lengths=[4, 2]) == [[1, 2, 3], [2]]


def test_greedy_with_another_blank_id():
    assert ctc_greedy(one_hot([[3, 1, 3, 1, 1, 3]]), blank=3) == [[1, 1]]


def labellings(logits):
    """Every labelling of one row `[steps, classes]` with its summed probability."""
    logp = log_softmax(logits)
    totals = collections.defaultdict(float)
    for path in itertools.product(range(logits.shape[1]), repeat=len(logits)):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        totals[tuple(c for c in merged if c != 0)] += np.exp(sum(logp[t, c] for t, c in enumerate(path)))
    return totals


def test_width_one_is_greedy():
    logits = np.random.default_rng(0).normal(size=(8, 7, 5)) * 3
    assert ctc_beam_search(logits, width=1) == ctc_greedy(logits)


@pytest.mark.parametrize("seed", range(6))
def test_beam_finds_the_likeliest_labelling(seed):
    # Flat scores, where the best path and the best labelling often differ.
    logits = np.random.default_rng(seed).normal(size=(3, 5, 3))
    beam = ctc_beam_search(logits, width=16, prune=0.0)
    greedy = ctc_greedy(logits)
    for row, best, path in zip(logits, beam, greedy):
        totals = labellings(row)
        assert totals[tuple(best)] == pytest.approx(max(totals.values()))
        assert totals[tuple(best)] >= totals[tuple(path)]


def test_a_narrow_beam_is_never_worse_than_greedy():
    logits = np.random.default_rng(7).normal(size=(10, 5, 3))
    for row, beam, path in zip(logits, ctc_beam_search(logits, width=3), ctc_greedy(logits)):
        totals = labellings(row)
        assert totals[tuple(beam)] >= totals[tuple(path)] - 1e-12


def test_log_probability_is_the_sum_over_alignments():
    logits = np.random.default_rng(3).normal(size=(5, 3))
    logp = log_softmax(logits)
    for labels, total in labellings(logits).items():
        assert np.exp(ctc_log_probability(logp, list(labels))) == pytest.approx(total)
    assert ctc_log_probability(logp, [1, 1, 1, 2]) == -np.inf  # a _ a _ a b needs 6 steps


def test_an_ensemble_keeps_a_label_its_members_place_on_different_steps():
    # Member a says 2 at step 0, member b at step 2. Averaged step by step the
    # label would compete with a blank at both steps; joined per sequence it stays.
    sure = 8.0
    a = one_hot([[2, 0, 0], [1, 1, 0]], 3) * sure
    b = one_hot([[0, 0, 2], [0, 1, 1]], 3) * sure
    both = np.stack([a, b], axis=1)
    assert ctc_ensemble(both) == [[2], [1]]
    average = np.log((np.exp(log_softmax(a)) + np.exp(log_softmax(b))) / 2)
    assert ctc_greedy(average)[0] != [2]


@pytest.mark.parametrize("seed", range(4))
def test_an_ensemble_picks_the_labelling_its_members_find_likeliest_together(seed):
    # Three steps of three classes: a beam of 16 keeps every labelling, so the
    # answer is checked against every labelling's product of probabilities.
    logits = np.random.default_rng(seed).normal(size=(4, 2, 3, 3)) * 2
    for row, got in zip(logits, ctc_ensemble(logits, width=16, prune=0.0)):
        a, b = labellings(row[0]), labellings(row[1])
        products = {labels: a[labels] * b.get(labels, 0.0) for labels in a}
        assert products[tuple(got)] == pytest.approx(max(products.values()))


def test_an_ensemble_of_best_paths_takes_the_one_both_members_prefer():
    logits = np.random.default_rng(11).normal(size=(12, 3, 6, 4)) * 2
    for row, got in zip(logits, ctc_ensemble(logits, width=1)):
        paths = [ctc_greedy(member[None])[0] for member in row]
        assert got in paths

        def total(labels):
            return sum(ctc_log_probability(log_softmax(member), labels) for member in row)

        assert total(got) == pytest.approx(max(total(p) for p in paths))


def test_one_member_is_decoded_as_alone():
    logits = np.random.default_rng(5).normal(size=(6, 5, 4)) * 2
    assert ctc_ensemble(logits[:, None]) == ctc_greedy(logits)
