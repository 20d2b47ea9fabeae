"""Paths and helpers the tests share."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
SHARED_DATA = ROOT.parent / "shared" / "data"
# The default G2P recipe with a recurrent decoder, as tests of training read it
# (teacher forcing, label smoothing, float32), whatever output the recipe uses.
G2P_RNN = ["model.decoder=rnn", "model.upsample=1", "model.layers=1", "training.precision=float32"]


def fit_recipe(recipe):
    """Fits a recipe file with `kerasrnn fit` into `run/` beside it: (run folder, output)."""
    from click.testing import CliRunner

    from kerasrnn.cli import cli

    out = recipe.parent / "run"
    result = CliRunner().invoke(cli, ["fit", str(recipe), "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output
