"""The base of the recurrent layers with a fused loop (LSTM, GRU)."""

import functools

import keras
from keras import ops

from kerasrnn.layers import _fused
from kerasrnn.layers.recurrent_base import RecurrentBase

LOOPS = ("auto", "fused", "generic")
USE_CUDNN = ("auto", True, False)


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


def check_loop(loop, reasons):
    """Validates `loop` against why the fused path cannot run."""
    if loop not in LOOPS:
        raise ValueError(f"Argument `loop` must be one of {LOOPS}. Received: loop={loop!r}")
    if loop == "fused" and reasons:
        raise ValueError("Argument `loop='fused'` needs the plain variant, but " + "; ".join(reasons) + ".")


def check_use_cudnn(use_cudnn, reasons):
    """Validates `use_cudnn` against why cuDNN cannot run whatever the device."""
    if use_cudnn not in USE_CUDNN or not isinstance(use_cudnn, (str, bool)):
        raise ValueError(
            f"Argument `use_cudnn` must be one of {USE_CUDNN}. Received: use_cudnn={use_cudnn!r}"
        )
    if use_cudnn is True and reasons:
        raise ValueError("Argument `use_cudnn=True` cannot be honoured: " + "; ".join(reasons) + ".")


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
        loop: `"auto"` (default) runs the fused loop where the options allow
            it; `"fused"` requires it; `"generic"` always runs the cell step
            by step (and never cuDNN). Configs of kerasrnn 0.1, which named
            this `implementation`, still load.
        use_cudnn: As in `keras.layers.LSTM`: `"auto"` (default) runs cuDNN
            where it can (a GPU, no mask, no per-gate dropout); `True`
            requires it, and sends it the mask too, which must then be
            right-padded; `False` never runs it.
        **kwargs: As for `RecurrentBase`, with Keras's `implementation`.
    """

    fused_loops = None
    cudnn_kernel = None

    def __init__(self, units, loop="auto", use_cudnn="auto", **kwargs):
        if kwargs.get("implementation") in LOOPS:
            # kerasrnn 0.1 saved its loop choice as `implementation`.
            if loop != "auto":
                raise ValueError(
                    "Pass the loop choice once, as `loop`. "
                    f"Received: loop={loop!r}, implementation={kwargs['implementation']!r}"
                )
            loop = kwargs.pop("implementation")
        super().__init__(units, **kwargs)
        check_loop(loop, self._fused_obstacles())
        self.loop = loop
        check_use_cudnn(use_cudnn, self._cudnn_obstacles())
        # Not in the config, as in Keras: a model saved on a GPU loads anywhere.
        self.use_cudnn = use_cudnn

    def own_obstacles(self):
        return []

    def _fused_obstacles(self):
        return self.own_obstacles() + shared_obstacles(self)

    def _per_gate_dropout(self, training):
        return bool(training) and self.cell.dropout > 0 and self.cell.implementation == 1

    def _cudnn_obstacles(self, mask=None, training=False):
        """Reasons this call (by default: any call) cannot run cuDNN, whatever the device."""
        checks = {
            "loop='generic'": self.loop == "generic",
            "use_bias=False": not self.cell.use_bias,
            "use_cudnn='auto' leaves masked calls to the fused loop": (
                mask is not None and self.use_cudnn == "auto"
            ),
            "implementation=1 draws an input dropout mask per gate": self._per_gate_dropout(training),
        }
        return self._fused_obstacles() + [reason for reason, present in checks.items() if present]

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        reasons = self._cudnn_obstacles(mask, training) if self.use_cudnn else ["use_cudnn=False"]
        generic = self.loop == "generic" or self._fused_obstacles() or self._per_gate_dropout(training)
        if not generic:
            sequences, mask, kernel, recurrent_kernel, bias = fused_operands(
                self, sequences, mask, training
            )
        if not reasons:
            result = try_cudnn(
                self.cudnn_kernel,
                sequences,
                *initial_state,
                mask,
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
            reasons = ["no GPU with cuDNN is available"]
        if self.use_cudnn is True:
            raise ValueError(
                "use_cudnn=True, but cuDNN cannot run this call: " + "; ".join(reasons)
                + ". Pass use_cudnn='auto' to fall back to the other loops."
            )
        if generic:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        forward, trainable = self.fused_loops
        run = forward
        if _fused.wants_gradient(training):
            # XLA compiles once per shape: only a length fixed at trace time.
            run = functools.partial(trainable, compiled=sequences.shape[1] is not None)
        return _fused.run_time_major(
            run, sequences, initial_state, kernel, recurrent_kernel, bias, mask,
            self.go_backwards, self.zero_output_for_mask,
        )

    def get_config(self):
        return {**super().get_config(), "loop": self.loop}
