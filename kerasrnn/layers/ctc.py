"""Connectionist temporal classification (CTC): the layers and loss a CTC model needs.

A CTC model scores every output position of a sequence with the target
vocabulary plus a *blank*, and a target is the sum over every alignment that
collapses to it: merge repeated labels, then drop blanks (Graves et al.
2006). The blank is id 0, `BLANK_ID`, the padding id of every kerasrnn
vocabulary, which is never a real label: targets are passed padded with 0
and counted by their non-zero ids, so padding is never read as a label.

- `Upsample1D` makes each step `factor` steps (mask too), by repeating it or
  by splitting its features, so an output can be longer than its input
  (`x` -> `K S`);
- `MaskedBlank` turns masked steps into certain blanks and drops the mask,
  so a padded batch needs no lengths: the loss, greedy decoding and a
  TFLite export all read the full padded sequence and get the same answer;
- `CTCLoss` is `keras.ops.ctc_loss` behind Keras's `loss(y_true, y_pred)`;
- `ctc_alignable` says whether a target fits in a number of steps.
"""

import keras
from keras import ops

# The padding id of every vocabulary; labels never use it.
BLANK_ID = 0
# The logit of a non-blank class at a masked step: exp(-1e4) is 0 in float32,
# and -1e4 stays finite in float16.
_NEVER = -1e4


def ctc_alignable(target_length, repeats, steps):
    """Whether a target of `target_length` labels fits in `steps` CTC steps.

    Each label takes a step, and each label equal to the one before it
    (`repeats`) needs a blank between them, another step. Works on Python
    ints and on tensors alike.
    """
    return target_length + repeats <= steps


@keras.saving.register_keras_serializable(package="kerasrnn")
class Upsample1D(keras.layers.Layer):
    """Makes every step of a sequence `factor` steps, mask included.

    A CTC output is at most as long as its input; `factor` steps per input
    step let it be up to `factor` times longer. Rao et al. (2015) read
    letters this way for grapheme-to-phoneme conversion, where some letters
    spell two phonemes (`x` -> `K S`).

    Args:
        factor: Positive integer, steps made of each step. Default 2. With 1
            the layer passes inputs through.
        mode: `"repeat"` (default) repeats each step `factor` times;
            `"split"` cuts each step's features into `factor` consecutive
            steps of `features / factor` each, so a `Dense(factor * d)`
            before it is a learned upsampling (a transposed convolution of
            stride `factor`): a recurrent stack can run at the input's rate
            and its output still give `factor` CTC steps per input step.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: A 3D tensor `(batch, timesteps, features)`; with `"split"`,
            `features` must be a multiple of `factor`.
        mask: Optional boolean `(batch, timesteps)`; it is repeated like the
            steps, so `(batch, timesteps * factor)` comes out.

    Example:

    >>> x = keras.ops.reshape(keras.ops.arange(6.0), (1, 3, 2))
    >>> keras.ops.convert_to_numpy(Upsample1D(2)(x))[0, :, 0]
    array([0., 0., 2., 2., 4., 4.], dtype=float32)
    >>> keras.ops.convert_to_numpy(Upsample1D(2, mode="split")(x))[0, :, 0]
    array([0., 1., 2., 3., 4., 5.], dtype=float32)
    """

    MODES = ("repeat", "split")

    def __init__(self, factor=2, mode="repeat", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
            raise ValueError(
                f"Argument `factor` must be a positive integer. Received: factor={factor!r}"
            )
        if mode not in self.MODES:
            raise ValueError(f"Argument `mode` must be one of {self.MODES}. Received: mode={mode!r}")
        self.factor = factor
        self.mode = mode
        self.supports_masking = True

    def build(self, input_shape):
        if self.mode == "split" and input_shape[-1] is not None and input_shape[-1] % self.factor:
            raise ValueError(
                f"Upsample1D(mode='split') needs features divisible by factor={self.factor}. "
                f"Received: input_shape={input_shape}"
            )

    def call(self, inputs):
        if self.factor == 1:
            return inputs
        if self.mode == "repeat":
            return ops.repeat(inputs, self.factor, axis=1)
        shape = ops.shape(inputs)
        return ops.reshape(inputs, (shape[0], shape[1] * self.factor, inputs.shape[-1] // self.factor))

    def compute_mask(self, inputs, mask=None):
        if mask is None or self.factor == 1:
            return mask
        return ops.repeat(mask, self.factor, axis=1)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        features = input_shape[-1]
        if self.mode == "split" and features is not None:
            features //= self.factor
        return (input_shape[0], None if steps is None else steps * self.factor, features)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "mode": self.mode}


@keras.saving.register_keras_serializable(package="kerasrnn")
class MaskedBlank(keras.layers.Layer):
    """CTC logits whose masked steps are certain blanks; the mask is dropped.

    At a padded step the blank gets logit 0 and every other class -1e4, so
    its log-probability is 0 to float precision and every alignment of the
    real steps extends to the padded sequence in exactly one way, with the
    same probability. The CTC loss of the padded sequence is therefore the
    loss of the real steps, and greedy or beam decoding of a padded row
    gives the row's own answer: nothing downstream needs the lengths.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        logits: A 3D tensor `(batch, timesteps, classes)`; class `BLANK_ID`
            (0) is the blank.
        mask: Optional boolean `(batch, timesteps)`. Without one the logits
            pass through.

    Example:

    >>> logits = keras.ops.ones((1, 3, 4))
    >>> out = MaskedBlank()(logits, mask=keras.ops.array([[True, True, False]]))
    >>> keras.ops.convert_to_numpy(out)[0, 2].tolist()
    [0.0, -10000.0, -10000.0, -10000.0]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, logits, mask=None):
        if mask is None:
            return logits
        classes = ops.shape(logits)[-1]
        certain = ops.cast(ops.where(ops.arange(classes) == BLANK_ID, 0.0, _NEVER), logits.dtype)
        return ops.where(ops.expand_dims(mask, -1), logits, certain)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="kerasrnn")
class MemberScores(keras.layers.Layer):
    """Several models' scores side by side: an ensemble's output.

    CTC models trained apart cannot be averaged step by step (each places its
    label spikes on its own steps), so an ensemble keeps every member's
    scores and `kerasrnn.decoding.ctc_ensemble` combines them per sequence.
    The result is float32 whatever the members computed in.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: A list of tensors of one shape `(batch, timesteps, classes)`.

    Returns:
        `(batch, members, timesteps, classes)`.

    Example:

    >>> a, b = keras.ops.zeros((2, 3, 4)), keras.ops.ones((2, 3, 4))
    >>> tuple(MemberScores()([a, b]).shape)
    (2, 2, 3, 4)
    """

    def call(self, inputs):
        return ops.stack([ops.cast(x, "float32") for x in inputs], axis=1)

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        return (first[0], len(input_shape), *first[1:])

    def compute_output_spec(self, inputs):
        shape = tuple(inputs[0].shape)
        return keras.KerasTensor((shape[0], len(inputs), *shape[1:]), dtype="float32")

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="kerasrnn")
class CTCLoss(keras.losses.Loss):
    """CTC negative log-likelihood of padded targets under padded logits.

    `keras.ops.ctc_loss` needs each target's and each output's length,
    which Keras's `loss(y_true, y_pred)` contract does not carry. Here the
    target lengths are counted from the labels (padding is 0, `BLANK_ID`,
    never a label) and every output is taken at its full padded length,
    which is exact when the model's padded steps are certain blanks
    (`MaskedBlank`). The sum itself is `keras.ops.ctc_loss`.

    Args:
        reduction, name, dtype: As in `keras.losses.Loss`; the default
            reduction averages over the batch (nats per sequence).

    Call arguments:
        y_true: `(batch, labels)` int ids, padded with 0.
        y_pred: `(batch, steps, classes)` logits, class 0 the blank.

    A target that cannot be aligned (more labels, counting a blank between
    repeats, than steps) has an infinite loss; callers leave such examples
    out (see `ctc_alignable`).

    Example:

    >>> loss = CTCLoss()
    >>> float(loss(keras.ops.array([[1]]), keras.ops.zeros((1, 1, 2)))) > 0
    True

    Reference:
        Graves et al., "Connectionist temporal classification: labelling
        unsegmented sequence data with recurrent neural networks", 2006.
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        label_length = ops.sum(ops.cast(labels != BLANK_ID, "int32"), axis=-1)
        shape = ops.shape(y_pred)
        logit_length = ops.full((shape[0],), shape[1], dtype="int32")

        def loss():
            return ops.ctc_loss(
                labels, ops.cast(y_pred, "float32"), label_length, logit_length, mask_index=BLANK_ID
            )

        # The op fails on an empty batch, which a replica gets when a global
        # batch has fewer examples than there are replicas.
        empty = lambda: ops.zeros((0,), "float32")
        if isinstance(shape[0], int):
            return loss() if shape[0] else empty()
        return ops.cond(shape[0] > 0, loss, empty)
