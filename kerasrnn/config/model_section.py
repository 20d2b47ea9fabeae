"""The recipe's `model` section: cells, sizes, and each type's architecture options."""

from kerasrnn.config.fields import CELLS, Field
from kerasrnn.data import catalog

MODEL = {
    "cell": Field((str,), "lstm", "Recurrent cell.", choices=CELLS),
    "units": Field((int,), 256, "Units per recurrent layer.", min=1),
    "layers": Field((int,), 1, "Stacked recurrent layers.", min=1, max=16),
    "bidirectional": Field(
        (bool,), False, "Run the encoder (or the whole tagger) both ways."
    ),
    "residual": Field(
        (bool,), False, "Residual connections between stacked layers."
    ),
    "decoder": Field(
        (str,),
        "rnn",
        "seq2seq: rnn, a recurrent decoder generating the target token by "
        "token from the encoder's states; or ctc, a softmax over the target "
        "tokens plus a blank at every encoder step (CTC, Graves et al. 2006): "
        "one pass, no step loop, for outputs in the order of the input "
        "(G2P, transliteration, spelling).",
        choices=("rnn", "ctc"),
    ),
    "upsample": Field(
        (int,),
        1,
        "seq2seq with decoder ctc: read each source token this many times, "
        "so the output can be up to this many times longer than the input "
        "(G2P: 'x' -> 'K S'). Examples that still do not fit are left out "
        "of training and reported.",
        min=1,
        max=8,
    ),
    "upsample_mode": Field(
        (str,),
        "split",
        "seq2seq with decoder ctc, how steps are made: split, the encoder "
        "runs at the source's rate and its output layer gives `upsample` "
        "steps of scores per source token (cheapest); or repeat, each "
        "source embedding is repeated `upsample` times before the encoder.",
        choices=("split", "repeat"),
    ),
    "reverse_source": Field(
        (bool,),
        False,
        "seq2seq with decoder rnn: the encoder reads each source reversed "
        "(Sutskever et al. 2014), so the first target tokens sit close in "
        "time to the first source tokens. Inside the model: exports read "
        "the same way.",
    ),
    "context": Field(
        (str,),
        "initial_state",
        "seq2seq with decoder rnn, where the encoder's summary enters the "
        "decoder: initial_state, its final states start the decoder; or "
        "every_step, also a context vector (a tanh layer over the top "
        "encoder level's final states) joined to every decoder input and "
        "to the output layer's input (Cho et al. 2014).",
        choices=("initial_state", "every_step"),
    ),
    "embedding_dim": Field((int,), 64, "Token embedding size.", min=1),
    "embeddings": {
        "path": Field(
            (str,),
            None,
            "Pretrained word vectors to start the word embeddings from: a "
            "plain, .gz or .zip file, or archive.zip:member. Training reads "
            "it once; the vectors are then part of the model, so the run and "
            "its exports need no vector file.",
            nullable=True,
            path=True,
        ),
        "dataset": Field(
            (str,),
            None,
            "The same from the catalog instead of a path, e.g. glove_6B_50d.",
            nullable=True,
            choices=tuple(catalog.VECTORS),
        ),
        "format": Field(
            (str,),
            "auto",
            "glove (word and values per line), word2vec (the same after a "
            "'COUNT DIMENSION' header) or word2vec_binary; auto: binary for "
            ".bin files, else by the first line.",
            # kerasrnn.data.vectors.FORMATS, written out: that module starts TensorFlow.
            choices=("auto", "glove", "word2vec", "word2vec_binary"),
        ),
        "side": Field(
            (str,),
            "source",
            "Which word-level input starts from the vectors: the source, the "
            "target (a seq2seq decoder's), or both.",
            choices=("source", "target", "both"),
        ),
        "trainable": Field(
            (bool,), True, "false: the embeddings stay the vectors through training."
        ),
        "static_copy": Field(
            (bool,),
            False,
            "Also keep a frozen copy of the vectors and feed the mean of the "
            "trained and the frozen embedding (Kim 2014's two channels), so "
            "half of what the model reads for any word is where the file put it.",
        ),
        "add_words": Field(
            (int, bool),
            False,
            "Also give the vocabulary this many of the file's most frequent "
            "words that training never saw (true: up to data.<side>.max_vocab), "
            "so such words in new text still have their vector. The "
            "vocabulary stays within max_vocab.",
            min=0,
        ),
        "case_fallback": Field(
            (bool,),
            True,
            "A word missing from the file takes the vector of the same word "
            "in another case (Paris -> paris).",
        ),
        "project": Field(
            (bool,),
            False,
            "Vectors of another size than embedding_dim go through a learned "
            "linear projection to embedding_dim; false: such a size is an error.",
        ),
    },
    "dropout": Field(
        (float,),
        0.0,
        "Dropout on the embedded words (classifiers and language models), between "
        "layers and before the output.",
        min=0.0,
        max=0.95,
    ),
    "recurrent_dropout": Field(
        (float,),
        0.0,
        "Variational dropout on the recurrent state.",
        min=0.0,
        max=0.95,
    ),
    "tie_embeddings": Field(
        (bool,),
        False,
        "language_model / one_to_many: the output layer is the embedding "
        "matrix transposed (units are projected to embedding_dim first "
        "where they differ).",
    ),
    "conditioning": Field(
        (str,),
        "initial_state",
        "one_to_many: the condition's embedding sets the decoder's initial "
        "states (through a Dense per state), is joined to every step's "
        "input, or both.",
        choices=("initial_state", "input", "both"),
    ),
    "pooling": Field(
        (str,),
        "last",
        "many_to_one: how the sequence becomes one vector: the final states "
        "(both directions' when bidirectional), or the mean or max over the "
        "real (unpadded) steps.",
        choices=("last", "mean", "max"),
    ),
    "head": Field(
        (str,),
        "classification",
        "many_to_one / one_to_one: a softmax over the target labels, or one "
        "number (the target is a float; mean squared error loss).",
        choices=("classification", "regression"),
    ),
    "spelling_features": Field(
        (bool,),
        False,
        "many_to_many: add each token's spelling to its embedding: its case "
        "pattern, digits, and its last three characters.",
    ),
    "char_cnn": Field(
        (int,),
        0,
        "many_to_many: filters of a character-level CNN over each word "
        "(width 3, max-pooled; Ma and Hovy 2016), joined to its embedding, "
        "so words training never saw are read from their spelling; 0: none.",
        min=0,
    ),
    "word_dropout": Field(
        (float,),
        0.0,
        "many_to_many and many_to_one: in training, read each word as <unk> "
        "with this probability, so the <unk> embedding learns the contexts "
        "that unknown words come in and no single word decides the output.",
        min=0.0,
        max=1.0,
    ),
    "crf": Field(
        (bool,),
        False,
        "many_to_many: score whole tag sequences with a linear-chain CRF "
        "(learned tag-to-tag transitions, Viterbi decoding) instead of "
        "choosing each token's tag on its own.",
    ),
}
