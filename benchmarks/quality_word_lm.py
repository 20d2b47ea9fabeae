"""Word LM quality on the Penn Treebank (Mikolov's files), beside Zaremba et al. (2014).

Trains recipes/word_lm_ptb.yaml (settings chosen on ptb.valid.txt), prints
the validation perplexity of every epoch, scores the test file once with
the kept model (best validation loss), read as 20 parallel streams with the
state carried window to window, and prints training tokens/s.

    python benchmarks/quality_word_lm.py --output /tmp/ptb
    python benchmarks/quality_word_lm.py --reuse --output /tmp/ptb      # report a run (test scored once)
    python benchmarks/quality_word_lm.py --softmax-cost                 # full vs sampled softmax step time
    python benchmarks/quality_word_lm.py --set training.sampled_softmax=0 --output /tmp/ptb_full   # the full softmax

Anchors (test perplexity): Kneser-Ney 5-gram 141.2; LSTM 2x200 114.5, 2x650
with dropout 82.7 (Zaremba et al. 2014). Point the catalog's offline mirror
at the benchmark data with KERASRNN_DATA_MIRROR (default ../shared/data).
"""

import argparse
import json
import math
import os
import platform
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZAREMBA_SMALL, ZAREMBA_MEDIUM, KN5 = 114.5, 82.7, 141.2


def softmax_cost(recipe, samples=(512, 1024), steps=20, rounds=5):
    """Seconds per training step of the recipe's model, full softmax against `training.sampled_softmax`.

    The models are the ones `kerasrnn fit` builds and compiles, fed random
    windows of the recipe's shape; one `train_on_batch` each in turn
    (interleaved), the median over rounds of `steps` steps kept.
    """
    import keras
    import numpy as np

    from kerasrnn import builders
    from kerasrnn.data.vocab import Vocabulary
    from kerasrnn.training import make_loss, make_optimizer

    batch, window, vocab = recipe["training"]["batch_size"], recipe["data"]["window"], 10_002
    vocabs = {"source": Vocabulary([f"w{i}" for i in range(vocab)])}
    rng = np.random.default_rng(0)
    tokens = rng.integers(4, vocab, (batch, window)).astype("int32")
    labels = rng.integers(4, vocab, (batch, window)).astype("int32")
    weights = np.ones((batch, window), "float32")
    models = {}
    for n in (0, *samples):
        changed = {**recipe, "training": {**recipe["training"], "sampled_softmax": n}}
        builder = builders.get(changed)
        model = builder.build(vocabs)
        model.compile(optimizer=make_optimizer(changed["training"]), loss=make_loss(builder, changed["training"]))
        x = {"tokens": tokens, "labels": labels} if n else {"tokens": tokens}
        model.train_on_batch(x, labels, sample_weight=weights)
        name = f"sampled softmax, {n} samples" if n else "full softmax"
        models[name] = (model, x)
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, (model, x) in models.items():
            started = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, labels, sample_weight=weights)
            times[name].append((time.perf_counter() - started) / steps)
    keras.backend.clear_session()
    return {name: sorted(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=os.path.join(ROOT, "recipes", "word_lm_ptb.yaml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--output", default="/tmp/kerasrnn_bench/word_lm")
    parser.add_argument("--reuse", action="store_true", help="Report an existing run in --output.")
    parser.add_argument("--softmax-cost", action="store_true",
                        help="Only time a training step with the full and a sampled softmax.")
    args = parser.parse_args()
    os.environ.setdefault("KERASRNN_DATA_MIRROR", os.path.join(ROOT, "..", "shared", "data"))

    from kerasrnn import config, training
    from kerasrnn.data.loading import load_split
    from kerasrnn.runs import Run, read_history

    recipe = config.load_recipe(args.recipe, args.overrides)
    if args.softmax_cost:
        times = softmax_cost(recipe)
        full = statistics.median(times["full softmax"])
        window = recipe["training"]["batch_size"] * recipe["data"]["window"]
        print(f"Training step of {args.recipe} (batch x window = {window} tokens), median of 5 "
              f"interleaved rounds [fastest-slowest]; machine: {platform.machine()}, {os.cpu_count()} CPU cores")
        for name, t in times.items():
            mid = statistics.median(t)
            print(f"{name:32s} {mid * 1000:7.1f} ms/step [{t[0] * 1000:.1f}-{t[-1] * 1000:.1f}] "
                  f"{window / mid:8,.0f} tokens/s  {full / mid:5.2f}x full")
        return
    started = time.time()
    if not args.reuse:
        training.fit(recipe, args.output)
    train_minutes = (time.time() - started) / 60
    run = Run(args.output)
    history = read_history(os.path.join(args.output, "history.csv"))
    started = time.time()
    test = run.builder.evaluate(run.model, run.vocabs, load_split(run.recipe, "test"))
    seconds = time.time() - started
    words = 887_521 + 42_068  # ptb.train.txt's words and an <eos> per line

    print(f"\nPTB (Mikolov), settings chosen on ptb.valid.txt; machine: {platform.machine()}, "
          f"{os.cpu_count()} CPU cores; this call trained {train_minutes:.1f} min")
    if run.recipe["training"]["sampled_softmax"]:
        print("(train ppl is exp of the sampled softmax's training loss, below the full softmax's)")
    print(f"{'epoch':>5s} {'train ppl':>9s} {'val ppl':>8s} {'lr':>7s} {'seconds':>8s} {'tokens/s':>8s}")
    for row in history:
        val = math.exp(row["val_loss"]) if "val_loss" in row else float("nan")
        print(f"{row['epoch']:5d} {math.exp(row['loss']):9.1f} {val:8.1f} {row.get('learning_rate', 0):7.3f} "
              f"{row.get('seconds', 0):8.0f} {words / max(row.get('seconds', 1), 1):8.0f}")
    best = min(history, key=lambda r: r.get("val_loss", math.inf))
    print(f"test (scored once, epoch {best['epoch']}'s model): perplexity {test['perplexity']:.2f} "
          f"({test['tokens']:,} words with <eos>, {seconds:.0f} s)")
    print(f"Zaremba et al. 2014: small 2x200 {ZAREMBA_SMALL}, medium 2x650 {ZAREMBA_MEDIUM}; KN-5 {KN5}")
    print(json.dumps({"recipe": args.recipe, "overrides": args.overrides, "test": test,
                      "history": history, "train_minutes": round(train_minutes, 1)}))


if __name__ == "__main__":
    main()
