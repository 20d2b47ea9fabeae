"""Input encoding speed, and how long G2P training steps wait on the input pipeline.

First, the default G2P recipe's training examples are encoded (tokenized and
looked up) in full passes, one example per `map` call (as before) and in
batches (`Builder.encode_batch`, as `Builder.dataset` does now), in
interleaved rounds; it prints examples per second, the median round with the
spread, and checks that both give the same tensors.

Then, for the in-memory and the streaming pipeline, times `next(iterator)`
(the wait for a batch) against the whole step (wait plus `train_on_batch`),
after a warm-up, and the pipeline alone (batches per second with no
training). A pipeline that keeps up shows a wait share near 0.

    python benchmarks/input_pipeline.py --encoding-only --rounds 3
    python benchmarks/input_pipeline.py --steps 200 [--set model.units=128 ...]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasrnn import builders, config, training  # noqa: E402
from kerasrnn.data import pipeline  # noqa: E402
from kerasrnn.data.loading import load_splits  # noqa: E402

RECIPE = os.path.join(os.path.dirname(__file__), "..", "recipes", "g2p_cmudict.yaml")


def timed_steps(model, ds, steps, warmup):
    iterator = iter(ds.repeat())
    waited = total = 0.0
    for step in range(warmup + steps):
        start = time.perf_counter()
        inputs, labels, weights = next(iterator)
        ready = time.perf_counter()
        model.train_on_batch(inputs, labels, sample_weight=weights)
        done = time.perf_counter()
        if step >= warmup:
            waited += ready - start
            total += done - start
    return waited, total


def input_only(ds, steps, warmup):
    iterator = iter(ds.repeat())
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    return steps / (time.perf_counter() - start)


def encoding(recipe, rounds):
    """Examples per second encoding the training split, one per call against in batches."""
    builder = builders.get(recipe)
    examples = load_splits(recipe)["train"]
    vocabs = builder.fit_vocabs(examples)

    def one_by_one():
        return pipeline.text_dataset(examples, builder.strings).map(
            lambda s: builder.encode(vocabs, s), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def batched():
        return pipeline.encoded_in_batches(
            pipeline.text_dataset(examples, builder.strings), lambda s: builder.encode_batch(vocabs, s))

    cases = {"one per map call": one_by_one, "batched": batched}
    # Both give the same tensors (checked on every example's padded batch).
    for x, y in zip(one_by_one().padded_batch(4096), batched().padded_batch(4096)):
        for u, v in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            np.testing.assert_array_equal(u.numpy(), v.numpy())
    rates = {name: [] for name in cases}
    for _ in range(rounds):
        for name, make in cases.items():
            # The pass as training makes it: examples encoded, then padded into batches.
            ds = make().padded_batch(recipe["training"]["batch_size"])
            started = time.perf_counter()
            ds.reduce(tf.constant(0, tf.int64), lambda count, *_: count + 1)
            rates[name].append(len(examples) / (time.perf_counter() - started))
    print(f"\nencoding {len(examples):,} examples ({type(builder).__name__}, {recipe['name']}), "
          f"{rounds} interleaved rounds, identical output:")
    base = statistics.median(rates["one per map call"])
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"  {name:<18}{median:>9,.0f} examples/s  (spread {min(values):,.0f}-{max(values):,.0f})"
              f"  {median / base:5.1f}x", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of the encoding comparison.")
    parser.add_argument("--encoding-only", action="store_true", help="Skip the training-wait table.")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    encoding(config.load_recipe(RECIPE, args.overrides), args.rounds)
    if args.encoding_only:
        return
    for streaming in (False, True):
        recipe = config.load_recipe(RECIPE, args.overrides + [f"data.streaming={str(streaming).lower()}"])
        builder = builders.get(recipe)
        data = load_splits(recipe)
        vocabs = builder.fit_vocabs(data["train"])
        model = builder.build(vocabs)
        model.compile(
            optimizer=training.make_optimizer(recipe["training"]),
            loss=training.make_loss(builder, recipe["training"]),
            weighted_metrics=builder.metrics(),
        )
        ds = builder.dataset(data["train"], vocabs, training=True)
        rate = input_only(ds, args.steps, args.warmup)
        waited, total = timed_steps(model, ds, args.steps, args.warmup)
        name = "streaming" if streaming else "in memory"
        print(
            f"{name:>9}: input alone {rate:,.0f} batches/s; training {args.steps / total:,.1f} steps/s, "
            f"{1000 * total / args.steps:.1f} ms/step, waiting on input {1000 * waited / args.steps:.2f} ms/step "
            f"({waited / total:.1%} of step time)",
            flush=True,
        )


if __name__ == "__main__":
    main()
