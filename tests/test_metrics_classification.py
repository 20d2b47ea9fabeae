"""Classification and tagging metrics against hand-computed cases."""

import pytest

from kerasrnn import metrics


def test_macro_f1_hand_case():
    gold = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "a"]
    # a: tp 1, 2 gold, 2 predicted -> F1 1/2; b: tp 1, 1 gold, 2 predicted
    # -> 2/3; c: never predicted -> 0.
    assert metrics.macro_f1(gold, predicted) == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)


def test_macro_f1_counts_labels_only_predicted():
    # "z" is predicted but never gold: its F1 of 0 joins the average.
    assert metrics.macro_f1(["a", "a"], ["a", "z"]) == pytest.approx((2 / 3 + 0) / 2)
    assert metrics.macro_f1(["a", "b"], ["a", "b"]) == 1.0


def test_classification_scores_count_unseen_labels_as_errors():
    scores = metrics.classification_scores(
        ["pos", "neg", "neutral"], ["pos", "neg", "pos"], known={"pos", "neg"}
    )
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["unseen_labels"] == 1
    assert scores["examples"] == 3


def test_chunks_follow_conlleval_rules():
    # IOB2: B starts, I continues.
    assert metrics.chunks(["B-NP", "I-NP", "O", "B-VP"]) == {("NP", 0, 2), ("VP", 3, 4)}
    # IOB1: I after O or after another type starts a chunk; B splits two
    # chunks of one type.
    assert metrics.chunks(["I-NP", "I-NP", "B-NP", "I-VP", "I-NP"]) == {
        ("NP", 0, 2), ("NP", 2, 3), ("VP", 3, 4), ("NP", 4, 5)
    }
    # A chunk still open at the end of the sentence is closed there.
    assert metrics.chunks(["O", "B-PP"]) == {("PP", 1, 2)}
    # IOBES: S is a chunk alone, E ends one.
    assert metrics.chunks(["S-LOC", "B-PER", "E-PER", "I-PER"]) == {
        ("LOC", 0, 1), ("PER", 1, 3), ("PER", 3, 4)
    }


def test_chunk_scores_hand_case():
    gold = [
        ["B-NP", "I-NP", "B-VP", "B-PP", "B-NP", "I-NP", "O"],
        ["O", "B-ADJP", "I-ADJP"],
    ]
    predicted = [
        # NP split in two (both wrong); I-NP after B-PP opens the right NP.
        ["B-NP", "B-NP", "B-VP", "B-PP", "I-NP", "I-NP", "O"],
        # I-ADJP after O opens the chunk: the span is right.
        ["O", "I-ADJP", "I-ADJP"],
    ]
    # gold chunks 4 + 1 = 5, predicted 5 + 1 = 6, correct VP, PP, NP, ADJP = 4.
    scores = metrics.chunk_scores(gold, predicted)
    assert scores["gold_chunks"] == 5
    assert scores["predicted_chunks"] == 6
    assert scores["precision"] == pytest.approx(100 * 4 / 6)
    assert scores["recall"] == pytest.approx(100 * 4 / 5)
    assert scores["f1"] == pytest.approx(2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5) * 100)
    assert scores["token_accuracy"] == pytest.approx(7 / 10)


def test_chunk_scores_need_aligned_sentences():
    with pytest.raises(ValueError, match="differs in length"):
        metrics.chunk_scores([["B-NP", "I-NP"]], [["B-NP"]])
    assert metrics.chunk_scores([["O"]], [["B-NP"]])["f1"] == 0.0


def test_regression_scores():
    scores = metrics.regression_scores([1.0, 2.0, 4.0], [1.0, 3.0, 2.0])
    assert scores["mse"] == pytest.approx((0 + 1 + 4) / 3)
    assert scores["mae"] == pytest.approx((0 + 1 + 2) / 3)
