"""Sequence metrics against hand-computed cases."""

import pytest

from kerasrnn import metrics


def test_edit_distance_known_cases():
    assert metrics.edit_distance("kitten", "sitting") == 3
    assert metrics.edit_distance([], ["a", "b"]) == 2
    assert metrics.edit_distance(["HH", "AH", "L", "OW"], ["HH", "EH", "L", "OW"]) == 1
    assert metrics.edit_distance(list("abc"), list("abc")) == 0


def test_error_rates_use_the_closest_of_several_references():
    hyps = [
        ["T", "AH", "M", "EY", "T", "OW"],  # matches the second pronunciation
        ["K", "AE", "T"],                    # exact
        ["D", "AO"],                         # one deletion against D AO G
    ]
    refs = [
        [["T", "AH", "M", "AA", "T", "OW"], ["T", "AH", "M", "EY", "T", "OW"]],
        [["K", "AE", "T"]],
        [["D", "AO", "G"]],
    ]
    rates = metrics.error_rates(hyps, refs)
    # Errors 0 + 0 + 1 over reference lengths 6 + 3 + 3; one word of three wrong.
    assert rates["token_error_rate"] == pytest.approx(1 / 12)
    assert rates["sequence_error_rate"] == pytest.approx(1 / 3)


def test_error_rates_reject_mismatched_input():
    with pytest.raises(ValueError):
        metrics.error_rates([["a"]], [])
    with pytest.raises(ValueError):
        metrics.error_rates([], [])


def test_bleu_perfect_and_partial():
    assert metrics.bleu(["the cat sat on the mat"], [["the cat sat on the mat"]]) == pytest.approx(100.0)
    partial = metrics.bleu(["the cat sat on a mat"], [["the cat sat on the mat"]])
    assert 0 < partial < 100
    # A second reference that matches raises the score; repeating one does not change it.
    both = metrics.bleu(["the cat sat on a mat"], [["the cat sat on the mat", "the cat sat on a mat"]])
    assert both == pytest.approx(100.0)
    two = metrics.bleu(["a b c d", "x y z w"], [["a b c d"], ["x y z w", "x y z w"]])
    assert two == pytest.approx(100.0)
