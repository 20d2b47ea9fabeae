"""How long G2P training steps wait on the input pipeline.

For the in-memory and the streaming pipeline, times `next(iterator)` (the wait
for a batch) against the whole step (wait plus `train_on_batch`), after a
warm-up, and the pipeline alone (batches per second with no training).
A pipeline that keeps up shows a wait share near 0.

    python benchmarks/input_pipeline.py --steps 200 [--set model.units=128 ...]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasrnn import builders, config, training  # noqa: E402
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
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
