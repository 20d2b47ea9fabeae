"""Character LM quality on Tiny Shakespeare with nanoGPT's split, beside nanoGPT.

Trains recipes/char_lm_shakespeare.yaml (first 90% of the text trains, the
last 10% is held out, in file order) and reports the held-out loss in
nats/char and bits/char per epoch (history.csv's val_loss) and for the final
model (read as parallel streams, state carried window to window), with a
seeded sample.

    python benchmarks/quality_char_lm.py --set training.epochs=4 --output /tmp/charlm
    python benchmarks/quality_char_lm.py --reuse --output /tmp/charlm   # score a run

nanoGPT's figure is for its 6-layer transformer (10.7M parameters, a GPU);
the text reader here drops the file's 7,223 blank lines, so the stream is
1,108,171 characters rather than 1,115,394 (the validation part differs by
the same few blank lines). Point the catalog's offline mirror at the
benchmark data with KERASRNN_DATA_MIRROR (default ../shared/data).
"""

import argparse
import json
import math
import os
import platform
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NANOGPT_VAL_LOSS = 1.4697
TARGET, STRETCH = 1.55, 1.47


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=os.path.join(ROOT, "recipes", "char_lm_shakespeare.yaml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--output", default="/tmp/kerasrnn_bench/char_lm")
    parser.add_argument("--reuse", action="store_true", help="Score an existing run in --output.")
    args = parser.parse_args()
    os.environ.setdefault("KERASRNN_DATA_MIRROR", os.path.join(ROOT, "..", "shared", "data"))

    from kerasrnn import config, training
    from kerasrnn.data.loading import load_split
    from kerasrnn.runs import Run, read_history

    recipe = config.load_recipe(args.recipe, args.overrides)
    started = time.time()
    if not args.reuse:
        training.fit(recipe, args.output)
    train_minutes = (time.time() - started) / 60
    run = Run(args.output)
    history = read_history(os.path.join(args.output, "history.csv"))
    held_out = load_split(run.recipe, "valid")
    started = time.time()
    result = run.builder.evaluate(run.model, run.vocabs, held_out)
    seconds = time.time() - started
    sample = run.builder.sample(run.model, run.vocabs, 1, prompt="ROMEO:\n", seed=1337,
                                decoding={"strategy": "sample", "temperature": 0.8, "max_length": 300})[0]

    print(f"\nTiny Shakespeare, last 10% held out; machine: {platform.machine()}, "
          f"{os.cpu_count()} CPU cores; this call trained {train_minutes:.1f} min")
    print(f"{'epoch':>5s} {'train loss':>10s} {'val loss':>9s} {'val bpc':>8s} {'seconds':>8s}")
    for row in history:
        val = row.get("val_loss", float("nan"))
        print(f"{row['epoch']:5d} {row['loss']:10.4f} {val:9.4f} {val / math.log(2):8.4f} {row.get('seconds', 0):8.0f}")
    print(f"final model: {result['loss']:.4f} nats/char, {result['bits_per_char']:.4f} bits/char, "
          f"perplexity {result['perplexity']:.3f} ({result['tokens']:,} characters, {seconds:.0f} s)")
    print(f"nanoGPT shakespeare_char val loss {NANOGPT_VAL_LOSS}; target <= {TARGET}, stretch {STRETCH}")
    print(f"--- sample (seed 1337, temperature 0.8) ---\n{sample}\n---")
    print(json.dumps({"recipe": args.recipe, "overrides": args.overrides, "final": result,
                      "history": history, "train_minutes": round(train_minutes, 1)}))


if __name__ == "__main__":
    main()
