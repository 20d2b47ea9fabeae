"""The recipe's `data` section: files or a catalog data set, format, splits, tokenizers."""

from kerasrnn.config.fields import FORMATS, Field, tokenizer_section

DATA = {
    "dataset": Field(
        (str,),
        None,
        "A dataset catalog name (`kerasrnn datasets list`).",
        nullable=True,
    ),
    "train": Field(
        (str, list),
        None,
        "Training file(s): a path, a glob, or a list; overrides the catalog's.",
        nullable=True,
        path=True,
    ),
    "valid": Field(
        (str, list),
        None,
        "Validation file(s); without them a seeded share of train is held out.",
        nullable=True,
        path=True,
    ),
    "test": Field(
        (str, list),
        None,
        "Test file(s); without them a seeded share of train is held out.",
        nullable=True,
        path=True,
    ),
    "format": Field(
        (str,),
        "auto",
        "File format; `auto` takes the catalog's or guesses from the file name.",
        choices=FORMATS,
    ),
    "columns": Field(
        (dict,),
        None,
        "Which columns or fields hold the source and target, "
        "e.g. {source: 0, target: 1}, JSON keys, or CoNLL-U column names "
        "such as {source: form, target: upos}.",
        nullable=True,
    ),
    "delimiter": Field(
        (str,), None, "Column delimiter for tsv/csv files.", nullable=True
    ),
    "header": Field((bool,), False, "The first line of tsv/csv files is a header."),
    "encoding": Field(
        (str,),
        "utf-8",
        "Text encoding of the data files, e.g. utf-8, cp1252 or latin-1; a "
        "file that does not decode names the line and column, and an "
        "encoding that reads it where a common one does.",
    ),
    "on_bad_line": Field(
        (str,),
        "error",
        "What a malformed line does: stop with an error naming it, "
        "or skip it (skipped lines are counted and reported).",
        choices=("error", "skip"),
    ),
    "strip_stress": Field(
        (bool,), True, "cmudict format: drop the stress digits of vowels."
    ),
    "multiword_tokens": Field(
        (bool,),
        False,
        "conllu format: keep multiword token lines (ID 3-4, e.g. the "
        "surface form 'can't' above 'ca' and 'n't') in the token sequence.",
    ),
    "empty_nodes": Field(
        (bool,),
        False,
        "conllu format: keep empty nodes (ID 8.1) in the token sequence.",
    ),
    "max_examples": Field(
        (int,),
        None,
        "Use at most this many examples of each split, a seeded sample (for quick runs).",
        min=1,
        nullable=True,
    ),
    "valid_split": Field(
        (float,),
        0.05,
        "Share of examples held out for validation when no valid file is given.",
        min=0.0,
        max=0.5,
    ),
    "test_split": Field(
        (float,),
        0.05,
        "Share of examples held out for testing when no test file is given.",
        min=0.0,
        max=0.5,
    ),
    "split_by": Field(
        (str,),
        "key",
        "How held-out shares are carved from train: by a seeded hash of each "
        "example's key, or by position (the last `test_split` share of the "
        "text, in file order, is test and the `valid_split` share before it "
        "valid; nanoGPT's split of a stream).",
        choices=("key", "position"),
    ),
    "split_seed": Field(
        (int,),
        None,
        "Seed of the hash that carves the held-out shares; default: "
        "training.seed. Set it to train several models (training.seed "
        "varied) that hold out the same examples, to compare them.",
    ),
    "swap_sides": Field(
        (bool,),
        False,
        "Exchange source and target after reading, e.g. so the folder "
        "format's label (the file name) is the source of a one_to_many model.",
    ),
    "lm_mode": Field(
        (str,),
        "sentences",
        "language_model: each line an independent example between <bos> and "
        "<eos>, or all lines one stream (each line ending in <eos>) read in "
        "windows with the state carried between them (truncated BPTT).",
        choices=("sentences", "stream"),
    ),
    "window": Field(
        (int,),
        128,
        "language_model stream mode: tokens per window (the BPTT length).",
        min=1,
    ),
    "streaming": Field(
        (bool,),
        None,
        "Read the data files again on each pass instead of holding them in "
        "memory (for files larger than memory); null: only when the files "
        "pass 200 MB. Needs split_by: key.",
        nullable=True,
    ),
    "source": {
        **tokenizer_section("char", "input"),
        "factors": Field(
            (int,),
            0,
            "Features joined to each word token by U+FFE8 (word\uffe8POS), "
            "as a list `columns.source` reads them; a tagger embeds each "
            "beside the word. Needs tokenizer word or pretokenized.",
            min=0,
            max=4,
        ),
    },
    "target": tokenizer_section("label", "output"),
}
