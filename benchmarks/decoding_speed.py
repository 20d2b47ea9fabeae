"""Decoding speed of an encoder-decoder: one source at a time against batched, side by side.

Decodes the test split's distinct sources (or the first `--sources` of them)
of a trained seq2seq run with the recurrent decoder (`--run`; without it, the
translation recipe is trained briefly into `--output` first), two ways per
strategy:

- one at a time: sources encoded 256 at a time, then each decoded alone,
  one `step` call per generated token (how beam search ran before it was
  batched; greedy decoding was already batched);
- batched: the builder's `generator`, `--batch` sources a batch, one `step`
  call per token for all their hypotheses together.

Cases alternate over `--rounds` rounds; each figure is the median round, with
the spread (min-max over rounds). Outputs of both ways are compared.

    python benchmarks/decoding_speed.py --sources 300 --rounds 3
    python benchmarks/decoding_speed.py --run saved_models/translate_fra_eng --sources 0   # whole test split

The data are read through the dataset catalog; point its offline mirror at the
benchmark data with KERASRNN_DATA_MIRROR (default ../shared/data).
"""

import argparse
import os
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERASRNN_DATA_MIRROR", os.path.join(ROOT, "..", "shared", "data"))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasrnn import config, decoding, training  # noqa: E402
from kerasrnn.builders.seq2seq import grouped_references  # noqa: E402
from kerasrnn.data.loading import load_split  # noqa: E402
from kerasrnn.data.vocab import BOS_ID, EOS_ID  # noqa: E402
from kerasrnn.runs import Run  # noqa: E402

RECIPE = os.path.join(ROOT, "recipes", "translate_fra_eng.yaml")


def one_at_a_time(builder, model, vocabs, sources, settings):
    """Each source decoded alone after batched encoding (the former beam path)."""
    source_ids, encode, step = builder.decoding_functions(model, vocabs)

    def run():
        out = []
        for start in range(0, len(sources), 256):
            ids = source_ids(tf.constant(sources[start : start + 256]))
            states = [s.numpy() for s in tf.nest.flatten(encode(ids))]
            for i in range(len(ids)):
                alone = [s[i : i + 1] for s in states]
                if settings["strategy"] == "beam":
                    row = decoding.beam_search(step, alone, BOS_ID, EOS_ID, settings["max_length"],
                                               settings["beam_width"], settings["length_penalty"])[0]
                else:
                    row = decoding.greedy(step, alone, [BOS_ID], EOS_ID, settings["max_length"])[0]
                out.append(vocabs["target"].decode(row))
        return out

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="A trained seq2seq run folder (default: train one into --output).")
    parser.add_argument("--output", default="/tmp/kerasrnn_bench/translate_brief")
    parser.add_argument("--train-steps", type=int, default=300,
                        help="Optimizer steps of the brief training when --run is not given.")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="Recipe overrides for the brief training.")
    parser.add_argument("--sources", type=int, default=300, help="Test sources decoded (0: all).")
    parser.add_argument("--batch", type=int, default=256, help="Sources per batch.")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    path = args.run or args.output
    if not args.run and not os.path.isfile(os.path.join(path, "model.keras")):
        recipe = config.load_recipe(RECIPE, [
            "training.epochs=1", f"training.steps_per_epoch={args.train_steps}", "training.verbose=0",
            *args.overrides,
        ])
        training.fit(recipe, path, echo=lambda _: None)
    run = Run(path)
    if run.recipe["type"] != "seq2seq" or run.recipe["model"]["decoder"] == "ctc":
        parser.error(f"{path}: not an encoder-decoder with a step loop (type seq2seq, decoder rnn)")
    sources, _ = grouped_references(load_split(run.recipe, "test"))
    sources = sources[: args.sources or None]
    builder, model, vocabs = run.builder, run.model, run.vocabs
    base = dict(run.recipe["decoding"], beam_width=args.beam)
    print(f"{run.recipe['name']} ({path}): {len(sources):,} test sources, batch {args.batch}, "
          f"max_length {base['max_length']}, {args.rounds} interleaved rounds; "
          f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores", flush=True)
    rows = []
    for strategy in ("greedy", "beam"):
        settings = dict(base, strategy=strategy)
        builder.recipe = {**builder.recipe, "decoding": settings}
        batched = builder.generator(model, vocabs)
        cases = {"one at a time": one_at_a_time(builder, model, vocabs, sources, settings),
                 "batched": lambda batched=batched: batched(sources, batch_size=args.batch)}
        outputs = {name: fn() for name, fn in cases.items()}  # warm-up, and the outputs compared
        times = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, fn in cases.items():
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        same = sum(a == b for a, b in zip(outputs["one at a time"], outputs["batched"]))
        lengths = np.mean([len(o) for o in outputs["batched"]])
        label = strategy if strategy == "greedy" else f"beam {args.beam}"
        alone, together = (statistics.median(times[n]) for n in cases)
        rows.append((label, alone, together, times, same, lengths))
    print(f"\n{'strategy':<10}{'one at a time':>24}{'batched':>24}{'speed-up':>10}{'same output':>14}"
          f"{'mean tokens':>13}")
    for label, alone, together, times, same, lengths in rows:
        spread = {n: f"{min(t):.2f}-{max(t):.2f}" for n, t in times.items()}
        print(f"{label:<10}{alone:>9.2f} s ({spread['one at a time']:>11})"
              f"{together:>9.2f} s ({spread['batched']:>11}){alone / together:>9.1f}x"
              f"{same:>8,}/{len(sources):,}{lengths:>13.1f}")
    print(f"\nper source: " + "; ".join(
        f"{label} {1000 * alone / len(sources):.1f} ms alone, {1000 * together / len(sources):.2f} ms batched"
        for label, alone, together, *_ in rows))


if __name__ == "__main__":
    main()
