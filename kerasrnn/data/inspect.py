"""Statistics that help choose a recipe's lengths and vocabulary sizes.

Example:

>>> from kerasrnn.data import catalog, readers
>>> examples = readers.read_examples(catalog.fetch("cmudict")["train"], "cmudict")
>>> report = inspect_examples(examples, max_length=20, tokenizers={"source": "char"})
>>> print(format_report(report))  # doctest: +SKIP
"""

import collections
import statistics

from kerasrnn.data.tokenizers import Tokenizer

MAX_LABELS = 100
SIDES = ("source", "target")


def inspect_examples(examples, max_length=None, out_png=None, tokenizers=None, vocabularies=None):
    """Counts examples, token lengths, labels and out-of-vocabulary tokens.

    Args:
        examples: an iterable of `Example`s.
        max_length: a length limit, or a dict per side (`{"source": 50}`):
            the report counts the examples it would truncate.
        out_png: where to write a PNG of the length histograms (and of the
            label balance, when the targets are labels).
        tokenizers: per side, how to split text into tokens: a kind
            (`char`, `word`, `pretokenized`, `label`, or `script`/`subword`
            through `kerasrnn.data.tokenizers`), or an object with
            `split_py(texts)`. Default `word`. Pre-tokenized examples (tuples)
            are used as they are.
        vocabularies: per side, a vocabulary (anything supporting `in`) to
            measure the out-of-vocabulary rate against.

    Returns:
        A dict: `examples`, then per side (`source`, `target`; `None` for a
        side that is absent) `tokens`, `types`, `length` (min, mean, median,
        p95, max), `truncated` and `oov_rate`; `labels` (label -> count, most
        frequent first) when the targets look like labels; `tags` for tag
        sequences; and `png`.
    """
    tokenizers = tokenizers or {}
    vocabularies = vocabularies or {}
    if not isinstance(max_length, dict):
        max_length = {side: max_length for side in SIDES}
    values = {side: [] for side in SIDES}
    count = 0
    for example in examples:
        count += 1
        values["source"].append(example.source)
        if example.target is not None:
            values["target"].append(example.target)
    report = {"examples": count, "labels": None, "tags": None, "png": None}
    lengths = {}
    for side in SIDES:
        if not values[side]:
            report[side] = None
            continue
        tokens = _tokenize(values[side], tokenizers.get(side, "word"))
        lengths[side] = [len(t) for t in tokens]
        report[side] = _side_report(tokens, lengths[side], max_length.get(side), vocabularies.get(side))
    targets = values["target"]
    if targets and isinstance(targets[0], tuple):
        report["tags"] = _most_common(tag for tags in targets for tag in tags)
    elif targets and all(isinstance(t, str) and not any(c.isspace() for c in t) for t in targets):
        labels = _most_common(targets)
        if len(labels) <= MAX_LABELS:
            report["labels"] = labels
    if out_png:
        if report["labels"]:
            lengths.pop("target")
        _plot(lengths, max_length, report["labels"], out_png)
        report["png"] = out_png
    return report


def format_report(report):
    """Formats `inspect_examples`' dict as a few lines of text."""
    lines = [f"examples: {report['examples']:,}"]
    for side in SIDES:
        stats = report.get(side)
        if not stats or (side == "target" and report.get("labels")):
            continue
        length = stats["length"]
        lines.append(
            f"{side}: {stats['tokens']:,} tokens, {stats['types']:,} distinct; length min {length['min']}, "
            f"mean {length['mean']:.1f}, median {length['median']:g}, p95 {length['p95']}, max {length['max']}"
        )
        if stats["truncated"] is not None:
            share = stats["truncated"] / max(report["examples"], 1)
            lines.append(f"  max length {stats['max_length']} truncates {stats['truncated']:,} examples ({share:.1%})")
        if stats["oov_rate"] is not None:
            lines.append(f"  out of vocabulary: {stats['oov_rate']:.2%} of tokens")
    for name in ("labels", "tags"):
        counts = report.get(name)
        if counts:
            total = sum(counts.values())
            shown = ", ".join(f"{label} {n / total:.1%}" for label, n in list(counts.items())[:20])
            more = f", ... ({len(counts)} in all)" if len(counts) > 20 else ""
            lines.append(f"{name}: {shown}{more}")
    if report.get("png"):
        lines.append(f"histograms: {report['png']}")
    return "\n".join(lines)


def _tokenize(values, tokenizer):
    if isinstance(values[0], tuple):
        return values
    if hasattr(tokenizer, "split_py"):
        return tokenizer.split_py(values)
    if tokenizer == "char":
        return [list(text) for text in values]
    if tokenizer in ("word", "pretokenized"):
        return [text.split() for text in values]
    if tokenizer == "label":
        return [[text] for text in values]
    return Tokenizer(tokenizer).split_py(values)


def _side_report(tokens, lengths, max_length, vocabulary):
    counts = collections.Counter(token for row in tokens for token in row)
    total = sum(counts.values())
    ordered = sorted(lengths)
    oov_rate = None
    if vocabulary is not None:
        oov_rate = sum(n for token, n in counts.items() if token not in vocabulary) / max(total, 1)
    return {
        "tokens": total,
        "types": len(counts),
        "length": {
            "min": ordered[0],
            "mean": statistics.fmean(ordered),
            "median": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max": ordered[-1],
        },
        "max_length": max_length,
        "truncated": None if max_length is None else sum(1 for n in lengths if n > max_length),
        "oov_rate": oov_rate,
    }


def _most_common(items):
    return dict(collections.Counter(items).most_common())


def _plot(lengths, max_length, labels, out_png):
    # The object-oriented API leaves pyplot's global backend alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = list(lengths) + (["labels"] if labels else [])
    figure = Figure(figsize=(5 * max(len(panels), 1), 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, max(len(panels), 1), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        if panel == "labels":
            ax.bar(range(len(labels)), list(labels.values()))
            ax.set_xticks(range(len(labels)), list(labels), rotation=90 if len(labels) > 6 else 0)
            ax.set_title("label balance")
            ax.set_ylabel("examples")
            continue
        values = lengths[panel]
        ax.hist(values, bins=min(50, max(values) - min(values) + 1))
        if max_length.get(panel):
            ax.axvline(max_length[panel], color="tab:red", linestyle="--", label=f"max length {max_length[panel]}")
            ax.legend()
        ax.set_title(f"{panel} length (tokens)")
        ax.set_xlabel("tokens")
        ax.set_ylabel("examples")
    figure.savefig(out_png, dpi=100)
