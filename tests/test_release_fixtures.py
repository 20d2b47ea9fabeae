"""Runs and exports made by kerasrnn 0.1.0 load and answer as they did then.

`tests/fixtures/release_0_1/` holds, for four types, a run folder and its
SavedModel and .tflite exports, made before the package took its current
layout, with the `predict` rows each gave (`make_release_fixtures.py`).
"""

import json

import numpy as np
import pytest

import kerasrnn
from support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "release_0_1"
NAMES = ["g2p", "colours", "chunks", "char_lm"]


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        # A row may carry keys added since (a language model's `unk` count);
        # the keys it had keep their values.
        assert w.keys() <= g.keys()
        for key, value in w.items():
            if isinstance(value, float):
                # A language model's scores are sums taken in another order.
                np.testing.assert_allclose(g[key], value, rtol=1e-4)
            elif isinstance(value, dict):
                assert g[key].keys() == value.keys()
                np.testing.assert_allclose(list(g[key].values()), list(value.values()), atol=1e-4)
            else:
                assert g[key] == value, key


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("artifact", ["run", "savedmodel", "tflite"])
def test_old_artifacts_load_and_predict_as_before(name, artifact, tmp_path, monkeypatch):
    folder = FIXTURES / name
    expected = json.loads((folder / "expected.json").read_text())
    path = {"run": "run", "savedmodel": f"export/{name}/1", "tflite": f"export/{name}/model.tflite"}[artifact]
    # Loaded from elsewhere: a run needs its model, not the data files its recipe names.
    monkeypatch.chdir(tmp_path)
    model = kerasrnn.load(folder / path)
    assert model.format == artifact
    _same(model.predict(expected["inputs"]), expected[artifact])
