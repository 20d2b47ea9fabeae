"""G2P quality on the standard CMUdict split (g014b2b), beside published figures.

Trains a recipe (default: recipes/g2p_cmudict.yaml switched to the standard
split) and scores the held-out test words with greedy and beam decoding. A
word counts as right if it matches any of its pronunciations.

    python benchmarks/quality_g2p.py --set training.epochs=20 --output /tmp/g2p_bench

The standard split is read through the dataset catalog; point its offline
mirror at the benchmark data with KERASRNN_DATA_MIRROR (default ../shared/data).
"""

import argparse
import json
import os
import platform
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLISHED = [
    ("Sequitur joint n-gram", 24.53, 5.88),
    ("LSTM encoder-decoder, no attention (Yao & Zweig 2015)", 28.61, 7.63),
    ("3-layer BiLSTM (Yao & Zweig 2015)", 23.55, 5.45),
    ("Deep BiLSTM with a CTC output, no language model (Rao et al. 2015)", 25.8, None),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=os.path.join(ROOT, "recipes", "g2p_cmudict.yaml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--output", default="/tmp/kerasrnn_bench/g2p")
    parser.add_argument("--beam", type=int, default=4, help="Beam width for the second pass.")
    parser.add_argument("--reuse", action="store_true", help="Score an existing run in --output.")
    args = parser.parse_args()
    os.environ.setdefault("KERASRNN_DATA_MIRROR", os.path.join(ROOT, "..", "shared", "data"))

    from kerasrnn import config, training
    from kerasrnn.data.loading import load_split
    from kerasrnn.runs import Run

    overrides = ["data.dataset=cmudict_g2p"] + args.overrides
    recipe = config.load_recipe(args.recipe, overrides)
    started = time.time()
    if not args.reuse:
        training.fit(recipe, args.output)
    train_seconds = time.time() - started
    run = Run(args.output)
    test = load_split(run.recipe, "test")
    rows = []
    for strategy in ("greedy", "beam"):
        run.recipe["decoding"].update(strategy=strategy, beam_width=args.beam)
        builder = run.builder
        started = time.time()
        result = builder.evaluate(run.model, run.vocabs, test)
        rows.append((f"kerasrnn ({strategy}{'' if strategy == 'greedy' else f', width {args.beam}'})",
                     100 * result["sequence_error_rate"], 100 * result["token_error_rate"],
                     time.time() - started))
    print(f"\nCMUdict g014b2b test: {rows and len(test):,} entries; machine: {platform.machine()}, "
          f"{os.cpu_count()} CPU cores; training took {train_seconds / 60:.1f} min")
    print(f"{'model':58s} {'WER %':>7s} {'PER %':>7s}")
    for name, wer, per in PUBLISHED:
        print(f"{name:58s} {wer:7.2f} " + (f"{per:7.2f}" if per is not None else f"{'-':>7s}"))
    for name, wer, per, seconds in rows:
        print(f"{name:58s} {wer:7.2f} {per:7.2f}   (decoding {seconds:.0f} s)")
    print(json.dumps({"recipe": args.recipe, "overrides": overrides, "results": rows}))


if __name__ == "__main__":
    main()
