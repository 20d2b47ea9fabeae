import pathlib

import keras
import numpy as np

from harness import assert_loads_in_fresh_process, assert_saved_files_load, random_inputs
import kerasrnn.layers as layers

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def test_every_layer_loads_in_a_fresh_process(tmp_path):
    builders = {
        "lstm": lambda: layers.LSTM(3, peephole=True, projection_units=2, return_sequences=True),
        "gru": lambda: layers.GRU(3, go_backwards=True),
        "simple_rnn": lambda: layers.SimpleRNN(3),
        "minimal_gru": lambda: layers.MinimalGRU(3),
        "layer_norm_lstm": lambda: layers.LayerNormLSTM(3),
        "layer_norm_gru": lambda: layers.LayerNormGRU(3),
        "bidirectional": lambda: layers.Bidirectional(layers.LSTM(3), merge_mode="sum"),
        "stacked": lambda: layers.StackedRNN("gru", [4, 3], residual=True),
    }
    cases = {}
    for name, build in builders.items():
        inputs = keras.Input(shape=(4, 2))
        cases[name] = (keras.Model(inputs, build()(inputs)), random_inputs((2, 4, 2)))
    assert_loads_in_fresh_process(tmp_path, cases)


def test_model_pieces_load_in_a_fresh_process(tmp_path):
    ids = np.array([[1, 4, 0], [9, 2, 3]], "int32")
    chars = np.array([[[3, 1, 0], [2, 0, 0]], [[5, 9, 2], [0, 0, 0]]], "int32")
    cases = {}

    tokens = keras.Input((None,), dtype="int32")
    tied = layers.TiedEmbedding(10, 4)
    cases["tied_embedding"] = (
        keras.Model(tokens, tied(keras.layers.Dense(4)(tied(tokens)), reverse=True)), ids)
    words = keras.Input((None, None), dtype="int32")
    cases["char_cnn"] = (keras.Model(words, layers.CharCNN(10, 6)(words)), chars)
    embedded = keras.layers.Embedding(10, 3, mask_zero=True)(tokens)
    cases["masked_max_pooling"] = (keras.Model(tokens, layers.MaskedMaxPooling1D()(embedded)), ids)
    dropped = layers.TokenDropout(0.5, seed=1)(tokens)
    cases["token_dropout"] = (keras.Model(tokens, keras.layers.Embedding(10, 3)(dropped)), ids)
    logits = layers.StepLogits()(keras.layers.Embedding(10, 5)(tokens))
    cases["step_logits"] = (keras.Model(tokens, logits), ids[:, :1])
    sequences, vectors = keras.Input((None, 3)), keras.Input((2,))
    cases["step_concat"] = (
        keras.Model([sequences, vectors], layers.StepConcat()([sequences, vectors])),
        [random_inputs((2, 4, 3)), random_inputs((2, 2), seed=1)],
    )
    assert_loads_in_fresh_process(tmp_path, cases)


def test_pieces_saved_by_release_0_1_load_from_their_new_home():
    # Saved when these layers lived in kerasrnn.builders; see fixtures/make_release_layers.py.
    assert_saved_files_load(FIXTURES, ["release_0_1_layers"])
