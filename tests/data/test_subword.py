"""WordPiece vocabularies: learned from training words, saved in the run, restored from it."""

import collections

from kerasrnn import builders, config
from kerasrnn.data import subword
from kerasrnn.data.examples import Example
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.data.vocab import SPECIALS, UNK_ID, Vocabulary

SENTENCES = [
    "the players played and the player plays",
    "playing games is what gamers do",
    "the gamer replayed the replays",
    "unplayable games are unplayed",
] * 5


def counts(texts, tokenizer=None):
    tokenizer = tokenizer or Tokenizer("subword")
    return collections.Counter(w for words in tokenizer.words_py(texts) for w in words)


def test_the_vocabulary_starts_with_the_specials_and_spells_every_word():
    vocabulary = subword.learn(counts(SENTENCES), vocab_size=70)
    assert vocabulary.tokens[:4] == list(SPECIALS) and vocabulary.specials == 4
    assert len(vocabulary) <= 70
    letters = set("".join(SENTENCES).replace(" ", ""))
    assert all(c in vocabulary and f"##{c}" in vocabulary for c in letters)
    tokenizer = Tokenizer("subword").attach(vocabulary)
    # Frequent training words are one piece; new words are spelled from pieces.
    assert tokenizer.split_py(["players"])[0] == ["players"]
    for word in ("replayable", "gamers", "unplayed", "doer"):
        pieces = tokenizer.split_py([word])[0]
        assert "<unk>" not in pieces and tokenizer.join(pieces) == word
    assert len(tokenizer.split_py(["replayable"])[0]) > 1


def test_unspellable_words_and_special_lookalikes_are_unknown():
    vocabulary = subword.learn(counts(SENTENCES), vocab_size=70)
    tokenizer = Tokenizer("subword").attach(vocabulary)
    assert tokenizer.split_py(["games zebra <pad>"])[0] == ["games", "<unk>", "<unk>"]
    assert vocabulary.encode(["<unk>"]) == [UNK_ID]


def recipe(max_length=None):
    return config.resolve(
        {
            "name": "subword_test",
            "type": "seq2seq",
            "data": {
                "train": __file__,
                "source": {"tokenizer": "subword", "lowercase": True, "max_vocab": 60, "max_length": max_length},
                "target": {"tokenizer": "pretokenized"},
            },
        }
    )


def test_a_builder_learns_subwords_and_a_fresh_one_restores_them_from_the_run(tmp_path):
    examples = [Example(s.upper(), " ".join(s.split()[:2])) for s in SENTENCES]
    builder = builders.get(recipe(max_length=5))
    said = []
    vocabs = builder.fit_vocabs(examples, echo=said.append)
    assert len(vocabs["source"]) <= 60 and vocabs["source"].tokens[:4] == list(SPECIALS)
    pieces = builder.tokenizers["source"].split_py([ex.source for ex in examples])
    longer = sum(len(p) > 5 for p in pieces)
    assert longer and said == [f"source: {longer:,} of {len(examples):,} examples truncated to 5 tokens (data.source.max_length)"]
    vocabs["source"].save(tmp_path / "vocab.source.json")
    saved = {"source": Vocabulary.load(tmp_path / "vocab.source.json"), "target": vocabs["target"]}
    fresh = builders.get(recipe(max_length=5)).attach(saved)
    texts = ["The unplayable replays", "GAMERS play"]
    assert fresh.ids("source", saved, texts).to_list() == builder.ids("source", vocabs, texts).to_list()
    assert fresh.tokenizers["source"].join(fresh.tokenizers["source"].split_py(texts)[1]) == "gamers play"
