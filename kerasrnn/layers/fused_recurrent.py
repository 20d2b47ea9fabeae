"""The base of the recurrent layers with a fused loop (LSTM, GRU)."""

import keras
from keras import ops

from kerasrnn.layers import _fused
from kerasrnn.layers.recurrent_base import RecurrentBase

IMPLEMENTATIONS = ("auto", "fused", "generic")


def shared_obstacles(layer):
    """Reasons, common to LSTM and GRU, that rule out the fused path."""
    cell = layer.cell
    checks = {
        "activation is not tanh": cell.activation is not keras.activations.tanh,
        "recurrent_activation is not sigmoid": (
            cell.recurrent_activation is not keras.activations.sigmoid
        ),
        "recurrent_dropout > 0": cell.recurrent_dropout,
        "unroll=True": layer.unroll,
        "the backend is not TensorFlow": keras.backend.backend() != "tensorflow",
    }
    return [reason for reason, present in checks.items() if present]


def fused_operands(layer, sequences, mask, training):
    """(sequences with input dropout, mask, kernel, recurrent kernel, bias) for a fused loop."""
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    cell = layer.cell
    if training and cell.dropout > 0:
        sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1)
    dtype = sequences.dtype
    kernel = ops.cast(cell.kernel, dtype)
    recurrent_kernel = ops.cast(cell.recurrent_kernel, dtype)
    bias = ops.cast(cell.bias, dtype) if cell.use_bias else None
    return sequences, mask, kernel, recurrent_kernel, bias


def check_implementation(implementation, reasons):
    """Validates `implementation` against why the fused path cannot run."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            f"Argument `implementation` must be one of {IMPLEMENTATIONS}. "
            f"Received: implementation={implementation!r}"
        )
    if implementation == "fused" and reasons:
        raise ValueError(
            "Argument `implementation='fused'` needs the plain variant, but "
            + "; ".join(reasons)
            + "."
        )


def try_cudnn(function, *args, **kwargs):
    """Runs Keras's cuDNN kernel; `None` where the device or options rule it out."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        return None


@keras.saving.register_keras_serializable(package="kerasrnn")
class FusedRecurrent(RecurrentBase):
    """A `RecurrentBase` that runs a fused loop, or cuDNN, where its options allow.

    The fused loop hoists the input projection out of the loop and has a
    hand-written gradient (`kerasrnn.layers._fused`); on a GPU with no mask,
    Keras's cuDNN kernel runs instead. Other options run the cell step by
    step, with the same results.

    A subclass sets `fused_loops`, the `(forward, trainable)` loops of
    `_fused`, and `cudnn_kernel`, Keras's cuDNN function of its type, and
    implements `own_obstacles()`, its options that rule the fused path out.

    Args:
        units: Positive integer, width of the state.
        implementation: `"auto"` (default) runs the fused loop where the
            options allow it; `"fused"` requires it; `"generic"` always runs
            the cell step by step.
        **kwargs: As for `RecurrentBase`.
    """

    fused_loops = None
    cudnn_kernel = None

    def __init__(self, units, implementation="auto", **kwargs):
        super().__init__(units, **kwargs)
        check_implementation(implementation, self._fused_obstacles())
        self.implementation = implementation

    def own_obstacles(self):
        return []

    def _fused_obstacles(self):
        return self.own_obstacles() + shared_obstacles(self)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.implementation == "generic" or self._fused_obstacles():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        sequences, mask, kernel, recurrent_kernel, bias = fused_operands(
            self, sequences, mask, training
        )
        if mask is None and not self.zero_output_for_mask:
            result = try_cudnn(
                self.cudnn_kernel,
                sequences,
                *initial_state,
                None,
                kernel=kernel,
                recurrent_kernel=recurrent_kernel,
                bias=bias,
                activation=self.cell.activation,
                recurrent_activation=self.cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
            )
            if result is not None:
                # cuDNN ops are not XLA compatible (as in keras.layers.LSTM).
                self.supports_jit = False
                return result
        forward, trainable = self.fused_loops
        run = trainable if _fused.wants_gradient(training) else forward
        return _fused.run_time_major(
            run, sequences, initial_state, kernel, recurrent_kernel, bias, mask,
            self.go_backwards, self.zero_output_for_mask,
        )

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}
