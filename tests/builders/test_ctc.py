"""seq2seq with a CTC decoder, on a tiny spelling task the tests make."""

import json
import random

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

import kerasrnn
from kerasrnn import builders, config, export, training
from kerasrnn.builders.ctc import CTC
from kerasrnn.builders.seq2seq import Seq2Seq
from kerasrnn.cli import cli
from kerasrnn.data.examples import Example
from kerasrnn.data.vocab import Vocabulary
from kerasrnn.errors import RecipeError
from kerasrnn.runs import Run

# Each letter spells one token, and x and q two: outputs are longer than inputs.
SPELL = {**{c: c.upper() for c in "abcdef"}, "x": "K S", "q": "K W"}
# Five tokens from one letter: no upsampling by 2 aligns it.
UNALIGNABLE = "x\tK S K S K\n"


def write_words(path, n, seed, unalignable=False):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            word = "".join(rng.choice(list(SPELL)) for _ in range(rng.randint(1, 5)))
            f.write(f"{word}\t{' '.join(SPELL[c] for c in word)}\n")
        if unalignable:
            f.write(UNALIGNABLE)


def ctc_recipe(folder, **model):
    return config.resolve({
        "name": "tiny_ctc",
        "type": "seq2seq",
        "data": {
            "train": str(folder / "train.tsv"), "test": str(folder / "test.tsv"), "valid_split": 0.1,
            "source": {"tokenizer": "char"}, "target": {"tokenizer": "pretokenized"},
        },
        "model": {"decoder": "ctc", "upsample": 2, "cell": "gru", "units": 24, "embedding_dim": 12,
                  "bidirectional": True, **model},
        "training": {"epochs": 6, "batch_size": 32, "learning_rate": 0.02, "verbose": 0,
                     "tensorboard": False},
    }, files=False)


@pytest.fixture(scope="module")
def ctc_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ctc")
    write_words(folder / "train.tsv", 300, 0, unalignable=True)
    write_words(folder / "test.tsv", 40, 1)
    lines = []
    result = training.fit(ctc_recipe(folder), str(folder / "run"), echo=lines.append)
    return Run(str(folder / "run")), result, lines


def test_learns_a_mapping_with_outputs_longer_than_inputs(ctc_run):
    run, result, _ = ctc_run
    assert isinstance(run.builder, CTC)
    assert result["test"]["sequence_error_rate"] < 0.1
    rows = run.builder.predict(run.model, run.vocabs, ["xab", "qx"])
    assert rows == [{"input": "xab", "output": "K S A B"}, {"input": "qx", "output": "K W K S"}]


def test_an_unalignable_example_is_left_out_and_named_with_its_line(ctc_run):
    _, _, lines = ctc_run
    reports = [line for line in lines if line.startswith("ctc:")]
    assert len(reports) == 1
    assert "1 of " in reports[0] and "train.tsv:301 'x' -> 'K S K S K'" in reports[0]
    assert "model.upsample (2)" in reports[0]


def test_beam_decoding_agrees_on_a_confident_model(ctc_run):
    run, _, _ = ctc_run
    run.builder.recipe["decoding"].update(strategy="beam", beam_width=4)
    try:
        rows = run.builder.predict(run.model, run.vocabs, ["xab", "qx"])
    finally:
        run.builder.recipe["decoding"]["strategy"] = "greedy"
    assert [row["output"] for row in rows] == ["K S A B", "K W K S"]


def test_evaluate_scores_every_reference_and_unalignable_examples(ctc_run):
    run, _, _ = ctc_run
    examples = [Example("ab", "A B", "ab"), Example("ab", "A X", "ab"), Example("x", "K S K S K", "x")]
    scores = run.builder.evaluate(run.model, run.vocabs, examples)
    assert scores["examples"] == 2
    assert scores["sequence_error_rate"] == pytest.approx(0.5)


@pytest.mark.parametrize("mode, steps", [("split", 6), ("repeat", 6)])
def test_the_model_scores_upsample_steps_per_source_token(tmp_path, mode, steps):
    recipe = ctc_recipe(tmp_path, upsample_mode=mode, layers=2)
    builder = builders.get(recipe)
    vocabs = {side: Vocabulary.build({t: 1 for t in "abcd"}) for side in builder.SIDES}
    model = builder.build(vocabs)
    ids = np.array([[5, 6, 7], [5, 0, 0]], "int32")
    logits = np.asarray(model({"source": ids}))
    assert logits.shape == (2, steps, len(vocabs["target"]))
    # The padded steps of row 1 are certain blanks.
    assert (logits[1, 2:].argmax(-1) == 0).all()


def test_the_decoder_key_chooses_the_builder(tmp_path):
    assert isinstance(builders.get(ctc_recipe(tmp_path)), CTC)
    assert type(builders.get(ctc_recipe(tmp_path, decoder="rnn", upsample=1))) is Seq2Seq


def test_recipe_errors_name_the_key(tmp_path):
    recipe = ctc_recipe(tmp_path)
    raw = {key: recipe[key] for key in ("name", "data", "training")}
    cases = [
        ({"type": "many_to_one", "model": {"decoder": "ctc"}}, "model -> decoder"),
        ({"type": "seq2seq", "model": {"upsample": 2}}, "model -> upsample"),
        ({"type": "seq2seq", "model": {"decoder": "ctc"}, "decoding": {"strategy": "sample"}},
         "decoding -> strategy"),
        ({"type": "seq2seq", "model": {"decoder": "attention"}}, "model -> decoder"),
    ]
    for extra, key in cases:
        with pytest.raises(RecipeError, match=key):
            config.resolve({**raw, **extra}, files=False)


def test_the_run_the_savedmodel_and_the_tflite_predict_alike(ctc_run, tmp_path):
    run, _, _ = ctc_run
    result = CliRunner().invoke(cli, ["export", run.dir, "--format", "all", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / run.recipe["name"]
    meta = json.loads((folder / "export.json").read_text())
    assert meta["ctc"] == {"blank": 0, "upsample": 2}
    texts = ["xab", "qx", "a", "ffff", "dxq"]
    expected = kerasrnn.load(run.dir).predict(texts)
    for path in (folder / "model.tflite", folder / "1"):
        assert kerasrnn.load(path).predict(texts) == expected, path
    ops = export.op_list(folder / "model.tflite")
    # Builtin ops only (a GRU's loop is a builtin WHILE; there is no decoding loop).
    assert not [op for op in ops if op.startswith("Flex") or op == "CUSTOM"], ops
    # The SavedModel decodes inside its graph: raw strings in, phonemes out.
    serve = tf.saved_model.load(str(folder / "1")).signatures["serving_default"]
    outputs = serve(text=tf.constant(texts))["output"].numpy()
    assert [o.decode() for o in outputs] == [row["output"] for row in expected]
