"""`kerasrnn sample` and `kerasrnn score` on tiny runs, through Click's runner."""

import json
import random

import pytest
import yaml
from click.testing import CliRunner

from kerasrnn import config
from kerasrnn.cli import cli
from support import RECIPES


def sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


def write_recipe(path, raw):
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_lm")
    rng = random.Random(0)
    fruit = ["apple", "pear", "plum", "fig"]
    lines = [f"the {rng.choice(fruit)} and {rng.choice(fruit)} salad" for _ in range(300)]
    (tmp / "train.txt").write_text("\n".join(lines) + "\n")
    recipe = write_recipe(tmp / "lm.yaml", {
        "name": "cli_lm",
        "type": "language_model",
        "data": {"train": str(tmp / "train.txt"), "valid_split": 0.1, "test_split": 0.1},
        "model": {"units": 32, "embedding_dim": 16},
        "training": {"epochs": 4, "batch_size": 16, "learning_rate": 0.02, "verbose": 0},
    })
    out = tmp / "run"
    result = CliRunner().invoke(cli, ["fit", recipe, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "test perplexity" in result.output
    return str(out)


@pytest.fixture(scope="module")
def gen_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_gen")
    folder = tmp / "names"
    folder.mkdir()
    (folder / "Short.txt").write_text("\n".join(["Ab", "Ba", "Ac", "Ca", "Bc"] * 4) + "\n")
    (folder / "Long.txt").write_text("\n".join(["Xyzzy", "Yzxyz", "Zzxyx", "Xxyzy"] * 5) + "\n")
    recipe = write_recipe(tmp / "gen.yaml", {
        "name": "cli_gen",
        "type": "one_to_many",
        "data": {"train": str(folder), "format": "folder", "swap_sides": True,
                 "valid_split": 0.0, "test_split": 0.0,
                 "source": {"tokenizer": "label"}, "target": {"tokenizer": "char"}},
        "model": {"units": 8, "embedding_dim": 8},
        "training": {"epochs": 1, "batch_size": 8, "verbose": 0},
    })
    out = tmp / "run"
    result = CliRunner().invoke(cli, ["fit", recipe, "--output", str(out)])
    assert result.exit_code == 0, result.output
    return str(out)


def test_sample_is_reproducible_with_a_seed(lm_run):
    runner = CliRunner()
    args = ["sample", lm_run, "--num", "4", "--seed", "7", "--json", "--max-length", "40"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, args)
    other = runner.invoke(cli, args[:-4] + ["8", "--json", "--max-length", "40"])
    samples = json.loads(first.output)
    assert len(samples) == 4 and samples == json.loads(again.output)
    assert samples != json.loads(other.output)


def test_sample_continues_a_prompt(lm_run):
    result = CliRunner().invoke(cli, ["sample", lm_run, "--prompt", "the ", "--num", "2",
                                      "--temperature", "0", "--json"])
    assert result.exit_code == 0, result.output
    samples = json.loads(result.output)
    assert all(s.startswith("the ") for s in samples)
    assert samples[0] == samples[1]  # temperature 0 is greedy


def test_score_ranks_the_likelier_sentence_first(lm_run):
    good, odd = "the apple and pear salad", "the apple and pair salad"
    result = CliRunner().invoke(cli, ["score", lm_run, odd, good, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["text"] for r in rows] == [good, odd]
    assert rows[0]["log_prob"] > rows[1]["log_prob"]
    assert rows[0]["tokens"] == len(good) + 1  # characters and <eos>
    text = CliRunner().invoke(cli, ["score", lm_run, odd, good])
    assert text.exit_code == 0
    assert text.output.splitlines()[0].endswith(good)


def test_score_needs_texts(lm_run):
    result = CliRunner().invoke(cli, ["score", lm_run])
    assert result.exit_code == 2
    assert "give TEXTS or --input FILE" in result.output


def test_condition_on_an_unconditioned_model_is_a_usage_error(lm_run):
    result = CliRunner().invoke(cli, ["sample", lm_run, "--condition", "English"])
    assert result.exit_code == 2
    assert "no conditions" in result.output and "Traceback" not in result.output


def test_generator_samples_per_condition(gen_run):
    result = CliRunner().invoke(cli, ["sample", gen_run, "--condition", "Long", "--num", "3", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 3


def test_unknown_condition_lists_the_known_ones(gen_run):
    result = CliRunner().invoke(cli, ["sample", gen_run, "--condition", "Medium"])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "unknown condition 'Medium'" in line and "Long" in line and "Short" in line
    missing = CliRunner().invoke(cli, ["sample", gen_run])
    assert missing.exit_code == 2 and "--condition" in missing.output


def test_non_generative_run_is_refused(tmp_path):
    recipe = config.load_recipe(str(RECIPES / "g2p_cmudict.yaml"))
    (tmp_path / "recipe.yaml").write_text(config.dump_recipe(recipe))
    for command in (["sample", str(tmp_path)], ["score", str(tmp_path), "some text"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2
        assert "a seq2seq run does not generate or score text" in result.output


def test_samples_keep_the_prompt_and_end_at_eos_or_the_length_limit(lm_run):
    """The same seed draws the same numbers at every step, so a cut sample is the start of the whole one."""
    def sample(max_length):
        result = CliRunner().invoke(cli, ["sample", lm_run, "--num", "6", "--seed", "3", "--prompt", "the ",
                                          "--max-length", str(max_length), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    cut, whole = sample(8), sample(80)
    assert cut == sample(8)
    for short, full in zip(cut, whole):
        assert short.startswith("the ") and full.startswith("the ")
        # A sample stops at the limit (8 characters after the prompt) or at <eos>, where the whole one stops too.
        assert len(short) == len("the ") + 8 or short == full
        assert full.startswith(short)
        # No sample reaches 80 characters: each ended at <eos>, and nothing shows of it.
        assert len(full) < len("the ") + 80
        assert not any(mark in full for mark in ("<eos>", "<bos>", "<pad>", "\n"))
    assert any(len(short) == len("the ") + 8 for short in cut)
