import keras

from harness import assert_loads_in_fresh_process, random_inputs
import kerasrnn.layers as layers


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
