"""Ensembles of classifiers and taggers: the members' scores averaged in one model."""

import numpy as np
import pytest
from click.testing import CliRunner
from test_tagger import chunking_recipe, tags_from_every_artifact
from tiny import tiny_recipe

import kerasrnn
from kerasrnn import config, training
from kerasrnn.builders.tagger import crf_weights
from kerasrnn.cli import cli
from kerasrnn.runs import Run

# Sentences as in training, then jumbled ones that leave the members unsure.
TEXTS = ["the big dog likes a cat in the old red house on the car .", "IBM eats .", "a cat !",
         "on on the the IBM likes likes .", "red sees in . dog", "eats a a on Zebra big sees !",
         "the cat in in the red red likes"]


def fit_members(recipe, folder, seeds, *overrides):
    """`kerasrnn fit` of `recipe` once per seed, all holding out the same split: the run folders."""
    dirs = []
    for seed in seeds:
        out = folder / f"run_{seed}"
        args = ["fit", str(recipe), "-o", str(out), "--set", f"training.seed={seed}",
                "--set", "data.split_seed=1337"]
        for override in overrides:
            args += ["--set", override]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        dirs.append(str(out))
    return dirs


def sequence_score(logits, tags, crf):
    """A CRF's unnormalized score of one tag sequence."""
    transitions, start, end = crf
    score = start[tags[0]] + end[tags[-1]] + sum(logits[t, tag] for t, tag in enumerate(tags))
    return score + sum(transitions[a, b] for a, b in zip(tags, tags[1:]))


@pytest.fixture(scope="module")
def crf_members(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crf_ensemble")
    recipe = chunking_recipe(folder, "crf_tagger", "crf: true, spelling_features: true")
    return folder, fit_members(recipe, folder, (1337, 7, 8), "training.epochs=2")


def test_a_crf_ensemble_tags_with_the_path_its_members_score_highest_together(crf_members):
    folder, dirs = crf_members
    result = CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(folder / "all")])
    assert result.exit_code == 0, result.output
    assert "valid f1" in result.output and "test f1" in result.output
    members = [Run(d) for d in dirs]
    ensemble = Run(str(folder / "all"))
    crfs = [crf_weights(run.model) for run in members]
    for joined, each in zip(crf_weights(ensemble.model), zip(*crfs)):
        np.testing.assert_allclose(joined, np.mean(each, axis=0), atol=1e-6)

    vocabs = ensemble.vocabs
    tag_id = {t: i for i, t in enumerate(vocabs["target"].tokens)}
    rows = [run.builder.tag(run.model, vocabs, TEXTS)[1] for run in members]
    ensemble_rows = ensemble.builder.tag(ensemble.model, vocabs, TEXTS)[1]
    for i, text in enumerate(TEXTS):
        logits = []
        for run in members:
            make = {k: v.to_tensor() for k, v in run.builder.inputs(vocabs, [text], truncate=False).items()}
            logits.append(run.model(make).numpy()[0])

        def together(tags):
            ids = [tag_id[t] for t in tags]
            return sum(sequence_score(lg, ids, crf) for lg, crf in zip(logits, crfs))

        best = together(ensemble_rows[i])
        for own in rows:
            assert best >= together(own[i]) - 1e-4, text
    # The members disagree somewhere, or this would not tell joining from taking one member.
    assert any(len({tuple(row[i]) for row in rows}) > 1 for i in range(len(TEXTS)))


def test_a_crf_ensemble_exports_as_one_graph_with_the_same_tags(crf_members, tmp_path):
    folder, dirs = crf_members
    out = tmp_path / "ens"
    assert CliRunner().invoke(cli, ["ensemble", *dirs[:2], "-o", str(out)]).exit_code == 0
    _, answers = tags_from_every_artifact(out, tmp_path / "export", "crf_tagger", TEXTS[:2])
    assert answers == [row["tags"] for row in kerasrnn.load(out).predict(TEXTS[:2])]


def test_a_classifier_ensemble_gives_the_members_mean_logits(tmp_path):
    recipe = tiny_recipe("many_to_one", tmp_path)
    dirs = []
    for seed in (1337, 5):
        run = {**recipe, "training": {**recipe["training"], "seed": seed, "epochs": 2},
               "data": {**recipe["data"], "split_seed": 1337}}
        training.fit(run, str(tmp_path / f"run_{seed}"), echo=lambda _: None)
        dirs.append(str(tmp_path / f"run_{seed}"))
    model = kerasrnn.ensemble(dirs, tmp_path / "both", echo=lambda _: None)
    texts = ["w1 blue w2 w3", "red", "w4 w5 green w6 w7 w8", "w9"]
    members = [Run(d) for d in dirs]
    logits = np.mean([run.builder.outputs(run.model, run.vocabs, texts) for run in members], axis=0)
    tokens = members[0].vocabs["target"].tokens
    rows = model.predict(texts)
    for row, scores in zip(rows, logits):
        probs = np.exp(scores[1:] - scores[1:].max())
        probs /= probs.sum()
        assert row["output"] == tokens[1 + int(np.argmax(scores[1:]))]
        assert row["probabilities"][row["output"]] == pytest.approx(probs.max(), abs=1e-4)
    assert model.evaluate()["accuracy"] == pytest.approx(model.metrics["test"]["accuracy"])


def test_members_with_another_output_are_refused(crf_members, tmp_path):
    folder, dirs = crf_members
    (other,) = fit_members(folder / "crf_tagger.yaml", tmp_path, (9,), "training.epochs=1", "model.crf=false")
    result = CliRunner().invoke(cli, ["ensemble", dirs[0], other, "-o", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert "cannot join" in result.output and "its model.crf is False, not True" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "e").exists()


def test_language_models_are_not_joined(tmp_path):
    dirs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        recipe = tiny_recipe("language_model", tmp_path)
        (tmp_path / name / "recipe.yaml").write_text(config.dump_recipe(recipe))
        dirs.append(str(tmp_path / name))
    result = CliRunner().invoke(cli, ["ensemble", *dirs, "-o", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and "ensembles take classifiers" in result.output
    assert not (tmp_path / "e").exists()
