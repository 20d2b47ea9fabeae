"""Held-out quality of the classification and tagging recipes against published anchors.

Trains a recipe from scratch on its catalog data set (read from the offline
mirror ../shared/data unless KERASRNN_DATA_MIRROR says otherwise), scores the
official test split, and prints one line to paste into recipes/README.md:

    python benchmarks/quality_classify.py sentiment_sst2
    python benchmarks/quality_classify.py chunking_conll2000 --output /tmp/runs/chunk
    python benchmarks/quality_classify.py chunking_conll2000 --report /tmp/runs/chunk
    python benchmarks/quality_classify.py chunking_conll2000 --report /tmp/runs/chunk --epoch 9
    python benchmarks/quality_classify.py one_to_one_pos_lexicon --baseline

`--epoch` scores one epoch's checkpoint on the validation split, to choose
an epoch by; the test split is scored only for the run's kept model.
`--baseline` scores the most-frequent-tag table of a word -> tag recipe.

Anchors (random-init embeddings, no pretrained vectors):
    SST-2 sentence accuracy: Kim (2014) CNN-rand 82.7%.
    CoNLL-2000 chunk F1 (conlleval): Huang et al. (2015) BiLSTM 93.64.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGETS = {
    "sentiment_sst2": ("accuracy", 0.82),
    "chunking_conll2000": ("f1", 93.6),
    "names_classify": ("accuracy", 0.469),  # the majority class
    "one_to_one_pos_lexicon": ("accuracy", None),
}


def machine():
    cores = os.cpu_count()
    return f"{platform.machine()} {cores}-core CPU, {platform.system()}, Python {platform.python_version()}"


def read_history(run_dir):
    import csv

    with open(os.path.join(run_dir, "history.csv"), newline="") as f:
        return list(csv.DictReader(f))


def score_checkpoint(run_dir, epoch):
    """Validation scores of the weights an epoch's checkpoint holds.

    The accuracy is printed beside the one history.csv recorded for that
    epoch, which shows the right weights were restored.
    """
    import tensorflow as tf

    from kerasrnn.data.loading import load_splits
    from kerasrnn.runs import Run

    run = Run(run_dir)
    builder, vocabs = run.builder, run.vocabs
    model = builder.build(vocabs)
    path = os.path.join(run_dir, "checkpoints", f"ckpt-{epoch}")
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    data = load_splits(run.recipe, echo=lambda _: None)
    valid = builder.evaluate(model, vocabs, data["valid"])
    recorded = [r for r in read_history(run_dir) if int(r["epoch"]) == epoch][0]["val_accuracy"]
    check = valid.get("token_accuracy", valid.get("accuracy"))
    print(f"epoch {epoch}: valid accuracy {check:.4f} (history.csv: {float(recorded):.4f})")
    return valid


def most_frequent_tag(recipe):
    """Test accuracy of tagging each word with its most frequent training tag.

    Two tables: over the recipe's source vocabulary (every other word, read as
    <unk> by the model, gets the tag most frequent among those words in
    training), and over every training word (an unseen word gets the tag
    most frequent among the words seen once). Token by token, out of context.
    """
    import collections

    from kerasrnn import builders
    from kerasrnn.data.loading import load_splits

    data = load_splits(recipe, echo=lambda _: None)
    vocab = builders.get(recipe).fit_vocabs(data["train"], echo=lambda _: None)["source"]
    known = set(vocab.tokens[vocab.specials :])
    tags = collections.defaultdict(collections.Counter)
    for ex in data["train"]:
        tags[ex.source][ex.target] += 1
    best = {word: counts.most_common(1)[0][0] for word, counts in tags.items()}

    def fallback(words):
        pooled = collections.Counter()
        for word in words:
            pooled.update(tags[word])
        return pooled.most_common(1)[0][0]

    tables = {
        "recipe's vocabulary": ({w: best[w] for w in known if w in best},
                       fallback(w for w in tags if w not in known)),
        "training words": (best, fallback(w for w, c in tags.items() if sum(c.values()) == 1)),
    }
    test = data["test"]
    for name, (table, other) in tables.items():
        right = sum(table.get(ex.source, other) == ex.target for ex in test)
        print(f"most frequent tag over the {name} ({len(table):,} words, others {other}): "
              f"test accuracy {right / len(test):.2%} of {len(test):,} tokens")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", choices=sorted(TARGETS))
    parser.add_argument("--output", help="run folder (default: a fresh one under /tmp)")
    parser.add_argument("--report", metavar="RUN", help="only report a finished run folder")
    parser.add_argument(
        "--epoch", type=int, help="with --report: score the run's checkpoint of this epoch on validation"
    )
    parser.add_argument("--baseline", action="store_true", help="score the most-frequent-tag table and stop")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    os.environ.setdefault("KERASRNN_DATA_MIRROR", str(ROOT.parent / "shared" / "data"))

    from kerasrnn import config, training

    path = ROOT / "recipes" / f"{args.recipe}.yaml"
    if args.baseline:
        most_frequent_tag(config.load_recipe(str(path), args.overrides))
        return 0
    if args.report and args.epoch:
        print(json.dumps(score_checkpoint(args.report, args.epoch), indent=2))
        return 0
    if args.report:
        with open(os.path.join(args.report, "metrics.json")) as f:
            result = json.load(f)
        elapsed = result.get("train_seconds")
    else:
        recipe = config.load_recipe(str(path), args.overrides)
        run_dir = args.output or f"/tmp/kerasrnn-bench/{args.recipe}-{int(time.time())}"
        started = time.time()
        result = training.fit(recipe, run_dir, force=True)
        elapsed = time.time() - started
    metric, target = TARGETS[args.recipe]
    value = result["test"][metric]
    verdict = "" if target is None else (" (target met)" if value >= target else f" (below the target {target})")
    shown = f"{value:.2%}" if metric == "accuracy" else f"{value:.2f}"
    print(json.dumps(result["test"], indent=2))
    print(
        f"{args.recipe}: test {metric} {shown}{verdict}; "
        f"{result.get('epochs')} epochs, {elapsed / 60:.1f} min on {machine()}"
    )
    return 0 if target is None or value >= target else 1


if __name__ == "__main__":
    sys.exit(main())
