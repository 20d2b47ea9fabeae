"""The recipe's `training`, `decoding` and `export` sections."""

from kerasrnn.config.fields import Field

TRAINING = {
    "epochs": Field((int,), 10, "Passes over the training data.", min=1),
    "batch_size": Field((int,), 64, "Examples per step.", min=1),
    "learning_rate": Field((float,), 1e-3, "Initial learning rate.", min=0.0),
    "optimizer": Field(
        (str,),
        "adam",
        "Optimizer.",
        choices=("adam", "adamw", "sgd", "rmsprop"),
    ),
    "momentum": Field(
        (float,), 0.0, "Momentum of sgd and rmsprop.", min=0.0, max=1.0
    ),
    "weight_decay": Field(
        (float,),
        None,
        "Decoupled weight decay; null: adamw's 0.004, none for the others.",
        min=0.0,
        nullable=True,
    ),
    "lr_schedule": Field(
        (str,),
        "constant",
        "Learning rate over training: constant, exponential decay (times "
        "`decay_rate` each epoch), cosine decay to `min_learning_rate` by the "
        "last epoch, or reduced by `plateau_factor` when `monitor` stops "
        "improving for `plateau_patience` epochs.",
        choices=("constant", "exponential", "cosine", "plateau"),
    ),
    "decay_rate": Field(
        (float,), 0.5, "exponential: the rate is multiplied by this each epoch.",
        min=0.0, max=1.0,
    ),
    "decay_start": Field(
        (float,), 0.0, "exponential: epochs at the full rate before the decay begins.",
        min=0.0,
    ),
    "min_learning_rate": Field(
        (float,), 0.0, "cosine and plateau: the rate never goes below this.", min=0.0
    ),
    "plateau_factor": Field(
        (float,), 0.5, "plateau: the rate is multiplied by this.", min=0.0, max=1.0
    ),
    "plateau_patience": Field(
        (int,), 2, "plateau: epochs without improvement before reducing.", min=1
    ),
    "warmup_steps": Field(
        (int,), 0, "Raise the rate linearly from 0 over this many first steps.", min=0
    ),
    "clipnorm": Field(
        (float,),
        1.0,
        "Clip gradients to this global norm (exploding gradients); null for none.",
        min=0.0,
        nullable=True,
    ),
    "clipvalue": Field(
        (float,),
        None,
        "Clip each gradient element to [-clipvalue, clipvalue] instead "
        "(set clipnorm: null with it).",
        min=0.0,
        nullable=True,
    ),
    "sampled_softmax": Field(
        (int,),
        0,
        "language_model: score the true word against this many sampled ones "
        "in training (a sampled softmax, for large vocabularies; validation "
        "and evaluation score every word); 0 for the full softmax.",
        min=0,
    ),
    "label_smoothing": Field(
        (float,),
        0.0,
        "Share of each target's probability spread over the other classes.",
        min=0.0,
        max=0.99,
    ),
    "ema": Field(
        (float,),
        0.0,
        "Keep an exponential moving average of the weights, updated every "
        "step with this momentum (e.g. 0.99; Polyak averaging); validation, "
        "keep_best, model.keras and the test use the averaged weights, "
        "training goes on from the raw ones. 0: off.",
        min=0.0,
        max=0.9999,
    ),
    "adversarial": Field(
        (float,),
        0.0,
        "Adversarial training on the word embeddings: each step also trains on "
        "the loss after moving every trainable embedding table this far (L2 "
        "norm, for the whole batch) along its gradient (Miyato et al. 2017, "
        "who scale each sentence's move instead; e.g. 2.0). A step "
        "costs about twice as much. 0: off.",
        min=0.0,
    ),
    "monitor": Field(
        (str,),
        "val_loss",
        "The history.csv column that early stopping, the plateau schedule "
        "and keep_best watch (loss/error columns lower is better, others "
        "higher); val_ columns fall back to the training column without "
        "validation data.",
    ),
    "early_stopping": Field(
        (int,),
        None,
        "Stop after this many epochs without improvement of `monitor`; null: never.",
        min=1,
        nullable=True,
    ),
    "keep_best": Field(
        (bool,),
        True,
        "model.keras holds the epoch best on `monitor`, not the last one.",
    ),
    "checkpoints_to_keep": Field(
        (int,), 2, "Epoch checkpoints kept in RUN/checkpoints for --resume.", min=1
    ),
    "seed": Field((int,), 1337, "Seed for splits, shuffling and initializers."),
    "deterministic": Field(
        (bool,),
        False,
        "TensorFlow op determinism: the same seed gives the same weights "
        "(slower on GPUs).",
    ),
    "strategy": Field(
        (str,),
        "auto",
        "tf.distribute strategy: auto (mirrored over several local GPUs, "
        "multi_worker when TF_CONFIG is set, else default), default (one "
        "device), mirrored (every local GPU), multi_worker (the machines "
        "TF_CONFIG lists).",
        choices=("auto", "default", "mirrored", "multi_worker"),
    ),
    "precision": Field(
        (str,),
        "float32",
        "Keras dtype policy; the mixed ones compute in 16 bits on GPUs "
        "(variables and outputs stay float32; mixed_float16 scales the loss). "
        "auto: mixed_bfloat16 on a CPU with native bfloat16 arithmetic "
        "(AVX512_BF16 or AMX), float32 elsewhere.",
        choices=("float32", "mixed_float16", "mixed_bfloat16", "auto"),
    ),
    "tensorboard": Field(
        (bool,), True, "Write TensorBoard logs to RUN/logs."
    ),
    "shuffle_buffer": Field(
        (int,), 20000, "Examples held in the shuffle buffer.", min=1
    ),
    "steps_per_epoch": Field(
        (int,),
        None,
        "Stop each epoch after this many steps (default: the whole data); "
        "each epoch then starts its own seeded pass over the data.",
        min=1,
        nullable=True,
    ),
    "verbose": Field(
        (int,), 1, "Keras progress display: 0 silent, 1 bar, 2 one line per epoch.", min=0, max=2
    ),
}


DECODING = {
    "strategy": Field(
        (str,),
        "greedy",
        "How sequences are generated for evaluation and predict.",
        choices=("greedy", "beam", "sample"),
    ),
    "beam_width": Field(
        (int,), 4, "Beam width for beam search (prefix beam search for a ctc decoder).", min=1
    ),
    "length_penalty": Field(
        (float,),
        0.0,
        "Beam scores divided by length**length_penalty (0: none).",
        min=0.0,
    ),
    "max_length": Field(
        (int,), 64, "Longest generated sequence, in tokens.", min=1
    ),
    "temperature": Field((float,), 1.0, "Sampling temperature.", min=0.0),
    "top_k": Field((int,), 0, "Sample among the k likeliest (0: all).", min=0),
    "top_p": Field(
        (float,), 1.0, "Sample within this probability mass.", min=0.0, max=1.0
    ),
    "suppress_unk": Field(
        (bool,),
        False,
        "language_model / one_to_many: never generate <unk> (its probability "
        "goes to the other tokens).",
    ),
}


EXPORT = {
    "formats": Field(
        (list,), ["savedmodel"], "Formats `kerasrnn export` writes by default."
    ),
    "quantize": Field(
        (str,),
        "none",
        "TFLite quantization.",
        choices=("none", "float16", "dynamic", "int8"),
    ),
    "batch_size": Field((int,), 1, "Fixed batch of TFLite exports.", min=1),
}
