"""Run folders stay where the user put them; --force removes only what a run wrote; bad data writes nothing."""

import os
import tempfile

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kerasrnn import config, runs
from kerasrnn.cli import cli
from kerasrnn.data.errors import DataError
from kerasrnn.data.readers import FORMATS, read_examples
from kerasrnn.errors import RecipeError
from support import RECIPES, ROOT

POS = RECIPES / "pos_conllu.yaml"
SAMPLE = ROOT / "tests" / "fixtures" / "conllu" / "pos_sample.conllu"
TINY = ["model.units=8", "model.embedding_dim=8", "model.char_cnn=0", "training.epochs=1",
        "training.verbose=0", f"data.train={SAMPLE}"]


def sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


def pos_recipe(name):
    raw = config.read_yaml(POS)
    raw["name"] = name
    return config.resolve(raw, files=False)


@pytest.mark.parametrize(
    "name", ["../../escape", "..", ".", "a/b", "a\\b", "/tmp/x", "~user", "run one", "", "x/../y", "a..b", "run\n"]
)
def test_a_name_that_is_not_a_plain_folder_name_is_a_recipe_error(name):
    with pytest.raises(RecipeError) as error:
        pos_recipe(name)
    assert error.value.errors == [
        f"name: {name!r} is not a plain folder name: use letters, digits, _, - and ., "
        "with no '..' (the run folder is saved_models/<name>/)"
    ]


@pytest.mark.parametrize("name", ["pos_conllu", "pos.v2-1", "UD_English-EWT", "étiquetage"])
def test_plain_names_are_accepted(name):
    assert pos_recipe(name)["name"] == name


def test_fit_refuses_an_escaping_name_and_writes_nothing(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(cli, ["fit", str(POS)] + sets(TINY + ["name=../../escape"]))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "Error: name: '../../escape' is not a plain folder name: use letters, digits, _, - and ., "
        "with no '..' (the run folder is saved_models/<name>/)"
    ]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b"]


# A finished run's files, by the names kerasrnn gives them, and files of the user's beside them.
OURS = [
    "model.keras", "history.csv", "metrics.json", "training_curves.png", "confusion_matrix.png",
    "gradient_norms.png", "vocab.source.json", "vocab.target.json", "vocab.char.json", "model.tmp-123.keras",
    "checkpoints/checkpoint", "checkpoints/ckpt-3.index", "checkpoints/ckpt-3.data-00000-of-00001",
    "checkpoints/checkpoint.tmp5f2e", "checkpoints/ckpt-4_temp/part-00000-of-00001.data-00000-of-00001",
    "logs/train/events.out.tfevents.1796146701.vm.23893.0.v2",
    "logs/validation/events.out.tfevents.1796146701.vm.23893.1.v2",
]
THEIRS = [
    "notes.txt", "model.keras.bak", "history.csv.old", "train.conllu", "checkpoints/notes.txt",
    "logs/train/profile.json", "logs/README", "export/pos_conllu/1/saved_model.pb", "results/metrics.json",
]


def make_files(folder, names):
    for name in ["recipe.yaml", *names]:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"old {name}\n")


def test_clear_removes_only_a_runs_own_files(tmp_path):
    make_files(tmp_path, OURS + THEIRS)
    runs.clear(str(tmp_path))
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    # recipe.yaml stays until the new run writes its own.
    assert left == sorted(["recipe.yaml", *THEIRS])


def test_clear_removes_the_folders_it_empties(tmp_path):
    make_files(tmp_path, OURS)
    runs.clear(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["recipe.yaml"]


def test_fit_force_starts_over_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "run"
    make_files(out, OURS + THEIRS)
    refused = CliRunner().invoke(cli, ["fit", str(POS), "--output", str(out)] + sets(TINY))
    assert refused.exit_code == 2 and "holds a run already" in refused.output
    result = CliRunner().invoke(cli, ["fit", str(POS), "--output", str(out), "--force"] + sets(TINY))
    assert result.exit_code == 0, result.output
    for name in THEIRS:
        assert (out / name).read_text() == f"old {name}\n", name
    assert yaml.safe_load((out / "recipe.yaml").read_text())["training"]["epochs"] == 1
    assert (out / "history.csv").read_text().count("\n") == 2
    assert (out / "checkpoints" / "ckpt-1.index").exists()
    assert not (out / "checkpoints" / "ckpt-3.index").exists() and not (out / "gradient_norms.png").exists()
    assert not [p for p in out.rglob("*") if ".tmp" in p.name or "_temp" in p.name]


# Data no reader accepts: one `file:line` error, exit code 2, no traceback, no run folder.

BAD = st.sampled_from([b"\xff\xfe", b"caf\xe9", b"1\tx", b"a\tb\tc", b"{not json", b"only", b"1-2\t\t", b"\x00"])
LINES = st.lists(st.one_of(BAD, st.binary(max_size=20), st.just(b"a\tb")), min_size=1, max_size=6)


@settings(max_examples=20, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(fmt=st.sampled_from(FORMATS), lines=LINES, ending=st.sampled_from([b"\n", b"\r\n"]))
def test_unreadable_data_stops_fit_with_one_line_and_writes_nothing(fmt, lines, ending):
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "train.txt")
        with open(data, "wb") as f:
            f.write(ending.join(lines) + ending)
        try:
            list(read_examples(data, fmt))
        except DataError as error:
            message = str(error)
        else:
            message = None
        assume(message is not None)
        recipe = os.path.join(folder, "recipe.yaml")
        with open(recipe, "w", encoding="utf-8") as f:
            yaml.safe_dump({"name": "fuzz", "type": "many_to_one", "data": {"train": data, "format": fmt}}, f)
        out = os.path.join(folder, "run")
        result = CliRunner().invoke(cli, ["fit", recipe, "--output", out])
        assert result.exit_code == 2, result.output
        assert result.output.splitlines() == [f"Error: {message}"]
        assert message.startswith(f"{data}:") and "Traceback" not in result.output
        assert not os.path.exists(out)
