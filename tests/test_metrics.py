"""Sequence metrics against hand-computed cases."""

import math

import pytest
from tiny import tiny_recipe

from kerasrnn import builders, metrics
from kerasrnn.builders.seq2seq import sequence_scores
from kerasrnn.data.loading import load_splits
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Vocabulary


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
    def bleu(hyps, refs):
        return metrics.bleu(hyps, refs)[0]

    assert bleu(["the cat sat on the mat"], [["the cat sat on the mat"]]) == pytest.approx(100.0)
    partial = bleu(["the cat sat on a mat"], [["the cat sat on the mat"]])
    assert 0 < partial < 100
    # A second reference that matches raises the score; repeating one does not change it.
    both = bleu(["the cat sat on a mat"], [["the cat sat on the mat", "the cat sat on a mat"]])
    assert both == pytest.approx(100.0)
    two = bleu(["a b c d", "x y z w"], [["a b c d"], ["x y z w", "x y z w"]])
    assert two == pytest.approx(100.0)


# Numbers people can trust (issue 15) ------------------------------------------


def test_bleu_signature_names_case_tokenizer_and_references():
    score, signature = metrics.bleu(["The cat sat on the mat."], [["the cat sat on the mat ."]])
    assert "case:mixed" in signature and "tok:13a" in signature and "nrefs:1" in signature
    assert score < 100  # "The" is not "the"
    score, signature = metrics.bleu(["The cat sat on the mat."], [["the cat sat on the mat ."]], lowercase=True)
    assert score == pytest.approx(100.0) and "case:lc" in signature
    _, signature = metrics.bleu(["a b c d", "x y z w"], [["a b c d"], ["x y z w", "x y z v"]])
    assert "nrefs:var" in signature


def test_detokenize_undoes_the_script_tokenizer_for_bleu():
    reference = "Je n'ai pas vu l'homme, peut-être."
    tokenizer = Tokenizer("script", lowercase=True)
    (tokens,) = tokenizer.split_py([reference])
    assert tokens == ["je", "n", "'", "ai", "pas", "vu", "l", "'", "homme", ",", "peut", "-", "être", "."]
    assert metrics.detokenize(tokens) == "je n'ai pas vu l'homme, peut-être."
    assert metrics.detokenize(["il", "(", "pierre", ")", "vient", "?"]) == "il (pierre) vient ?"
    # Against the reference as read, the lower-cased output misses its capital
    # in the standard cased score, and scores 100 case-insensitively.
    scores = sequence_scores(tokenizer, [tokens], [[reference]])
    assert scores["bleu"] < 100.0 and "case:mixed" in scores["bleu_signature"]
    assert scores["bleu_lc"] == pytest.approx(100.0) and "case:lc" in scores["bleu_lc_signature"]
    assert scores["token_error_rate"] == 0 and scores["unk_rate"] == 0


def test_unk_stays_in_the_output_and_in_its_score():
    vocab = Vocabulary.build({"the": 3, "cat": 2, "sat": 1})
    ids = [vocab.index["the"], UNK_ID, vocab.index["sat"], EOS_ID, vocab.index["cat"]]
    assert vocab.decode(ids) == ["the", "<unk>", "sat"]
    assert vocab.decode([PAD_ID, BOS_ID, UNK_ID]) == ["<unk>"]
    tokenizer = Tokenizer("word")
    refs = [["the cat sat on the mat"]]
    kept = sequence_scores(tokenizer, [["the", "<unk>", "sat", "on", "the", "mat"]], refs)
    deleted = sequence_scores(tokenizer, [["the", "sat", "on", "the", "mat"]], refs)
    assert kept["unk_rate"] == pytest.approx(1 / 6) and deleted["unk_rate"] == 0
    # The <unk> is scored as the wrong word it is, not dropped: BLEU is that of the text with it.
    assert kept["bleu"] == pytest.approx(metrics.bleu(["the <unk> sat on the mat"], refs)[0])
    assert kept["bleu"] != pytest.approx(deleted["bleu"])
    assert kept["token_error_rate"] == pytest.approx(1 / 6)


def test_chunk_tags_are_told_from_other_tags():
    assert metrics.is_chunk_tagging([["B-NP", "I-NP", "O"], ["B-VP"]])
    assert metrics.is_chunk_tagging([["S-PER", "O", "B-LOC", "E-LOC"]])
    assert not metrics.is_chunk_tagging([["DT", "NN", "VBZ"]])
    assert not metrics.is_chunk_tagging([["O", "O"]])
    assert not metrics.is_chunk_tagging([["B-NP", "NN"]])
    assert not metrics.is_chunk_tagging([["PRP$", "X-Y"]])


def test_tagging_scores_by_hand():
    gold = [["DT", "NN", "VBZ"], ["NN", "."]]
    predicted = [["DT", "VBZ", "VBZ"], ["NN", "."]]
    scores = metrics.tagging_scores(gold, predicted)
    assert scores["token_accuracy"] == pytest.approx(4 / 5)
    # NN: 1 hit, 2 gold, 1 predicted -> 2/3; VBZ: 1 hit, 1 gold, 2 predicted -> 2/3.
    assert scores["per_tag_f1"] == pytest.approx({"DT": 100.0, "NN": 200 / 3, "VBZ": 200 / 3, ".": 100.0})
    assert scores["macro_f1"] == pytest.approx((100 + 200 / 3 + 200 / 3 + 100) / 4)


def test_language_model_scores_by_hand():
    scores = metrics.language_model_scores(6 * math.log(2), tokens=3, chars=6)
    assert scores["loss"] == pytest.approx(2 * math.log(2))
    assert scores["perplexity"] == pytest.approx(4.0)
    assert scores["bits_per_token"] == pytest.approx(2.0)
    assert scores["bits_per_char"] == pytest.approx(1.0)
    assert scores["tokens"] == 3
    assert "bits_per_char" not in metrics.language_model_scores(1.0, tokens=1)


def test_novelty_by_hand():
    assert metrics.novelty(["ann", "bob", "ann", "cy"], ["ann", "dee"]) == pytest.approx(0.5)
    assert metrics.novelty(["x"], []) == 1.0
    assert metrics.novelty([], ["x"]) == 0.0


def test_bits_per_char_equal_bits_per_token_on_a_character_model(tmp_path):
    recipe = tiny_recipe("language_model", tmp_path)
    assert recipe["data"]["source"]["tokenizer"] == "char"
    builder = builders.get(recipe)
    splits = load_splits(recipe, echo=lambda _: None)
    vocabs = builder.fit_vocabs(splits["train"], echo=lambda _: None)
    scores = builder.evaluate(builder.build(vocabs), vocabs, splits["test"])
    assert scores["bits_per_char"] == scores["bits_per_token"]
