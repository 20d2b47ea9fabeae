"""seq2seq with the recurrent decoder: a reversed source and a context at every step."""

import json

import numpy as np
import pytest
from tiny import INPUTS, TINY, tiny_recipe

import kerasrnn
from kerasrnn import builders, config, training
from kerasrnn.data.vocab import Vocabulary
from kerasrnn.errors import RecipeError

OPTIONS = {
    "both": {"reverse_source": True, "context": "every_step"},
    "reverse_source": {"reverse_source": True},
    "every_step": {"context": "every_step"},
}


def option_recipe(tmp, **model):
    recipe = tiny_recipe("seq2seq", tmp)
    return config.resolve(
        {**recipe, "model": {**recipe["model"], "decoder": "rnn", "upsample": 1, **model}, "training": TINY}
    )


# The default run fits one model with both options on; each alone with `-m slow`.
@pytest.fixture(scope="module", params=["both", *(pytest.param(k, marks=pytest.mark.slow) for k in OPTIONS
                                                  if k != "both")])
def exported(request, tmp_path_factory):
    """(run folder, export folder, report) of a tiny G2P fit with options on, in both formats."""
    tmp = tmp_path_factory.mktemp(request.param)
    recipe = option_recipe(tmp, **OPTIONS[request.param])
    training.fit(recipe, str(tmp / "run"), echo=lambda _: None)
    report = kerasrnn.load(tmp / "run").export(
        ["savedmodel", "tflite"], "none", tmp / "out", texts=INPUTS["seq2seq"], echo=lambda _: None
    )
    return tmp / "run", tmp / "out" / recipe["name"], report


def test_the_run_and_its_exports_predict_alike(exported):
    run, folder, report = exported
    want = kerasrnn.load(run).predict(INPUTS["seq2seq"])
    assert all(row["output"] for row in want)
    for path in (folder / "1", folder / "model.tflite"):
        assert kerasrnn.load(path).predict(INPUTS["seq2seq"]) == want, path
    for key in ("savedmodel", "tflite/none"):
        check = report["artifacts"][key]["parity"]
        assert check["logits_max_abs_diff"] < 1e-4 and check["state_max_abs_diff"] < 1e-4, (key, check)
        assert check["greedy_identical"] == check["examples"], (key, check)


def test_the_context_is_carried_as_the_first_state(exported):
    run, folder, _ = exported
    meta = json.loads((folder / "export.json").read_text())
    recipe = kerasrnn.load(run).recipe
    # An LSTM decoder carries two states per level; the context comes before them.
    assert recipe["model"]["cell"] == "lstm"
    states = 2 * recipe["model"]["layers"] + (recipe["model"]["context"] == "every_step")
    assert meta["state_sizes"] == [recipe["model"]["units"]] * states


def built(tmp, **model):
    recipe = option_recipe(tmp, **model)
    builder = builders.get(recipe)
    vocabs = {side: Vocabulary.build({t: 1 for t in "abcdefg"}) for side in builder.SIDES}
    return builder, vocabs, builder.build(vocabs)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_a_reversed_padded_row_encodes_as_the_row_alone(tmp_path, bidirectional):
    builder, vocabs, model = built(tmp_path, reverse_source=True, bidirectional=bidirectional,
                                   context="every_step")
    encoder, _ = builder.inference_models(model, vocabs)
    padded = np.asarray(encoder(np.array([[4, 5, 6, 7], [5, 6, 0, 0]], "int32")))
    alone = np.asarray(encoder(np.array([[5, 6]], "int32")))
    np.testing.assert_allclose(padded[:, 1], alone[:, 0], atol=1e-6)
    # Reversed is not the same as read forwards.
    forward = np.asarray(encoder(np.array([[6, 5]], "int32")))
    assert np.abs(forward - alone).max() > 1e-4


def test_reverse_source_reads_the_same_states_as_a_reversed_input(tmp_path):
    builder, vocabs, model = built(tmp_path, reverse_source=True)
    encoder, _ = builder.inference_models(model, vocabs)
    plain, plain_vocabs, plain_model = built(tmp_path)
    plain_model.set_weights(model.get_weights())
    plain_encoder, _ = plain.inference_models(plain_model, plain_vocabs)
    rows = np.array([[4, 5, 6, 7], [5, 6, 0, 0]], "int32")
    reversed_rows = np.array([[7, 6, 5, 4], [6, 5, 0, 0]], "int32")
    np.testing.assert_allclose(encoder(rows), plain_encoder(reversed_rows), atol=1e-6)


def test_the_defaults_add_no_layer_and_every_step_joins_the_context(tmp_path):
    _, _, plain = built(tmp_path)
    _, _, both = built(tmp_path, reverse_source=True, context="every_step")
    names = {layer.name for layer in plain.layers}
    assert not names & {"reverse_source", "context", "decoder_context", "output_context"}
    added = {layer.name for layer in both.layers} - names
    assert added == {"reverse_source", "encoder_summary", "context", "decoder_context", "output_context"}
    units, embedding = both.get_layer("context").units, both.get_layer("target_embedding").output_dim
    # The decoder reads the embedding and the context; the output layer its state and the context.
    assert both.get_layer("logits").kernel.shape[0] == 2 * units
    assert both.get_layer("decoder_0").cell.kernel.shape[0] == embedding + units


@pytest.mark.parametrize(
    "model, key",
    [
        ({"decoder": "ctc", "reverse_source": True}, "model -> reverse_source"),
        ({"decoder": "ctc", "context": "every_step"}, "model -> context"),
    ],
)
def test_options_of_the_rnn_decoder_are_refused_elsewhere(tmp_path, model, key):
    recipe = option_recipe(tmp_path)
    with pytest.raises(RecipeError, match=key):
        config.resolve({**recipe, "model": {**recipe["model"], **model}}, files=False)


@pytest.mark.parametrize("model, key", [({"reverse_source": True}, "model -> reverse_source"),
                                        ({"context": "every_step"}, "model -> context")])
def test_options_are_refused_on_another_type(model, key):
    raw = {"name": "x", "type": "many_to_one", "data": {"dataset": "cmudict"}, "model": model}
    with pytest.raises(RecipeError, match=key):
        config.resolve(raw, files=False)
