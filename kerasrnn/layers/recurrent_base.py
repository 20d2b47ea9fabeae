"""Shared machinery of the kerasrnn recurrent layers."""

import functools
import inspect

import keras
from keras import ops

from kerasrnn.layers.recurrent_cell import _check_flags


@functools.lru_cache(maxsize=None)
def _cell_arg_names(cell_class):
    names = set()
    for klass in cell_class.__mro__:
        if "__init__" not in vars(klass):
            continue
        for name, param in inspect.signature(klass.__init__).parameters.items():
            if param.kind is param.POSITIONAL_OR_KEYWORD and name != "self":
                names.add(name)
    return frozenset(names)


def make_cell(cell_class, units, kwargs, name):
    """A layer's cell, given the cell's own arguments taken out of the layer's `kwargs`.

    The cell shares the layer's `dtype` and `trainable`; what is left in
    `kwargs` belongs to the layer.
    """
    cell_names = _cell_arg_names(cell_class) - {"units", "name", "dtype", "trainable"}
    cell_kwargs = {arg: kwargs.pop(arg) for arg in list(kwargs) if arg in cell_names}
    return cell_class(
        units,
        dtype=kwargs.get("dtype"),
        trainable=kwargs.get("trainable", True),
        name=name,
        **cell_kwargs,
    )


@keras.saving.register_keras_serializable(package="kerasrnn")
class RecurrentBase(keras.layers.RNN):
    """Base of the kerasrnn recurrent layers: a cell run over time.

    A subclass names its cell class in `cell_class`; the constructor builds
    the cell from the cell's own arguments and hands every other argument to
    `keras.layers.RNN`, which runs the loop, masking, `go_backwards`,
    `stateful`, `return_state` and `initial_state`. The cell's arguments are
    readable on the layer (`layer.units`), and `get_config()` is flat, as on
    Keras's own LSTM and GRU.

    Args:
        units: Positive integer, width of the state.
        return_sequences: Whether to return the output of every step.
            Default `False`.
        return_state: Whether to return the final states after the output.
            Default `False`.
        go_backwards: Whether to process the sequence in reverse; the
            returned sequence is then in reverse order too. Default `False`.
        stateful: Whether the final states of a batch are the initial states
            of the next one. Default `False`.
        unroll: Whether to unroll the loop (short sequences only).
            Default `False`.
        **kwargs: The cell's arguments, and base layer arguments (`name`,
            `dtype`, `zero_output_for_mask`, ...).

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: Optional list of initial state tensors.
        mask: Optional boolean tensor `(batch, timesteps)`; a masked step
            leaves the states unchanged and repeats the previous output, so
            right- and left-padded rows give the same final states as the
            rows alone.
        training: Whether dropout is active.
    """

    cell_class = None

    def __init__(
        self,
        units,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        if self.cell_class is None:
            raise TypeError(
                f"{type(self).__name__} is a base class with no cell: use a layer such as "
                "kerasrnn.layers.LSTM, or subclass it and set `cell_class`."
            )
        cell = make_cell(self.cell_class, units, kwargs, "cell")
        flags = dict(
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
        )
        _check_flags(**flags)
        super().__init__(cell, **flags, **kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if not keras.backend.is_float_dtype(sequences.dtype):
            # Integer steps meet float kernels, as in Keras's own layers.
            sequences = ops.cast(sequences, self.compute_dtype)
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def __getattr__(self, name):
        # Cell arguments read through the layer, as on keras.layers.LSTM.
        cell = self.__dict__.get("cell")
        if cell is not None and name in _cell_arg_names(type(cell)):
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for name in ("name", "dtype", "trainable"):
            cell_config.pop(name, None)
        config["activity_regularizer"] = keras.regularizers.serialize(self.activity_regularizer)
        return {**config, **cell_config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
