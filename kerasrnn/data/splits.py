"""Seeded train / validation / test splits that keep groups together."""

import hashlib

SPLITS = ("train", "valid", "test")


def split_of(key, seed, valid_share, test_share):
    """`"train"`, `"valid"` or `"test"` for a grouping key, stable across runs.

    The key is hashed with the seed, so an example's split depends only on its
    key: every pronunciation of one word lands in the same split, and the
    split does not change with the order or number of examples.
    """
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode("utf-8"), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2.0**64
    if u < test_share:
        return "test"
    if u < test_share + valid_share:
        return "valid"
    return "train"


def split_examples(examples, seed, valid_share, test_share, need=("valid", "test")):
    """Splits examples by their key (or their source when they have none).

    Only the splits named in `need` are carved out; the rest stays in train.
    Returns a dict with lists for "train", "valid" and "test".
    """
    out = {split: [] for split in SPLITS}
    valid_share = valid_share if "valid" in need else 0.0
    test_share = test_share if "test" in need else 0.0
    for ex in examples:
        key = ex.key if ex.key is not None else repr(ex.source)
        out[split_of(key, seed, valid_share, test_share)].append(ex)
    return out


def split_by_position(examples, seed, valid_share, test_share, need=("valid", "test")):
    """Splits examples in file order, by their share of the characters.

    The first part is train, then valid, then test: the last `test_share`
    of the text is test (nanoGPT's split of a stream, with no shuffling).
    `seed` is unused; it keeps the signature of `split_examples`.
    """
    valid_share = valid_share if "valid" in need else 0.0
    test_share = test_share if "test" in need else 0.0
    sizes = [len(" ".join(ex.source) if isinstance(ex.source, tuple) else ex.source) + 1 for ex in examples]
    total = sum(sizes)
    test_from = total - round(total * test_share)
    valid_from = total - round(total * (test_share + valid_share))
    out = {split: [] for split in SPLITS}
    seen = 0
    for ex, size in zip(examples, sizes):
        if seen >= test_from:
            out["test"].append(ex)
        elif seen >= valid_from:
            out["valid"].append(ex)
        else:
            out["train"].append(ex)
        seen += size
    return out
