"""Parity: how far an artifact's answers are from the Keras model's, and its held-out metric."""

import numpy as np

from kerasrnn import decoding


def _max_diff(a, b):
    return float(max(np.abs(np.asarray(x) - np.asarray(y)).max() for x, y in zip(a, b)))


def parity(exported, reference, texts, references=None):
    """Max |difference| from the Keras `reference` runner and agreement on `texts`.

    With `references`, the builder's held-out metric (`METRIC`) through the
    artifact is added.
    """
    builder = reference.builder
    result = {"examples": len(texts)}
    if builder.EXPORT == "generate":
        rows, first, _, eos = builder.prompts(reference.vocabs, texts)
        want, got = reference.encode(rows), exported.encode(rows)
        result["state_max_abs_diff"] = _max_diff(want, got)
        result["logits_max_abs_diff"] = _max_diff(reference.step(first, want)[0], exported.step(first, got)[0])
        dec = dict(reference.recipe["decoding"], strategy="greedy")
        same = [a == b for a, b in zip(decoding.decode(reference.step, want, first, eos, dec),
                                       decoding.decode(exported.step, got, first, eos, dec))]
        result["greedy_identical"] = int(sum(same))
    else:
        want, got = reference.logits(texts), exported.logits(texts)
        result["logits_max_abs_diff"] = _max_diff(want, got)
        same = [np.array_equal(np.argmax(a[..., 1:], -1), np.argmax(b[..., 1:], -1)) for a, b in zip(want, got)]
        result["labels_identical"] = int(sum(same))
    if references is not None:
        value = builder.runner_metric(exported, texts, references)
        if value is not None:
            result[builder.METRIC] = value
    return result
