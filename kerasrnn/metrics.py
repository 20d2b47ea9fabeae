"""Held-out metrics, computed on the host from decoded or predicted tokens."""


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
        hypotheses: detokenized strings.
        references: one list of reference strings per hypothesis.
    """
    import sacrebleu

    depth = max(len(refs) for refs in references)
    # sacreBLEU wants parallel reference streams; repeating a reference leaves
    # clipped counts and the closest reference length unchanged.
    streams = [[refs[min(k, len(refs) - 1)] for refs in references] for k in range(depth)]
    return sacrebleu.corpus_bleu(hypotheses, streams).score
