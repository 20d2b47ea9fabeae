"""The linear-chain CRF against sums over every tag sequence, written out."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.layers import CRF, CRFLoss, crf_marginals, viterbi_decode
from kerasrnn.layers.crf import crf_log_likelihood

TAGS = 3


def weights(rng):
    return (rng.normal(size=(TAGS, TAGS)).astype(np.float32), rng.normal(size=TAGS).astype(np.float32),
            rng.normal(size=TAGS).astype(np.float32))


def path_score(scores, path, transitions, start, end):
    total = start[path[0]] + end[path[-1]] + sum(scores[t, y] for t, y in enumerate(path))
    return total + sum(transitions[a, b] for a, b in zip(path, path[1:]))


def all_paths(n):
    return list(itertools.product(range(TAGS), repeat=n))


def test_log_likelihood_is_the_gold_path_against_every_path():
    rng = np.random.default_rng(0)
    crf = weights(rng)
    scores = rng.normal(size=(4, 5, TAGS)).astype(np.float32)
    tags = rng.integers(0, TAGS, (4, 5))
    # Rows: whole, padded after 3, a hole at step 1 (a token left out), empty.
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
    got = crf_log_likelihood(scores, tags, mask, *crf).numpy()
    for row in range(3):
        keep = np.flatnonzero(mask[row])
        s = scores[row, keep]
        log_z = np.logaddexp.reduce([path_score(s, p, *crf) for p in all_paths(len(keep))])
        want = path_score(s, tags[row, keep], *crf) - log_z
        np.testing.assert_allclose(got[row], want, rtol=1e-5, atol=1e-5)
    assert got[3] == 0.0


@pytest.mark.parametrize("steps", [1, 2, 5])
def test_viterbi_finds_the_best_path_of_each_length(steps):
    rng = np.random.default_rng(steps)
    crf = weights(rng)
    scores = rng.normal(size=(6, steps, TAGS)).astype(np.float32)
    lengths = np.minimum(np.arange(1, 7), steps)
    got = viterbi_decode(scores, lengths, *crf).numpy()
    assert got.shape == (6, steps)
    for row, n in enumerate(lengths):
        best = max(all_paths(n), key=lambda p: path_score(scores[row, :n], p, *crf))
        assert tuple(got[row, :n]) == best
        assert (got[row, n:] == got[row, n - 1]).all()


def test_marginals_are_each_tags_share_of_every_path():
    rng = np.random.default_rng(1)
    crf = weights(rng)
    scores = rng.normal(size=(3, 4, TAGS)).astype(np.float32)
    lengths = [4, 2, 1]
    got = crf_marginals(scores, lengths, *crf).numpy()
    for row, n in enumerate(lengths):
        paths = all_paths(n)
        p = np.exp([path_score(scores[row, :n], path, *crf) for path in paths])
        p /= p.sum()
        want = np.zeros((n, TAGS))
        for path, share in zip(paths, p):
            want[np.arange(n), path] += share
        np.testing.assert_allclose(got[row, :n], want, atol=1e-5)
        assert (got[row, n:] == 0).all()


def test_transitions_can_overrule_the_token_scores():
    # Token by token the best is 0 0; the transition 0 -> 0 is forbidden.
    transitions = np.array([[-100.0, 0, 0], [0, 0, 0], [0, 0, 0]], np.float32)
    scores = np.array([[[2.0, 1.5, 0], [2.0, 0, 0]]], np.float32)
    zeros = np.zeros(TAGS, np.float32)
    assert viterbi_decode(scores, [2], transitions, zeros, zeros).numpy().tolist() == [[1, 0]]


def test_a_model_with_a_crf_learns_transitions_saves_and_keeps_its_mask(tmp_path):
    # The tag of a token is the previous token's tag + 1 (mod 3) and the first
    # tag is given by the first token; later tokens are noise, so only the
    # transitions can tag them.
    rng = np.random.default_rng(0)
    first = rng.integers(1, 4, 512)
    tokens = np.concatenate([first[:, None], rng.integers(4, 10, (512, 5))], 1)
    tags = (first[:, None] - 1 + np.arange(6)[None]) % TAGS + 1
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 8, mask_zero=True)(inputs)
    crf = CRF(name="crf")
    outputs = crf(keras.layers.Dense(TAGS + 1)(x))
    model = keras.Model(inputs, outputs)
    assert crf.compute_mask(None, tf.constant([[True, False]])).numpy().tolist() == [[True, False]]
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=CRFLoss(crf))
    history = model.fit(tokens, tags, epochs=20, batch_size=64, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]
    best = crf.decode(model.predict(tokens[:50], verbose=0), np.full(50, 6)).numpy()
    assert (best == tags[:50]).mean() > 0.95

    model.save(tmp_path / "crf.keras")
    again = keras.saving.load_model(tmp_path / "crf.keras", compile=False)
    np.testing.assert_array_equal(again.get_layer("crf").transitions.numpy(), crf.transitions.numpy())
