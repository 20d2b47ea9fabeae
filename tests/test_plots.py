"""Figures: training curves and the confusion matrix of `kerasrnn plot`."""

import random

import numpy as np
from click.testing import CliRunner

from kerasrnn import plots
from kerasrnn.cli import cli

PNG = b"\x89PNG\r\n\x1a\n"


def test_confusion_matrix_counts(tmp_path):
    path = tmp_path / "cm.png"
    counts = plots.confusion_matrix(
        ["a", "a", "b", "c", "c", "c"], ["a", "b", "b", "c", "a", "c"], ["a", "b", "c"], str(path)
    )
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert path.read_bytes()[:8] == PNG


def test_training_curves_without_validation(tmp_path):
    path = tmp_path / "curves.png"
    rows = [{"epoch": 1, "loss": 2.0, "learning_rate": 0.01, "seconds": 3.0},
            {"epoch": 2, "loss": 1.5, "learning_rate": 0.005, "seconds": 2.0}]
    plots.training_curves(rows, str(path), "tiny")
    assert path.read_bytes()[:8] == PNG


def test_plot_command_draws_a_classifier_run(tmp_path):
    rng = random.Random(0)
    words = {"pos": ["good", "great", "fine", "nice"], "neg": ["bad", "awful", "poor", "sad"]}
    lines = []
    for _ in range(240):
        label = rng.choice(["pos", "neg"])
        filler = rng.sample(["the", "a", "film", "was", "very", "plot", "it"], 3)
        lines.append(f"{' '.join(filler + [rng.choice(words[label])])}\t{label}")
    data = tmp_path / "reviews.tsv"
    data.write_text("\n".join(lines) + "\n")
    recipe = tmp_path / "reviews.yaml"
    recipe.write_text(
        "name: reviews\ntype: many_to_one\n"
        f"data: {{train: {data}, format: tsv, test_split: 0.2, source: {{tokenizer: word}}, target: {{tokenizer: label}}}}\n"
        "model: {cell: gru, units: 16, embedding_dim: 8}\n"
        "training: {epochs: 2, batch_size: 16, learning_rate: 0.01, verbose: 0, tensorboard: false}\n"
    )
    out = tmp_path / "run"
    fitted = CliRunner().invoke(cli, ["fit", str(recipe), "-o", str(out)])
    assert fitted.exit_code == 0, fitted.output
    result = CliRunner().invoke(cli, ["plot", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(out / "training_curves.png"), str(out / "confusion_matrix.png")]
    assert (out / "confusion_matrix.png").read_bytes()[:8] == PNG


def test_plot_of_a_folder_without_a_run_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["plot", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run folder" in result.output
