"""The training section: optimizers, schedules, clipping, smoothing, precision, failures."""

import math
import os
import random

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasrnn import builders, config, runs, training
from kerasrnn.builders.base import float32_model
from kerasrnn.cli import cli
from kerasrnn.data.examples import Example
from kerasrnn.data.loading import load_splits
from kerasrnn.data.vocab import Vocabulary
from kerasrnn.training.adversarial import adversarial_step
from kerasrnn.training.progress import fresh_progress, update_progress
from support import G2P_RNN, RECIPES
from tiny import tiny_recipe

G2P = str(RECIPES / "g2p_cmudict.yaml")
TINY = [
    "data.max_examples=200",
    "training.epochs=2",
    "training.learning_rate=0.002",
    "training.lr_schedule=constant",
    "training.batch_size=32",
    "training.verbose=0",
    "model.units=16",
    "model.embedding_dim=8",
    *G2P_RNN,
]


def recipe(*overrides):
    return config.load_recipe(G2P, TINY + list(overrides))


def section(**changes):
    return {**recipe()["training"], **changes}


def test_learning_rate_schedules():
    constant = section(learning_rate=0.1)
    assert training.learning_rate(constant, 500, 1.5) == 0.1
    warm = section(learning_rate=0.1, warmup_steps=10)
    assert training.learning_rate(warm, 0, 0.0) == pytest.approx(0.01)
    assert training.learning_rate(warm, 4, 0.0) == pytest.approx(0.05)
    assert training.learning_rate(warm, 50, 1.0) == pytest.approx(0.1)
    exp = section(learning_rate=0.1, lr_schedule="exponential", decay_rate=0.5)
    assert training.learning_rate(exp, 0, 2.0) == pytest.approx(0.025)
    held = section(learning_rate=1.0, lr_schedule="exponential", decay_rate=0.5, decay_start=4)
    assert training.learning_rate(held, 0, 3.5) == 1.0
    assert training.learning_rate(held, 0, 6.0) == pytest.approx(0.25)
    cosine = section(learning_rate=0.1, lr_schedule="cosine", min_learning_rate=0.01, epochs=4)
    assert training.learning_rate(cosine, 0, 0.0) == pytest.approx(0.1)
    assert training.learning_rate(cosine, 0, 2.0) == pytest.approx(0.055)
    assert training.learning_rate(cosine, 0, 4.0) == pytest.approx(0.01)
    plateau = section(learning_rate=0.1, lr_schedule="plateau", min_learning_rate=0.02)
    assert training.learning_rate(plateau, 0, 3.0, scale=0.5) == pytest.approx(0.05)
    assert training.learning_rate(plateau, 0, 3.0, scale=0.125) == pytest.approx(0.02)


def test_optimizers_and_clipping():
    adam = training.make_optimizer(section())
    assert adam.global_clipnorm == 1.0 and adam.clipnorm is None
    sgd = training.make_optimizer(section(optimizer="sgd", momentum=0.9, clipnorm=None, clipvalue=0.5))
    assert isinstance(sgd, keras.optimizers.SGD)
    assert sgd.momentum == 0.9 and sgd.clipvalue == 0.5 and sgd.global_clipnorm is None
    assert isinstance(training.make_optimizer(section(optimizer="adamw")), keras.optimizers.AdamW)
    rms = training.make_optimizer(section(optimizer="rmsprop", weight_decay=0.01))
    assert rms.weight_decay == 0.01
    with pytest.raises(config.RecipeError, match="clipvalue: clip by norm or by value"):
        training.make_optimizer(section(clipvalue=0.5))


def test_global_norm_clipping_bounds_the_step():
    variable = keras.Variable(np.zeros(4, np.float32))
    sgd = training.make_optimizer(section(optimizer="sgd", learning_rate=1.0, clipnorm=1.0))
    sgd.apply([tf.constant([30.0, 40.0, 0.0, 0.0])], [variable])
    np.testing.assert_allclose(variable.numpy(), [-0.6, -0.8, 0, 0], rtol=1e-6)


def test_label_smoothing_matches_the_dense_loss():
    logits = tf.constant([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    labels = tf.constant([0, 2])
    smoothed = training.SmoothedSparseCrossentropy(0.2)(labels, logits)
    dense = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(
        tf.one_hot(labels, 3), logits
    )
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    assert float(smoothed) == pytest.approx(float(dense), rel=1e-6)
    assert float(smoothed) > float(plain)
    restored = keras.losses.deserialize(keras.losses.serialize(training.SmoothedSparseCrossentropy(0.3)))
    assert restored.label_smoothing == 0.3


def test_plateau_and_early_stopping_follow_the_monitor():
    t = section(lr_schedule="plateau", plateau_patience=2, plateau_factor=0.5, early_stopping=3)
    progress = fresh_progress()
    for epoch, val_loss in enumerate([3.0, 2.0, 2.5, 2.4, 2.1], start=1):
        update_progress(progress, t, {"epoch": epoch, "loss": 1.0, "val_loss": val_loss})
    assert progress["best_epoch"] == 2 and progress["best"] == 2.0
    assert progress["scale"] == 0.5 and progress["stopped"]
    # Higher is better for accuracy; without validation, val_ falls back to train.
    acc = section(monitor="val_accuracy")
    progress = fresh_progress()
    update_progress(progress, acc, {"epoch": 1, "accuracy": 0.5})
    assert update_progress(progress, acc, {"epoch": 2, "accuracy": 0.6})
    with pytest.raises(config.RecipeError, match="monitor: no column 'bleu'"):
        update_progress(progress, section(monitor="bleu"), {"epoch": 3, "loss": 1.0})


class Poison(keras.callbacks.Callback):
    """Makes the loss NaN from the third step of the second epoch on."""

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 1 and batch == 2:
            bias = self.model.get_layer("logits").bias
            bias.assign(np.full(bias.shape, np.nan, np.float32))


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    with pytest.raises(training.TrainingError, match=r"epoch 2, step 3: the loss is nan"):
        training.fit(recipe("training.epochs=3"), out, echo=lambda _: None, callbacks=[Poison()])
    assert tf.train.latest_checkpoint(os.path.join(out, "checkpoints")).endswith("ckpt-1")
    assert [r["epoch"] for r in runs.read_history(os.path.join(out, "history.csv"))] == [1]
    model = keras.saving.load_model(os.path.join(out, "model.keras"), compile=False)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert not os.path.exists(os.path.join(out, "metrics.json"))


def test_training_failure_exits_with_1(monkeypatch, tmp_path):
    def fail(*args, **kwargs):
        raise training.TrainingError("epoch 2, step 3: the loss is nan; training stopped")

    monkeypatch.setattr(training, "fit", fail)
    result = CliRunner().invoke(cli, ["fit", G2P, "-o", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "Error: epoch 2, step 3: the loss is nan" in result.output
    assert "Traceback" not in result.output


def test_fit_observability_and_schedule(tmp_path):
    out = tmp_path / "run"
    lines = []
    result = training.fit(
        recipe("training.lr_schedule=cosine", "training.warmup_steps=3", "training.label_smoothing=0.1",
               "data.source.max_length=6"),
        str(out), echo=lines.append,
    )
    assert any(line.startswith("source: ") and line.endswith("truncated to 6 tokens (data.source.max_length)")
               for line in lines), lines
    summary = lines[-1]
    assert summary.startswith("Trained 2 epoch(s): ") and "tokens/s" in summary and "s per epoch" in summary
    assert result["tokens_per_second"] > 0 and result["seconds_per_epoch"] > 0
    rows = runs.read_history(str(out / "history.csv"))
    assert [r["epoch"] for r in rows] == [1, 2]
    # Cosine decay from 0.002 to 0 over 2 epochs: the first epoch's last step
    # runs a little above half the rate.
    assert 0.001 < rows[0]["learning_rate"] < 0.0015
    assert rows[1]["learning_rate"] < rows[0]["learning_rate"]
    events = {}
    for split in ("train", "validation"):
        folder = out / "logs" / split
        for name in os.listdir(folder):
            for event in tf.compat.v1.train.summary_iterator(str(folder / name)):
                for value in event.summary.value:
                    events.setdefault(split, set()).add(value.tag)
    assert {"loss", "accuracy", "learning_rate"} <= events["train"]
    assert {"loss", "accuracy"} <= events["validation"]
    assert math.isfinite(result["test"]["token_error_rate"])


# Mixed precision ------------------------------------------------------------


def tiny_data(kind, folder, rng):
    """The `data` section of a tiny recipe of each type, over files written here."""
    words = ["red", "green", "blue", "w1", "w2", "w3", "w4"]
    if kind in ("many_to_one", "many_to_many"):
        rows = [[rng.choice(words) for _ in range(rng.randint(2, 6))] for _ in range(80)]
        if kind == "many_to_one":
            path = folder / "train.tsv"
            path.write_text("".join(f"{' '.join(r)}\t{r[0]}\n" for r in rows))
            return {"train": str(path), "source": {"tokenizer": "word"}, "target": {"tokenizer": "label"}}
        path = folder / "train.conll"
        path.write_text("".join("".join(f"{w} {w[0].upper()}\n" for w in r) + "\n" for r in rows))
        return {"train": str(path), "columns": {"source": 0, "target": 1},
                "source": {"tokenizer": "pretokenized"}, "target": {"tokenizer": "pretokenized"}}
    if kind == "language_model":
        path = folder / "train.txt"
        path.write_text("".join(f"{' '.join(rng.choices(words, k=3))}\n" for _ in range(80)))
        return {"train": str(path), "source": {"tokenizer": "char"}}
    names = folder / "names"
    names.mkdir()
    for label, letters in (("Low", "abcd"), ("High", "wxyz")):
        lines = ("".join(rng.choices(letters, k=rng.randint(3, 6))) for _ in range(40))
        (names / f"{label}.txt").write_text("\n".join(lines) + "\n")
    return {"train": str(names), "format": "folder", "swap_sides": True,
            "source": {"tokenizer": "label"}, "target": {"tokenizer": "char"}}


def mixed_recipe(kind, precision, folder):
    if kind == "seq2seq":
        return recipe("data.max_examples=60", "training.epochs=1", f"training.precision={precision}",
                      "training.tensorboard=false", "decoding.max_length=8")
    return config.resolve({
        "name": f"tiny_{kind}",
        "type": kind,
        "data": {**tiny_data(kind, folder, random.Random(0)), "valid_split": 0.1, "test_split": 0.2},
        "model": {"units": 8, "embedding_dim": 8},
        "training": {"epochs": 1, "batch_size": 16, "verbose": 0, "tensorboard": False,
                     "precision": precision},
        "decoding": {"max_length": 8},
    })


def check_mixed_precision(kind, precision, tmp_path):
    """Trains under `precision`; the held-out evaluation and predictions run."""
    out = tmp_path / "run"
    result = training.fit(mixed_recipe(kind, precision, tmp_path), str(out), echo=lambda _: None)
    loaded = runs.Run(str(out))
    assert precision in {layer.dtype_policy.name for layer in loaded.model.layers}
    scores = [v for v in result["test"].values() if isinstance(v, float)]
    assert scores and all(math.isfinite(v) for v in scores)
    texts = ["Low", "High"] if kind == "one_to_many" else ["red w1", "blue"]
    rows = loaded.builder.predict(loaded.model, loaded.vocabs, texts)
    assert [row["input"] for row in rows] == texts
    assert all(isinstance(row["output"], str) for row in rows)


# The default run trains two tiny cases, one per policy; `-m slow` every type under both.
FAST_MIXED = {("many_to_one", "mixed_float16"), ("language_model", "mixed_bfloat16")}


@pytest.mark.parametrize("kind, precision", [
    (kind, precision) if (kind, precision) in FAST_MIXED
    else pytest.param(kind, precision, marks=pytest.mark.slow)
    for precision in ("mixed_float16", "mixed_bfloat16")
    for kind in ("seq2seq", "many_to_one", "many_to_many", "language_model", "one_to_many")
])
def test_every_type_evaluates_and_predicts_after_mixed_precision(kind, precision, tmp_path):
    check_mixed_precision(kind, precision, tmp_path)


def test_a_mixed_precision_model_decodes_in_float32():
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        builder = builders.get(recipe())
        vocabs = {side: Vocabulary.build({chr(97 + i): 1 for i in range(20)}) for side in builder.SIDES}
        model = builder.build(vocabs)
    finally:
        keras.config.set_dtype_policy(policy)
    twin = float32_model(model)
    assert {layer.compute_dtype for layer in twin.layers if layer.weights} == {"float32"}
    ids = np.random.default_rng(0).integers(1, 20, (4, 7)).astype("int32")
    inputs = {"source": ids, "target_in": ids[:, ::-1].copy()}
    mixed = model(inputs, training=False)
    assert mixed.dtype == "float16"
    np.testing.assert_allclose(twin(inputs, training=False), mixed, atol=2e-2)
    assert float32_model(twin) is twin
    # Decoding from the mixed model runs in float32 (its states were float16).
    rows = builder.predict(model, vocabs, ["abc", "fed"])
    assert [row["input"] for row in rows] == ["abc", "fed"]
    scores = builder.evaluate(model, vocabs, [Example("abc", "a b c", "1"), Example("fed", "f e", "2")])
    assert scores["examples"] == 2 and 0 <= scores["token_error_rate"]


def test_auto_precision_computes_in_bfloat16_only_where_the_cpu_has_it(tmp_path):
    from kerasrnn.training.distribute import cpu_flags, dtype_policy

    assert dtype_policy("auto", {"avx2", "avx512f", "avx512_bf16"}) == "mixed_bfloat16"
    assert dtype_policy("auto", {"avx2", "amx_bf16"}) == "mixed_bfloat16"
    assert dtype_policy("auto", {"avx2", "avx512f"}) == "float32"
    assert dtype_policy("mixed_float16", set()) == "mixed_float16"
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    assert cpu_flags(str(info)) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(str(tmp_path / "absent")) == set()


def _validation_loss(model, builder, recipe, vocabs):
    valid = builder.dataset(load_splits(recipe, echo=lambda *_: None)["valid"], vocabs)
    model.compile(loss=builder.loss(), weighted_metrics=builder.metrics())
    return model.evaluate(valid, return_dict=True, verbose=0)["loss"]


def test_weight_averages_are_validated_and_kept_while_training_goes_on_from_raw_weights(tmp_path):
    recipe = tiny_recipe("many_to_one", tmp_path)
    recipe["training"].update(epochs=3, ema=0.8, keep_best=False)
    out = tmp_path / "run"
    training.fit(recipe, str(out), echo=lambda *_: None)
    builder = builders.get(recipe)
    vocabs = runs.load_vocabs(str(out), builder.SIDES)
    history = runs.read_history(str(out / "history.csv"))

    kept = keras.saving.load_model(str(out / "model.keras"), compile=False)
    assert _validation_loss(kept, builder, recipe, vocabs) == pytest.approx(history[-1]["val_loss"], rel=1e-4)

    # The checkpoints hold the raw weights that training goes on from: not the averages.
    raw = builder.build(vocabs)
    tf.train.Checkpoint(model=raw).restore(tf.train.latest_checkpoint(str(out / "checkpoints"))).expect_partial()
    differs = [not np.allclose(a, b) for a, b in zip(raw.get_weights(), kept.get_weights())]
    assert any(differs)
    assert _validation_loss(raw, builder, recipe, vocabs) != pytest.approx(history[-1]["val_loss"], rel=1e-4)


def test_ema_key_sets_the_optimizers_moving_average():
    averaged = training.make_optimizer(section(ema=0.99))
    assert averaged.use_ema and averaged.ema_momentum == 0.99
    assert not training.make_optimizer(section()).use_ema


def _bag_of_words(trainable=True):
    tokens = keras.Input((4,), dtype="int32")
    x = keras.layers.Embedding(6, 3, trainable=trainable, name="embedding")(tokens)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(tokens, keras.layers.Dense(2, name="dense")(x))
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_adversarial_step_trains_on_the_clean_and_the_perturbed_loss():
    keras.utils.set_random_seed(0)
    model = _bag_of_words()
    x = np.array([[1, 2, 3, 1], [4, 5, 4, 0]], dtype="int32")
    y = np.array([0, 1])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    start = [w.numpy() for w in model.trainable_weights]

    def gradients():
        with tf.GradientTape() as tape:
            value = loss(y, model(x))
        return value, [tf.convert_to_tensor(g).numpy() for g in tape.gradient(value, model.trainable_weights)]

    clean_loss, clean = gradients()
    table = model.get_layer("embedding").embeddings
    shift = 2.0 * clean[0] / np.linalg.norm(clean[0])
    table.assign(start[0] + shift)
    _, perturbed = gradients()
    table.assign(start[0])
    expected = [w - 0.5 * (a + b) for w, a, b in zip(start, clean, perturbed)]

    model.train_step = adversarial_step(model, 2.0)
    history = model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    # The loss reported is the clean one, before the step.
    assert history.history["loss"][0] == pytest.approx(float(clean_loss), rel=1e-5)


def test_adversarial_training_needs_trainable_embeddings_and_one_replica(monkeypatch):
    with pytest.raises(config.RecipeError, match="training -> adversarial: the model has no"):
        adversarial_step(_bag_of_words(trainable=False), 1.0)

    class TwoReplicas:
        num_replicas_in_sync = 2

    monkeypatch.setattr(tf.distribute, "get_strategy", TwoReplicas)
    with pytest.raises(config.RecipeError, match="training -> adversarial: not across several"):
        adversarial_step(_bag_of_words(), 1.0)


def test_adversarial_key_changes_the_training_of_a_run(tmp_path):
    losses = []
    for epsilon in (0.0, 1.0):
        recipe = tiny_recipe("many_to_one", tmp_path)
        recipe["training"].update(adversarial=epsilon, deterministic=True)
        out = tmp_path / f"run_{epsilon}"
        training.fit(recipe, str(out), echo=lambda *_: None)
        losses.append(runs.read_history(str(out / "history.csv"))[-1]["loss"])
        assert (out / "model.keras").is_file()
    assert losses[0] != pytest.approx(losses[1], rel=1e-4)


class Crash(keras.callbacks.Callback):
    """Stops the process's training at the start of the third epoch, as a kill would."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


def test_a_resumed_run_with_weight_averages_keeps_the_same_averages(tmp_path):
    recipe = tiny_recipe("many_to_one", tmp_path)
    recipe["training"].update(epochs=3, ema=0.8, keep_best=False, deterministic=True)
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    training.fit(recipe, str(whole), echo=lambda *_: None)
    with pytest.raises(KeyboardInterrupt):
        training.fit(recipe, str(resumed), echo=lambda *_: None, callbacks=[Crash()])
    training.fit(recipe, str(resumed), echo=lambda *_: None, resume=True)
    expected = keras.saving.load_model(str(whole / "model.keras"), compile=False).get_weights()
    got = keras.saving.load_model(str(resumed / "model.keras"), compile=False).get_weights()
    for a, b in zip(expected, got):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
