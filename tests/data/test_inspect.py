import pytest
import yaml
from click.testing import CliRunner

from kerasrnn.cli import cli
from kerasrnn.data.examples import Example
from kerasrnn.data.inspect import format_report, inspect_examples

REVIEWS = [
    Example("a fine film", "1"),
    Example("dull", "0"),
    Example("the best film of the year", "1"),
    Example("not good at all", "0"),
    Example("great", "1"),
]


def test_lengths_labels_truncation_and_oov():
    report = inspect_examples(REVIEWS, max_length=3, vocabularies={"source": {"a", "film", "the", "good"}})
    source = report["source"]
    assert report["examples"] == 5
    assert source["tokens"] == 15 and source["types"] == 13
    assert source["length"] == {"min": 1, "mean": 3.0, "median": 3, "p95": 6, "max": 6}
    assert source["truncated"] == 2
    assert source["oov_rate"] == pytest.approx(9 / 15)
    assert report["labels"] == {"1": 3, "0": 2}
    assert report["target"]["types"] == 2 and report["tags"] is None
    text = format_report(report)
    assert "examples: 5" in text and "truncates 2 examples (40.0%)" in text
    assert "out of vocabulary: 60.00% of tokens" in text and "labels: 1 60.0%, 0 40.0%" in text


def test_char_tokens_and_per_side_limits():
    examples = [Example("cat", "K AE T", "cat"), Example("house", "HH AW S", "house")]
    report = inspect_examples(examples, max_length={"source": 4}, tokenizers={"source": "char"})
    assert report["source"]["length"]["max"] == 5 and report["source"]["truncated"] == 1
    assert report["target"]["truncated"] is None and report["target"]["length"]["max"] == 3
    assert report["labels"] is None


def test_tag_sequences_and_language_model_text():
    tagged = [Example(("He", "ran"), ("B-NP", "B-VP")), Example(("It",), ("B-NP",))]
    report = inspect_examples(tagged)
    assert report["tags"] == {"B-NP": 2, "B-VP": 1} and report["source"]["tokens"] == 3
    assert "tags: B-NP 66.7%, B-VP 33.3%" in format_report(report)
    text_only = inspect_examples([Example("to be or not")])
    assert text_only["target"] is None and text_only["labels"] is None
    assert inspect_examples([])["source"] is None


def test_tokenizer_object():
    class Upper:
        def split_py(self, texts):
            return [text.upper().split() for text in texts]

    report = inspect_examples([Example("a b")], tokenizers={"source": Upper()}, vocabularies={"source": {"A"}})
    assert report["source"]["oov_rate"] == 0.5


def test_png(tmp_path):
    out = tmp_path / "lengths.png"
    report = inspect_examples(REVIEWS, max_length=3, out_png=str(out))
    assert report["png"] == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "histograms: " in format_report(report)


def test_data_inspect_through_the_command_line(tmp_path):
    rows = ["a red\tred", "b c blue\tblue", "red\tred", "d e f red\tred"] * 5
    (tmp_path / "train.tsv").write_text("".join(f"{row}\n" for row in rows))
    recipe = {"name": "tiny_inspect", "type": "many_to_one",
              "data": {"train": str(tmp_path / "train.tsv"), "valid_split": 0.0, "test_split": 0.0,
                       "source": {"tokenizer": "word", "max_length": 2}}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    result = CliRunner().invoke(cli, ["data", "inspect", str(tmp_path / "recipe.yaml"),
                                      "--png", str(tmp_path / "lengths.png")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "train:" in lines and "  examples: 20" in lines
    # 2 of every 4 rows have more than 2 words; 3 of 4 are red.
    assert "    max length 2 truncates 10 examples (50.0%)" in lines
    assert "  labels: red 75.0%, blue 25.0%" in lines
    assert (tmp_path / "lengths.png").stat().st_size > 0
