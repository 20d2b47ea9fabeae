"""Word LM quality on the Penn Treebank (Mikolov's files), beside Zaremba et al. (2014).

Trains recipes/word_lm_ptb.yaml (settings chosen on ptb.valid.txt), prints
the validation perplexity of every epoch, scores the test file once with
the kept model (best validation loss), read as 20 parallel streams with the
state carried window to window, and prints training tokens/s.

    python benchmarks/quality_word_lm.py --output /tmp/ptb
    python benchmarks/quality_word_lm.py --reuse --output /tmp/ptb      # report a run (test scored once)
    python benchmarks/quality_word_lm.py --softmax-cost                 # full vs sampled softmax step time

Anchors (test perplexity): Kneser-Ney 5-gram 141.2; LSTM 2x200 114.5, 2x650
with dropout 82.7 (Zaremba et al. 2014). Point the catalog's offline mirror
at the benchmark data with KERASRNN_DATA_MIRROR (default ../shared/data).
"""

import argparse
import json
import math
import os
import platform
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZAREMBA_SMALL, ZAREMBA_MEDIUM, KN5 = 114.5, 82.7, 141.2


def softmax_cost(recipe, steps=10, rounds=3, sampled=(512, 1024)):
    """Seconds per training step of the recipe's network: full softmax vs tf.nn.sampled_softmax_loss."""
    import keras
    import tensorflow as tf

    m, batch, window = recipe["model"], recipe["training"]["batch_size"], recipe["data"]["window"]
    vocab = 10_000
    tokens = tf.random.uniform([batch, window], 0, vocab, tf.int32)
    labels = tf.random.uniform([batch, window], 0, vocab, tf.int32)
    embed = keras.layers.Embedding(vocab, m["embedding_dim"])
    stack = [keras.layers.LSTM(m["units"], return_sequences=True) for _ in range(m["layers"])]
    out_w = tf.Variable(tf.random.uniform([vocab, m["units"]], -0.1, 0.1))
    out_b = tf.Variable(tf.zeros([vocab]))

    def hidden():
        x = embed(tokens)
        for layer in stack:
            x = layer(x)
        return tf.reshape(x, [-1, m["units"]])

    def full():
        logits = tf.matmul(hidden(), out_w, transpose_b=True) + out_b
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.reshape(labels, [-1]), logits))

    def sampled_loss(n):
        return lambda: tf.reduce_mean(tf.nn.sampled_softmax_loss(
            out_w, out_b, tf.reshape(labels, [-1, 1]), hidden(), n, vocab))

    def lstm_only():
        return tf.reduce_mean(hidden())

    def compiled(loss):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                value = loss()
            variables = [v for v in tape.watched_variables() if v.trainable]
            grads = tape.gradient(value, variables)
            for v, g in zip(variables, grads):
                if isinstance(g, tf.IndexedSlices):
                    v.scatter_sub(tf.IndexedSlices(g.values * 0.1, g.indices))
                else:
                    v.assign_sub(0.1 * g)
            return value

        step()
        return step

    steps_of = {"full softmax": compiled(full), "no output layer (LSTM stack only)": compiled(lstm_only)}
    steps_of.update({f"sampled softmax, {n} samples": compiled(sampled_loss(n)) for n in sampled})
    # Interleaved rounds, the fastest of each kept: on shared cores one slow spell hits every kind alike.
    best = {}
    for _ in range(rounds):
        for name, step in steps_of.items():
            started = time.perf_counter()
            for _ in range(steps):
                step()
            best[name] = min(best.get(name, float("inf")), (time.perf_counter() - started) / steps)
    return best


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
        for name, seconds in softmax_cost(recipe).items():
            print(f"{name:36s} {seconds * 1000:7.1f} ms/step")
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
