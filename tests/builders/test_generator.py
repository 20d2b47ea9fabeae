"""The one_to_many builder: a label conditions the sequence it generates."""

import random

import pytest

from kerasrnn import config, training
from kerasrnn.data.errors import DataError
from kerasrnn.runs import Run

# Each "language" spells its names from its own letters.
LETTERS = {"Lowland": "abcd", "Upland": "wxyz"}


def names(letters, count, rng):
    return sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 6))).title() for _ in range(count)})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    folder = tmp / "names"
    folder.mkdir()
    rng = random.Random(0)
    for language, letters in LETTERS.items():
        (folder / f"{language}.txt").write_text("\n".join(names(letters, 200, rng)) + "\n")
    raw = {
        "name": "tiny_gen",
        "type": "one_to_many",
        "data": {
            "train": str(folder),
            "format": "folder",
            "swap_sides": True,
            "valid_split": 0.1,
            "test_split": 0.1,
            "source": {"tokenizer": "label"},
            "target": {"tokenizer": "char"},
        },
        "model": {"units": 32, "embedding_dim": 16, "conditioning": "both"},
        "training": {"epochs": 5, "batch_size": 16, "learning_rate": 0.02, "verbose": 0},
        "decoding": {"max_length": 12, "strategy": "sample"},
    }
    run_dir = tmp / "run"
    result = training.fit(config.resolve(raw), str(run_dir), echo=lambda _: None)
    return Run(str(run_dir)), result


def test_generator_learns_and_reports_novelty(run):
    loaded, result = run
    from kerasrnn.runs import read_history

    history = read_history(f"{loaded.dir}/history.csv")
    assert history[-1]["loss"] < 0.7 * history[0]["loss"]
    test = result["test"]
    # 8 letters, capitals and <eos>: chance perplexity is far above what a
    # model that knows each language's four letters reaches.
    assert test["perplexity"] < 6
    assert 0.0 <= test["novel_share"] <= 1.0
    assert test["examples"] > 0


def test_the_condition_steers_the_output(run):
    loaded, _ = run
    for language, letters in LETTERS.items():
        samples = loaded.builder.sample(loaded.model, loaded.vocabs, 8, condition=language, seed=1)
        text = "".join(samples).lower()
        own = sum(ch in letters for ch in text)
        assert own > 0.9 * len(text), (language, samples)


def test_conditioned_score_prefers_the_matching_language(run):
    loaded, _ = run
    score = loaded.builder.score
    low = score(loaded.model, loaded.vocabs, ["Abcad"], condition="Lowland")[0]["log_prob"]
    up = score(loaded.model, loaded.vocabs, ["Abcad"], condition="Upland")[0]["log_prob"]
    assert low > up + 2


def test_unknown_or_missing_condition_is_a_data_error(run):
    loaded, _ = run
    with pytest.raises(DataError, match="unknown condition 'Martian'; this model knows: .*Lowland"):
        loaded.builder.sample(loaded.model, loaded.vocabs, 1, condition="Martian")
    with pytest.raises(DataError, match="--condition"):
        loaded.builder.sample(loaded.model, loaded.vocabs, 1)


def test_predict_generates_for_each_label(run):
    loaded, _ = run
    rows = loaded.builder.predict(loaded.model, loaded.vocabs, ["Upland"])
    assert rows[0]["input"] == "Upland" and rows[0]["output"]
