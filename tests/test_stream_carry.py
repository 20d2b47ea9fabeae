"""Stream mode (truncated BPTT) as `kerasrnn.training.fit` really runs it.

A recorder rides along in `fit`: it sees the tokens of every training step
and reads the stateful layers' states and the weights before each step. The
tests then check, against the text itself and a stateless reader:

- the state carried into window k+1 of each stream is that stream's state
  after window k (and every epoch starts from zero states);
- the windows of one stream are its text, contiguous and in order, across
  batch boundaries, epochs, and a run interrupted mid-epoch and resumed.
"""

import itertools
import math
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn import config, training
from kerasrnn.data.vocab import EOS_ID
from kerasrnn.runs import Run

BATCH, WINDOW, UNITS = 3, 5, 8


class Interrupt(Exception):
    """Stands in for a crash or a kill in the middle of an epoch."""


class Recorder(keras.callbacks.Callback):
    """Records each training step: epoch, tokens read, states and weights before it.

    Keras builds its train function after the callbacks get the model, so
    the wrapped `train_step` (which copies the batch's tokens into a
    variable) is the one compiled.
    """

    def __init__(self, stop_at=None):
        super().__init__()
        self.steps = []
        self.stop_at = stop_at
        self.seen = tf.Variable(tf.zeros([BATCH, WINDOW], tf.int32), trainable=False)
        self.wrapped = None

    def set_model(self, model):
        super().set_model(model)
        if self.wrapped is model:
            return
        original, seen = model.train_step, self.seen

        def train_step(data):
            seen.assign(tf.cast(data[0]["tokens"], tf.int32))
            return original(data)

        model.train_step = train_step
        self.wrapped = model

    def stateful(self):
        return [layer for layer in self.model.layers if getattr(layer, "stateful", False)]

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.stop_at == (self.epoch, batch):
            raise Interrupt
        states = [np.asarray(s) for layer in self.stateful() for s in layer.states]
        self.steps.append({"epoch": self.epoch, "batch": batch, "states": states,
                           "weights": self.model.get_weights()})

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1]["tokens"] = self.seen.numpy()


def corpus(count, seed):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(12)]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(2, 7))) for _ in range(count)]


def recipe(tmp, epochs):
    (tmp / "train.txt").write_text("\n".join(corpus(40, 0)) + "\n")
    (tmp / "valid.txt").write_text("\n".join(corpus(8, 1)) + "\n")
    return config.resolve({
        "name": "stream_carry",
        "type": "language_model",
        "data": {"train": str(tmp / "train.txt"), "valid": str(tmp / "valid.txt"), "test_split": 0.0,
                 "lm_mode": "stream", "window": WINDOW, "source": {"tokenizer": "word"}},
        "model": {"units": UNITS, "layers": 2, "embedding_dim": 6},
        "training": {"epochs": epochs, "batch_size": BATCH, "optimizer": "sgd", "learning_rate": 0.5,
                     "verbose": 0, "tensorboard": False},
    })


def expected_rows(tmp, vocab):
    """Each stream's input tokens, worked out from the text: <eos> then the words, each line ending in <eos>."""
    ids = []
    for line in (tmp / "train.txt").read_text().splitlines():
        ids += [vocab.index.get(w, vocab.unk_id) for w in line.split()] + [EOS_ID]
    inputs = [EOS_ID] + ids[:-1]
    per_row = math.ceil(len(ids) / (BATCH * WINDOW)) * WINDOW
    inputs += [0] * (per_row * BATCH - len(inputs))
    return np.asarray(inputs).reshape(BATCH, per_row), per_row // WINDOW


def by_epoch(steps):
    epochs = {}
    for step in steps:
        epochs.setdefault(step["epoch"], []).append(step)
    return epochs


@pytest.fixture(scope="module")
def interrupted_and_resumed(tmp_path_factory):
    """Three epochs; the run is killed in the middle of epoch 2 and resumed."""
    tmp = tmp_path_factory.mktemp("stream")
    run_dir = str(tmp / "run")
    first = Recorder(stop_at=(1, 3))
    with pytest.raises(Interrupt):
        training.fit(recipe(tmp, 3), run_dir, echo=lambda _: None, callbacks=[first])
    second = Recorder()
    training.fit(recipe(tmp, 3), run_dir, echo=lambda _: None, resume=True, callbacks=[second])
    return tmp, Run(run_dir), first, second


def test_the_state_carried_into_each_window_is_the_state_after_the_one_before(interrupted_and_resumed):
    _, run, first, second = interrupted_and_resumed
    builder, model = run.builder, run.model
    reader, _ = builder.inference_models(model, run.vocabs)
    rnn = [layer.name for layer in model.layers if getattr(layer, "stateful", False)]
    assert rnn == ["rnn_0", "rnn_1"]
    checked = 0
    for recorder in (first, second):
        for steps in by_epoch(recorder.steps).values():
            for state in steps[0]["states"]:
                np.testing.assert_array_equal(state, 0.0)  # every epoch starts from zero states
            for before, after in itertools.pairwise(steps):
                # The stateless reader with the weights window k was trained with.
                model.set_weights(before["weights"])
                for name in rnn:
                    reader.get_layer(name).set_weights(model.get_layer(name).get_weights())
                out = reader([before["tokens"], *before["states"]], training=False)
                computed = [np.asarray(s) for s in out[1:]]
                assert len(computed) == len(after["states"]) == 4  # (h, c) of two LSTMs
                for got, want in zip(after["states"], computed):
                    np.testing.assert_allclose(got, want, atol=1e-5)
                # Each row carries its own state: rows differ, so a mix-up would show.
                assert np.abs(computed[0][0] - computed[0][1]).max() > 1e-4
                checked += 1
    assert checked >= 10


def test_each_stream_reads_its_text_contiguously_across_batches_epochs_and_a_resume(interrupted_and_resumed):
    tmp, run, first, second = interrupted_and_resumed
    rows, windows = expected_rows(tmp, run.vocabs["source"])
    assert windows >= 5
    before, after = by_epoch(first.steps), by_epoch(second.steps)
    assert sorted(before) == [0, 1] and len(before[1]) == 3  # killed at epoch 2's fourth window
    assert sorted(after) == [1, 2]  # the resumed run replays epoch 2 from its start
    for steps in [before[0], before[1], after[1], after[2]]:
        read = np.concatenate([step["tokens"] for step in steps], axis=1)
        assert [step["batch"] for step in steps] == list(range(len(steps)))
        np.testing.assert_array_equal(read, rows[:, : read.shape[1]])
    for steps in [before[0], after[1], after[2]]:
        assert len(steps) == windows
