"""Held-out metrics, computed on the host from decoded or predicted tokens."""

import collections


def edit_distance(a, b):
    """Levenshtein distance between two token sequences."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            )
        previous = current
    return previous[-1]


def error_rates(hypotheses, references):
    """Token and sequence error rates against one or more references each.

    For G2P these are the phoneme (PER) and word (WER) error rates: a word is
    right if it matches any of its pronunciations, and its phoneme errors are
    counted against the closest one.

    Args:
        hypotheses: one token list per item.
        references: one list of reference token lists per item.

    Returns:
        {"token_error_rate": ..., "sequence_error_rate": ...} as fractions.
    """
    if len(hypotheses) != len(references):
        raise ValueError("hypotheses and references differ in length")
    if not hypotheses:
        raise ValueError("no items to score")
    edits = length = wrong = 0
    for hyp, refs in zip(hypotheses, references):
        best = min(refs, key=lambda ref: (edit_distance(hyp, ref), len(ref)))
        distance = edit_distance(hyp, best)
        edits += distance
        length += len(best)
        wrong += distance > 0
    return {
        "token_error_rate": edits / max(length, 1),
        "sequence_error_rate": wrong / len(hypotheses),
    }


def bleu(hypotheses, references):
    """Corpus BLEU by sacreBLEU's conventions (13a tokenization), 0-100.

    Args:
        hypotheses: strings.
        references: one list of reference strings per hypothesis.

    The builders pass hypotheses and references joined alike by the target
    tokenizer (word tokens space-separated), so sacreBLEU's check for
    tokenized input, which would warn on every call, is turned off.
    """
    import sacrebleu

    depth = max(len(refs) for refs in references)
    # sacreBLEU wants parallel reference streams; repeating a reference leaves
    # clipped counts and the closest reference length unchanged.
    streams = [[refs[min(k, len(refs) - 1)] for refs in references] for k in range(depth)]
    return sacrebleu.corpus_bleu(hypotheses, streams, force=True).score


def macro_f1(gold, predicted):
    """Macro-averaged F1 over every label that is gold or predicted at least once.

    A label never predicted has precision 0 (and F1 0); a label predicted but
    never gold has recall 0, so both pull the average down, as in
    scikit-learn's `f1_score(average="macro")`.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels differ in length")
    labels = set(gold) | set(predicted)
    if not labels:
        raise ValueError("no labels to score")
    hits = collections.Counter(g for g, p in zip(gold, predicted) if g == p)
    n_gold, n_pred = collections.Counter(gold), collections.Counter(predicted)
    # F1 = 2tp / (2tp + fp + fn) = 2tp / (gold count + predicted count)
    return sum(2 * hits[x] / (n_gold[x] + n_pred[x]) for x in labels) / len(labels)


def classification_scores(gold, predicted, known):
    """Accuracy, macro-F1 and the count of gold labels outside `known`.

    A gold label the model never saw in training cannot be predicted, so each
    one counts as an error; `unseen_labels` says how many there were.
    """
    right = sum(g == p for g, p in zip(gold, predicted))
    return {
        "accuracy": right / len(gold),
        "macro_f1": macro_f1(gold, predicted),
        "unseen_labels": sum(g not in known for g in gold),
        "examples": len(gold),
    }


def _split_tag(tag):
    if tag == "O" or "-" not in tag:
        return ("O", "") if tag == "O" else ("I", tag)
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def chunks(tags):
    """The chunks of a tag sequence as a set of `(type, start, end)`, end exclusive.

    Follows conlleval: BIO (IOB2) and IOB1 tags, and IOE/IOBES ends. A chunk
    starts at `B-X` or `S-X`, or at `I-X`/`E-X` after `O` or a chunk of
    another type; it ends before `B`, `S` or `O`, after `E` or `S`, or where
    the type changes.
    """
    found = set()
    start, kind = None, ""
    prev_prefix = "O"
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, this = _split_tag(tag)
        ends = start is not None and (
            prefix in ("B", "S", "O") or prev_prefix in ("E", "S") or this != kind
        )
        if ends:
            found.add((kind, start, i))
            start = None
        if prefix != "O" and start is None:
            start, kind = i, this
        prev_prefix = prefix
    return found


def chunk_scores(gold, predicted):
    """conlleval's token accuracy and chunk precision, recall and F1 (0-100).

    Args:
        gold: one tag sequence per sentence.
        predicted: the predicted tag sequences, aligned with `gold`.

    A predicted chunk counts only if its type, start and end all match a gold
    chunk of the same sentence.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted sentences differ in number")
    tokens = right = correct = n_gold = n_pred = 0
    for g, p in zip(gold, predicted):
        if len(g) != len(p):
            raise ValueError("a predicted tag sequence differs in length from its gold one")
        tokens += len(g)
        right += sum(a == b for a, b in zip(g, p))
        gold_chunks, pred_chunks = chunks(g), chunks(p)
        correct += len(gold_chunks & pred_chunks)
        n_gold += len(gold_chunks)
        n_pred += len(pred_chunks)
    precision = 100 * correct / n_pred if n_pred else 0.0
    recall = 100 * correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    return {
        "token_accuracy": right / max(tokens, 1),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "gold_chunks": n_gold,
        "predicted_chunks": n_pred,
    }


def regression_scores(gold, predicted):
    """Mean squared and mean absolute error of predicted numbers."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError("gold and predicted values must be non-empty and aligned")
    errors = [p - g for g, p in zip(gold, predicted)]
    return {
        "mse": sum(e * e for e in errors) / len(errors),
        "mae": sum(abs(e) for e in errors) / len(errors),
        "examples": len(errors),
    }


def language_model_scores(nll, tokens, chars=None):
    """Loss, perplexity and bits from a total negative log-likelihood in nats.

    Args:
        nll: summed negative log-probability of the held-out tokens (nats).
        tokens: how many tokens were predicted (<eos> included).
        chars: how many characters those tokens spell (line breaks included);
            gives `bits_per_char`, comparable across tokenizers.
    """
    import math

    loss = nll / max(tokens, 1)
    result = {
        "loss": loss,
        "perplexity": math.exp(min(loss, 700.0)),
        "bits_per_token": loss / math.log(2),
        "tokens": tokens,
    }
    if chars:
        result["bits_per_char"] = nll / chars / math.log(2)
    return result


def novelty(samples, seen):
    """The share of generated samples that are not among the `seen` ones."""
    if not samples:
        return 0.0
    seen = set(seen)
    return sum(sample not in seen for sample in samples) / len(samples)
