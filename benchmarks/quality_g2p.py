"""G2P quality on the standard CMUdict split (g014b2b), beside published figures.

Trains a recipe (default: recipes/g2p_cmudict.yaml switched to the standard
split) and scores the held-out test words with greedy and beam decoding. A
word counts as right if it matches any of its pronunciations.

    python benchmarks/quality_g2p.py --set training.epochs=20 --output /tmp/g2p_bench

With `--seeds`, one run per seed (the held-out words fixed by the first
seed) is trained into OUTPUT/seed_<n> (or reused with --reuse), and the runs
are joined as `kerasrnn ensemble` joins them. The validation words score
every member and the ensemble with best paths only and with beams of
--beam; the better of the two on validation then scores the test words,
once:

    python benchmarks/quality_g2p.py --recipe recipes/g2p_cmudict_long.yaml --seeds 1337 2 3

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
    parser.add_argument("--reuse", action="store_true",
                        help="Score the runs already in --output (with --seeds, train only missing members).")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="Train one run per seed and score their ensemble.")
    args = parser.parse_args()
    os.environ.setdefault("KERASRNN_DATA_MIRROR", os.path.join(ROOT, "..", "shared", "data"))

    from kerasrnn import config, training
    from kerasrnn.data.loading import load_split
    from kerasrnn.runs import Run

    overrides = ["data.dataset=cmudict_g2p"] + args.overrides
    if args.seeds:
        ensemble(args, overrides)
        return
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


def ensemble(args, overrides):
    """Members trained (or reused), the decoding chosen on validation, the test words scored once."""
    from kerasrnn import config, ensembles, training
    from kerasrnn.data.loading import load_split
    from kerasrnn.runs import METRICS, Run

    members, train_seconds = [], 0.0
    for seed in args.seeds:
        folder = os.path.join(args.output, f"seed_{seed}")
        if not (args.reuse and os.path.isfile(os.path.join(folder, METRICS))):
            recipe = config.load_recipe(
                args.recipe, overrides + [f"training.seed={seed}", f"data.split_seed={args.seeds[0]}"])
            training.fit(recipe, folder, force=True)
        with open(os.path.join(folder, METRICS)) as f:
            train_seconds += json.load(f).get("train_seconds", 0.0)
        members.append(Run(folder))
    ensembles.check_members(members)
    run = members[0]
    valid = load_split(run.recipe, "valid")
    joined = ensembles.join([m.model for m in members])
    choices = {"greedy": 1, "beam": args.beam}
    print(f"\nValidation words ({len(valid):,}): WER % / PER %")
    print(f"{'model':40s}" + "".join(f"{name + (f' {w}' if w > 1 else ''):>16s}" for name, w in choices.items()))
    chosen = {}
    for label, model in [*((m.dir, m.model) for m in members), (f"ensemble of {len(members)}", joined)]:
        cells = []
        for strategy, width in choices.items():
            run.recipe["decoding"].update(strategy=strategy, beam_width=width)
            result = run.builder.evaluate(model, run.vocabs, valid)
            cells.append(f"{100 * result['sequence_error_rate']:7.2f} / {100 * result['token_error_rate']:5.2f}")
            if model is joined:
                chosen[strategy] = result["sequence_error_rate"]
        print(f"{label:40s}" + "".join(f"{c:>16s}" for c in cells))
    strategy = min(chosen, key=chosen.get)
    run.recipe["decoding"].update(strategy=strategy, beam_width=choices[strategy])
    test = load_split(run.recipe, "test")
    started = time.time()
    result = run.builder.evaluate(joined, run.vocabs, test)
    seconds = time.time() - started
    name = f"kerasrnn ensemble of {len(members)} ({strategy}" + (f", width {args.beam})" if strategy == "beam" else ")")
    print(f"\nCMUdict g014b2b test, scored once ({strategy} chosen on validation): {len(test):,} entries; "
          f"machine: {platform.machine()}, {os.cpu_count()} CPU cores; "
          f"members trained {train_seconds / 60:.1f} min in all")
    print(f"{'model':58s} {'WER %':>7s} {'PER %':>7s}")
    for published, wer, per in PUBLISHED:
        print(f"{published:58s} {wer:7.2f} " + (f"{per:7.2f}" if per is not None else f"{'-':>7s}"))
    wer, per = 100 * result["sequence_error_rate"], 100 * result["token_error_rate"]
    print(f"{name:58s} {wer:7.2f} {per:7.2f}   (decoding {seconds:.0f} s)")
    print(json.dumps({"recipe": args.recipe, "overrides": overrides, "seeds": args.seeds,
                      "train_seconds": round(train_seconds, 1), "test": [name, wer, per]}))


if __name__ == "__main__":
    main()
