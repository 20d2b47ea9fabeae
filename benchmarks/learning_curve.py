"""Does a classifier recipe travel? Its validation accuracy on training sets of several sizes.

For each size, the recipe is trained twice on a seeded sample of that many
training examples (data.max_examples, which caps every split, so a size
below the validation set's would shrink it and is refused):

- as shipped, unchanged: its own epochs, early stopping and keep-best;
- "tuned by hand": the same model for --epochs epochs with no early stopping,
  and the best epoch picked afterwards from its validation accuracy.

Both read the validation split only: the test split is pointed at the
validation files, so this never looks at test data. The table prints each
size's kept validation accuracy against the tuned best and the gap between
them; learning_curve.png (in --output) draws the tuned runs' validation
curves with the epoch each shipped run kept.

    KERASRNN_DATA_MIRROR=../shared/data python benchmarks/learning_curve.py
    python benchmarks/learning_curve.py --sizes 1000 2000 --epochs 12 --output /tmp/lc
    python benchmarks/learning_curve.py --report /tmp/lc
"""

import argparse
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def best(rows, monitor):
    """(epoch, value) of the best row by `monitor`, as keep_best picks it."""
    from kerasrnn.training.progress import lower_is_better

    row = (min if lower_is_better(monitor) else max)(rows, key=lambda r: r[monitor])
    return int(row["epoch"]), row[monitor]


def train(recipe_path, overrides, run_dir):
    from kerasrnn import config, training

    recipe = config.load_recipe(str(recipe_path), overrides)
    started = time.time()
    training.fit(recipe, run_dir, force=True)
    return time.time() - started


def plot(results, monitor, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for size, res in results.items():
        rows = res["tuned_rows"]
        line = ax.plot([r["epoch"] for r in rows], [r[monitor] for r in rows], marker=".", label=res["label"])
        ax.plot([res["shipped_epoch"]], [res["shipped"]], marker="*", markersize=14, color=line[0].get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel(monitor)
    ax.set_title("validation by epoch (line: tuned run; star: the shipped recipe's kept epoch)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="sentiment_sst2", help="recipe name under recipes/ (default: sentiment_sst2)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 0],
        help="training set sizes; 0 is the whole set (default: 1000 2000 4000 0)",
    )
    parser.add_argument("--epochs", type=int, default=15, help="epochs of the tuned runs (default: 15)")
    parser.add_argument("--output", help="folder for the runs and the plot (default: a fresh one under /tmp)")
    parser.add_argument("--report", metavar="DIR", help="only report the finished runs in DIR")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe key in both runs (repeatable)")
    args = parser.parse_args()
    os.environ.setdefault("KERASRNN_DATA_MIRROR", str(ROOT.parent / "shared" / "data"))

    from kerasrnn import config, runs
    from kerasrnn.data import catalog
    from kerasrnn.data.loading import load_split

    path = ROOT / "recipes" / f"{args.recipe}.yaml"
    recipe = config.load_recipe(str(path), args.overrides)
    monitor = recipe["training"]["monitor"]
    if not monitor.startswith("val_"):
        sys.exit(f"{args.recipe}: training.monitor is {monitor!r}; a learning curve needs a validation column")
    valid = recipe["data"]["valid"] or catalog.fetch(recipe["data"]["dataset"]).get("valid")
    if not valid:
        sys.exit(f"{args.recipe}: no validation file (data.valid or the catalog's); the test split "
                 "would otherwise be read")
    valid = valid if isinstance(valid, str) else "[" + ", ".join(valid) + "]"
    out = args.report or args.output or f"/tmp/kerasrnn-bench/learning-curve-{int(time.time())}"
    os.makedirs(out, exist_ok=True)

    held = len(load_split(config.load_recipe(str(path), [*args.overrides, f"data.test={valid}"]), "valid"))
    small = [size for size in args.sizes if 0 < size < held]
    if small:
        sys.exit(f"sizes {small} are below the validation set's size; data.max_examples would cap it too")
    results = {}
    for size in args.sizes:
        base = [*args.overrides, f"data.test={valid}"] + ([f"data.max_examples={size}"] if size else [])
        shipped_dir = os.path.join(out, f"{size or 'all'}-shipped")
        tuned_dir = os.path.join(out, f"{size or 'all'}-tuned")
        if not args.report:
            seconds = train(path, base, shipped_dir)
            print(f"size {size or 'all'}: shipped recipe trained in {seconds / 60:.1f} min")
            seconds = train(path, [*base, f"training.epochs={args.epochs}", "training.early_stopping=null"], tuned_dir)
            print(f"size {size or 'all'}: {args.epochs}-epoch run trained in {seconds / 60:.1f} min")
        shipped_rows = runs.read_history(os.path.join(shipped_dir, runs.HISTORY))
        tuned_rows = runs.read_history(os.path.join(tuned_dir, runs.HISTORY))
        kept = shipped_rows if recipe["training"]["keep_best"] else shipped_rows[-1:]
        shipped_epoch, shipped = best(kept, monitor)
        tuned_epoch, tuned = best(tuned_rows, monitor)
        label = f"{size:,} examples" if size else "whole training set"
        results[size] = dict(
            label=label, shipped=shipped, shipped_epoch=shipped_epoch, shipped_epochs=len(shipped_rows),
            tuned=tuned, tuned_epoch=tuned_epoch, tuned_rows=tuned_rows,
        )

    print(f"\n{args.recipe}: {monitor} of the kept model, shipped recipe against the best epoch of a "
          f"{args.epochs}-epoch run (validation only)")
    print(f"{'training set':>20} | {'shipped (kept / run)':>22} | {'tuned best (epoch)':>18} | gap")
    for res in results.values():
        gap = 100 * (res["tuned"] - res["shipped"])
        print(f"{res['label']:>20} | {res['shipped']:.4f} ({res['shipped_epoch']:>2} / {res['shipped_epochs']:>2}) "
              f"      | {res['tuned']:.4f} ({res['tuned_epoch']:>2})     | {gap:+.2f} points")
    figure = os.path.join(out, "learning_curve.png")
    plot(results, monitor, figure)
    summary = {str(k): {key: v for key, v in r.items() if key != "tuned_rows"} for k, r in results.items()}
    with open(os.path.join(out, "learning_curve.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"plot: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
