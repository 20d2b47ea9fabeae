"""Recipe schema: defaults, every kind of error at once, overrides."""

import pytest
import yaml

from kerasrnn import config
from kerasrnn.config import RecipeError, load_recipe

from support import RECIPES

MINIMAL = {"name": "tiny", "type": "seq2seq", "data": {"dataset": "cmudict"}}


def write(tmp_path, obj, name="recipe.yaml"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else yaml.safe_dump(obj), encoding="utf-8")
    return path


def errors_of(path, overrides=()):
    with pytest.raises(RecipeError) as info:
        load_recipe(path, overrides)
    return info.value.errors


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_validates(path):
    recipe = load_recipe(path)
    assert recipe["name"] == path.stem


def test_defaults_are_filled_in(tmp_path):
    recipe = load_recipe(write(tmp_path, MINIMAL))
    assert recipe["training"]["epochs"] == config.SCHEMA["training"]["epochs"].default
    assert recipe["model"]["cell"] == "lstm"
    assert recipe["data"]["source"]["tokenizer"] == "char"
    # The dump reads back to the same resolved recipe.
    assert config.resolve(yaml.safe_load(config.dump_recipe(recipe))) == recipe


def test_unknown_key_suggests_the_close_one(tmp_path):
    errors = errors_of(write(tmp_path, {**MINIMAL, "training": {"epocs": 3}}))
    assert errors == ["training -> epocs: unknown key (did you mean 'epochs'?)"]


def test_every_error_is_reported_at_once(tmp_path):
    recipe = {
        "type": "seq2sec",
        "data": {"dataset": "cmudict", "train": str(tmp_path / "missing.txt")},
        "model": {"units": "many", "layers": 0},
        "training": {"learning_rate": -1, "batch_size": 2.5},
        "extra": 1,
    }
    errors = errors_of(write(tmp_path, recipe))
    assert "name: missing required key" in errors
    assert any(e.startswith("type: 'seq2sec' is not one of") and "did you mean 'seq2seq'" in e for e in errors)
    assert any(e.startswith("data -> train: no such file:") for e in errors)
    assert "model -> units: expected an integer, got 'many'" in errors
    assert "model -> layers: 0 is below the minimum 1" in errors
    assert "training -> learning_rate: -1.0 is below the minimum 0.0" in errors
    assert "training -> batch_size: expected an integer, got 2.5" in errors
    assert "extra: unknown key" in errors
    assert len(errors) == 8


def test_booleans_are_not_numbers(tmp_path):
    errors = errors_of(write(tmp_path, {**MINIMAL, "model": {"units": True}}))
    assert errors == ["model -> units: expected an integer, got True"]


def test_section_must_be_a_mapping(tmp_path):
    errors = errors_of(write(tmp_path, {**MINIMAL, "training": [1, 2]}))
    assert errors == ["training: expected a mapping, got [1, 2]"]


def test_unknown_dataset_lists_the_catalog(tmp_path):
    errors = errors_of(write(tmp_path, {**MINIMAL, "data": {"dataset": "cmudic"}}))
    assert len(errors) == 1
    assert "unknown dataset 'cmudic' (did you mean 'cmudict'?)" in errors[0]


def test_data_needs_a_dataset_or_files(tmp_path):
    errors = errors_of(write(tmp_path, {"name": "x", "type": "seq2seq"}))
    assert errors == ["data -> dataset: missing: name a catalog dataset or give data -> train"]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "name: x\ntype: seq2seq\ndata: {dataset: cmudict\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:4:")
    assert "invalid YAML" in error


def test_yaml_is_read_safely(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['true']\ntype: seq2seq\n")
    (error,) = errors_of(path)
    assert "invalid YAML" in error


def test_recipe_must_be_a_mapping(tmp_path):
    assert errors_of(write(tmp_path, "- a\n- b\n")) == [f"{tmp_path / 'recipe.yaml'}: a recipe is a YAML mapping of sections"]


def test_missing_recipe_file(tmp_path):
    assert errors_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such recipe file"]


def test_overrides_are_parsed_and_validated(tmp_path):
    path = write(tmp_path, MINIMAL)
    recipe = load_recipe(path, ["training.epochs=2", "data.max_examples=5000", "model.bidirectional=true", "training.clipnorm=null"])
    assert recipe["training"]["epochs"] == 2
    assert recipe["data"]["max_examples"] == 5000
    assert recipe["model"]["bidirectional"] is True
    assert recipe["training"]["clipnorm"] is None
    assert errors_of(path, ["training.epocs=2"]) == ["training -> epocs: unknown key (did you mean 'epochs'?)"]
    assert errors_of(path, ["training.epochs=two"]) == ["training -> epochs: expected an integer, got 'two'"]
    assert errors_of(path, ["training.epochs"]) == ["--set training.epochs: expected KEY=VALUE, e.g. training.epochs=2"]


def test_float_fields_take_integers(tmp_path):
    recipe = load_recipe(write(tmp_path, MINIMAL), ["training.learning_rate=1"])
    assert recipe["training"]["learning_rate"] == 1.0
    assert isinstance(recipe["training"]["learning_rate"], float)


def test_path_globs_and_zip_members(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    (tmp_path / "d.zip").write_bytes(b"")
    good = {**MINIMAL, "data": {"train": str(tmp_path / "*.txt"), "test": str(tmp_path / "d.zip") + ":inner.txt"}}
    assert load_recipe(write(tmp_path, good))["data"]["train"].endswith("*.txt")
    bad = {**MINIMAL, "data": {"train": str(tmp_path / "*.csv")}}
    assert errors_of(write(tmp_path, bad)) == [f"data -> train: no such file: {tmp_path / '*.csv'}"]
