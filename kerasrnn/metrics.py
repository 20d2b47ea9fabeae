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


def bleu(hypotheses, references, lowercase=False):
    """Corpus BLEU the standard way (sacreBLEU, its default 13a tokenizer), 0-100.

    Args:
        hypotheses: detokenized output strings, as a reader would see them.
        references: one list of original reference strings per hypothesis
            (as read from the data file, never lower-cased or tokenized here).
        lowercase: compare case-insensitively; the signature then says `case:lc`.

    Returns:
        (score, sacreBLEU's signature), e.g. `nrefs:var|case:lc|eff:no|tok:13a|...`.
    """
    from sacrebleu.metrics import BLEU

    depth = max(len(refs) for refs in references)
    # Parallel reference streams; an item with fewer references gets None,
    # sacreBLEU's mark for a variable number of them (`nrefs:var`).
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(depth)]
    scorer = BLEU(lowercase=lowercase)
    score = scorer.corpus_score(list(hypotheses), streams).score
    return score, str(scorer.get_signature())


# Tokens that the script tokenizer splits off inside a word ("l'homme",
# "peut-être"); detokenizing joins them to both neighbours.
_GLUE = ("'", "\u2019", "-")


# Tokens written without a space before them, or after them, in English and
# French alike ("?", "!", ":" and ";" take a space before them in French).
_CLOSING = (",", ".", ")")
_OPENING = ("(",)


def detokenize(tokens):
    """Word or script tokens -> text: space-joined, apostrophes and hyphens rejoined.

    Undoes `tokenizer: script`, which splits "n'ai" into `n ' ai`: commas,
    full stops and parentheses are joined to their word, other punctuation
    keeps its space. BLEU's own tokenizer separates punctuation again, so
    the score does not depend on it.
    """
    text, glue = "", False
    for token in tokens:
        joins = token in _GLUE
        if text and not (joins or glue or token in _CLOSING):
            text += " "
        text += token
        glue = joins or token in _OPENING
    return text


def unk_rate(hypotheses, unk="<unk>"):
    """The share of output tokens that are `<unk>` (0 for no tokens)."""
    total = sum(len(h) for h in hypotheses)
    return sum(t == unk for h in hypotheses for t in h) / total if total else 0.0


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


def is_chunk_tagging(tag_rows):
    """Whether tags are chunk tags (BIO, IOB1, IOE or IOBES): each is `O` or `B-X`, `I-X`, `E-X`, `S-X`.

    At least one tag must carry a prefix; a set of plain tags (`NN`, `VB`)
    is not chunking, and conlleval would read each one as a one-token chunk.
    """
    tags = {t for row in tag_rows for t in row}
    prefixed = {t for t in tags if len(t) > 2 and t[1] == "-" and t[0] in "BIES"}
    return bool(prefixed) and tags <= prefixed | {"O"}


def tagging_scores(gold, predicted):
    """Token accuracy, and per-tag and macro F1 (0-100) for tags that are not chunks.

    A tag's F1 counts tokens: a token tagged X is a hit when its gold tag is X.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted sentences differ in number")
    pairs = []
    for g, p in zip(gold, predicted):
        if len(g) != len(p):
            raise ValueError("a predicted tag sequence differs in length from its gold one")
        pairs.extend(zip(g, p))
    hits = collections.Counter(g for g, p in pairs if g == p)
    n_gold = collections.Counter(g for g, _ in pairs)
    n_pred = collections.Counter(p for _, p in pairs)
    per_tag = {t: 100 * 2 * hits[t] / (n_gold[t] + n_pred[t]) for t in sorted(set(n_gold) | set(n_pred))}
    return {
        "token_accuracy": sum(hits.values()) / max(len(pairs), 1),
        "macro_f1": sum(per_tag.values()) / max(len(per_tag), 1),
        "per_tag_f1": per_tag,
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
