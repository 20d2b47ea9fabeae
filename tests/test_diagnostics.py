"""Vanishing gradients made visible: `kerasrnn diagnose gradients`."""

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from kerasrnn import diagnostics
from kerasrnn.cli import cli
from kerasrnn.config import load_recipe
from support import RECIPES

MODEL = {"layers": 1, "units": 32, "bidirectional": False, "embedding_dim": 16}


def log_ratio(norms):
    """How many decades the first step's gradient lies below the last step's."""
    return np.log10(norms[0] / norms[-1])


@pytest.mark.parametrize("seed", [0, 1])
def test_simple_rnn_gradient_vanishes_faster_than_lstm(seed):
    inputs = np.random.default_rng(seed).standard_normal((8, 60, 16)).astype("float32")
    ratios = {
        cell: log_ratio(diagnostics.gradient_norms(diagnostics.fresh_stack(MODEL, cell, seed), inputs))
        for cell in ("simple_rnn", "lstm")
    }
    assert ratios["simple_rnn"] < -6, ratios
    assert ratios["lstm"] > ratios["simple_rnn"] + 2, ratios


def test_gradient_is_largest_near_the_output():
    inputs = np.random.default_rng(0).standard_normal((4, 12, 16)).astype("float32")
    norms = diagnostics.gradient_norms(diagnostics.fresh_stack(MODEL, "lstm", 0), inputs)
    assert norms.shape == (12,)
    assert norms[-1] > norms[0] > 0


def test_cli_writes_png_with_one_curve_per_cell(tmp_path):
    recipe = yaml.safe_load((RECIPES / "g2p_cmudict.yaml").read_text())
    recipe.setdefault("model", {}).update(units=8, embedding_dim=8, layers=2)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(recipe))
    load_recipe(str(path))
    out = tmp_path / "grads.png"
    result = CliRunner().invoke(
        cli,
        ["diagnose", "gradients", str(path), "--length", "20", "--cells", "simple_rnn,gru", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "simple_rnn: |dL/dx_1| / |dL/dx_T|" in result.output
    assert "gru: |dL/dx_1| / |dL/dx_T|" in result.output


def test_cli_rejects_unknown_cell(tmp_path):
    result = CliRunner().invoke(
        cli, ["diagnose", "gradients", str(RECIPES / "g2p_cmudict.yaml"), "--cells", "lstm,transformer"]
    )
    assert result.exit_code == 2
    assert "transformer" in result.output


def test_run_folder_gives_trained_curve(tmp_path):
    # Trained in mixed precision (what `precision: auto` picks on a CPU with
    # bfloat16 arithmetic); the curve is measured on a float32 copy.
    run = tmp_path / "run"
    overrides = ["data.max_examples=200", "training.epochs=1", "training.verbose=0",
                 "model.units=8", "model.embedding_dim=8", "training.precision=mixed_bfloat16"]
    args = ["fit", str(RECIPES / "g2p_cmudict.yaml"), "--output", str(run)]
    fit = CliRunner().invoke(cli, args + [a for o in overrides for a in ("--set", o)])
    assert fit.exit_code == 0, fit.output
    result = CliRunner().invoke(cli, ["diagnose", "gradients", str(run), "--length", "4"])
    assert result.exit_code == 0, result.output
    assert (run / diagnostics.FIGURE).read_bytes()[:4] == b"\x89PNG"
    assert "(trained, " in result.output
