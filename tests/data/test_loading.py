"""A recipe's splits: reader options, one split on its own, statistics per split."""

import pytest

from kerasrnn import config
from kerasrnn.data import readers
from kerasrnn.data.loading import READER_OPTIONS, inspect_splits, load_split, load_splits
from kerasrnn.data.tokenizers import Tokenizer
from kerasrnn.errors import RecipeError


def recipe(train, **data):
    return config.resolve(
        {
            "name": "loading_test",
            "type": "many_to_one",
            "data": {"train": train, "source": {"tokenizer": "word"}, **data},
            "training": {"seed": 3},
        }
    )


@pytest.fixture
def reviews(write):
    rows = [f"{'good' if i % 2 else 'bad'} film number {i}\t{i % 2}\n" for i in range(60)]
    return write("reviews.tsv", "".join(rows))


def test_reader_option_defaults_are_the_schemas():
    # A catalog data set's options yield only to values the recipe changed from these.
    schema = config.SCHEMA["data"]
    assert {key: schema[key].default for key in READER_OPTIONS} == {
        key: readers.OPTION_DEFAULTS[key] for key in READER_OPTIONS
    }


def test_load_split_is_one_split_read_quietly(reviews, capsys):
    said = []
    splits = load_splits(recipe(reviews), echo=said.append)
    assert said == [f"Examples: train {len(splits['train'])}, valid {len(splits['valid'])}, "
                    f"test {len(splits['test'])}"]
    assert load_split(recipe(reviews), "test") == splits["test"]
    assert capsys.readouterr().out == ""


def test_streaming_by_position_is_a_recipe_error(reviews):
    with pytest.raises(RecipeError, match="split_by: position needs the data in memory"):
        load_splits(recipe(reviews, streaming=True, split_by="position"))


def test_inspect_splits_reports_each_split_with_examples(reviews):
    splits = load_splits(recipe(reviews), echo=lambda _: None)
    splits["valid"] = []
    tokenizers = {"source": Tokenizer("word", max_length=3)}
    report = inspect_splits(splits, tokenizers, {"source": {"good", "bad", "film"}})
    assert list(report) == ["train", "test"]
    assert report["train"]["examples"] == len(splits["train"])
    assert report["train"]["source"]["truncated"] == len(splits["train"])  # 4 words each


def test_split_seed_fixes_the_held_out_examples_whatever_the_training_seed(reviews):
    def held_out(seed, **data):
        r = recipe(reviews, valid_split=0.2, test_split=0.2, **data)
        r["training"]["seed"] = seed
        splits = load_splits(r, echo=lambda _: None)
        return {s: sorted(ex.source for ex in splits[s]) for s in ("valid", "test")}

    assert held_out(3) != held_out(4)  # the training seed carves the split by default
    assert held_out(4, split_seed=3) == held_out(3) == held_out(9, split_seed=3)
