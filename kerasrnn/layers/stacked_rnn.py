"""Deep recurrent network: several recurrent layers, one on top of the other."""

import copy

import keras
from keras import ops

from kerasrnn.layers.recurrent_cell import _check_flags, _check_rate, _check_units
from kerasrnn.layers.registry import CELLS


@keras.saving.register_keras_serializable(package="kerasrnn")
class StackedRNN(keras.layers.Layer):
    """Several recurrent layers of one cell type, with optional residuals.

    Layer `k` reads the output sequence of layer `k - 1`. With
    `residual=True`, every layer after the first adds its input to its
    output; where the widths differ, the input goes through a bias-free
    `Dense` projection first. Dropout between layers applies to the
    sequence passed up, never to the last layer's output.

    Args:
        cell: Name of the recurrent cell, a key of `kerasrnn.layers.CELLS`
            (`"lstm"`, `"gru"`, ...).
        units: Positive integer (every layer) or list of positive integers
            (one per layer).
        num_layers: Number of layers when `units` is an integer. Default `2`.
        residual: Whether layers after the first add their (projected)
            input to their output. Default `False`.
        inter_layer_dropout: Float in [0, 1), dropout rate between layers.
            Default `0.0`.
        return_sequences: Whether to return the last layer's output at every
            step. Default `False`.
        return_state: Whether to also return the final states of every
            layer, flattened in layer order. Default `False`.
        go_backwards: Whether to process the sequence in reverse; the first
            layer reverses it and the layers above follow its order, so the
            returned sequence is reversed, as for a single layer.
            Default `False`.
        stateful: Whether every layer is stateful. Default `False`.
        layer_kwargs: Optional dict of arguments for every recurrent layer
            (`dropout`, `recurrent_dropout`, initializers, ...).
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: Optional flat list of the states of every layer.
        mask: Optional boolean `(batch, timesteps)`, passed to every layer;
            masked steps keep each layer's states.
        training: Whether dropout is active.

    Example:

    >>> layer = StackedRNN("gru", [8, 4], residual=True, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)

    Reference:
        Wu et al., "Google's Neural Machine Translation System", 2016
        (residual connections between recurrent layers).
    """

    def __init__(
        self,
        cell,
        units,
        num_layers=2,
        residual=False,
        inter_layer_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        layer_kwargs=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(
                f"Argument `cell` must be one of {sorted(CELLS)}. Received: cell={cell!r}"
            )
        _check_units("num_layers", num_layers)
        widths = [units] * num_layers if isinstance(units, int) else list(units)
        if not widths:
            raise ValueError(f"Argument `units` must not be empty. Received: units={units!r}")
        for width in widths:
            _check_units("units", width)
        _check_rate("inter_layer_dropout", inter_layer_dropout)
        _check_flags(
            residual=residual,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
        )
        self.cell = cell
        self.units = units
        self.num_layers = len(widths)
        self.residual = residual
        self.inter_layer_dropout = float(inter_layer_dropout)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.layer_kwargs = dict(layer_kwargs or {})
        self.widths = widths
        self.recurrent_layers = [
            CELLS[cell](
                width,
                return_sequences=True,
                return_state=True,
                go_backwards=go_backwards and index == 0,
                stateful=stateful,
                dtype=self.dtype_policy,
                name=f"layer_{index}",
                **self.layer_kwargs,
            )
            for index, width in enumerate(widths)
        ]
        self.dropout_layer = keras.layers.Dropout(self.inter_layer_dropout)
        self.projections = {}
        self.supports_masking = True

    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        for index, layer in enumerate(self.recurrent_layers):
            layer.build(shape)
            width = self.widths[index]
            if self.residual and index > 0 and shape[-1] != width:
                projection = keras.layers.Dense(
                    width, use_bias=False, dtype=self.dtype_policy, name=f"projection_{index}"
                )
                projection.build(shape)
                self.projections[str(index)] = projection
            shape = (*shape[:-1], width)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        states = []
        offset = 0
        x = sequences
        for index, layer in enumerate(self.recurrent_layers):
            layer_initial = None
            count = len(layer.cell.state_size) if isinstance(layer.cell.state_size, (list, tuple)) else 1
            if initial_state is not None:
                layer_initial = list(initial_state[offset : offset + count])
            offset += count
            if index > 0:
                x = self.dropout_layer(x, training=training)
            output, *layer_states = layer(x, initial_state=layer_initial, mask=mask, training=training)
            if self.residual and index > 0:
                projection = self.projections.get(str(index))
                output = output + (projection(x) if projection else x)
            if index == 0 and self.go_backwards and mask is not None:
                # Layers above read the first layer's reversed sequence.
                mask = ops.flip(mask, axis=1)
            states.extend(layer_states)
            x = output
        output = x if self.return_sequences else x[:, -1]
        if self.return_state:
            return [output, *states]
        return output

    def compute_mask(self, sequences, mask=None):
        if not self.return_sequences or mask is None:
            return None if not self.return_state else [None] * (1 + self._state_count())
        if self.go_backwards:
            mask = ops.flip(mask, axis=1)
        return [mask] + [None] * self._state_count() if self.return_state else mask

    def _state_count(self):
        sizes = [layer.cell.state_size for layer in self.recurrent_layers]
        return sum(len(s) if isinstance(s, (list, tuple)) else 1 for s in sizes)

    def reset_state(self):
        for layer in self.recurrent_layers:
            layer.reset_state()

    def get_config(self):
        config = {
            "cell": self.cell,
            "units": self.units,
            "num_layers": self.num_layers,
            "residual": self.residual,
            "inter_layer_dropout": self.inter_layer_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "layer_kwargs": copy.deepcopy(self.layer_kwargs),
        }
        return {**super().get_config(), **config}
