"""Bidirectional wrapper of recurrent layers."""

import keras

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_NEEDED = ("go_backwards", "return_sequences", "return_state", "stateful")


@keras.saving.register_keras_serializable(package="kerasrnn")
class Bidirectional(keras.layers.Bidirectional):
    """Runs a recurrent layer forwards and a copy of it backwards, then merges.

    Wraps any kerasrnn recurrent layer and Keras's own (`keras.layers.LSTM`,
    ...), or any layer with their `go_backwards`, `return_sequences`,
    `return_state` and `stateful` and a config. The backward copy is built from the layer's config with
    `go_backwards` flipped (or is `backward_layer`); its outputs are put
    back in forward time order before merging.

    Args:
        layer: The recurrent layer to run forwards.
        merge_mode: How outputs are combined: `"concat"` (default), `"sum"`,
            `"mul"`, `"ave"`, or `None` for a list `[forward, backward]`.
        weights: Optional initial weights.
        backward_layer: Optional layer to run backwards instead of a copy.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: Optional list, the forward layer's states then the
            backward layer's.
        mask: Optional boolean `(batch, timesteps)`, passed to both layers.
        training: Whether dropout is active.

    With `return_state=True` on the wrapped layer, the call returns the
    merged output followed by the forward states, then the backward states.

    Example:

    >>> from kerasrnn.layers import LSTM
    >>> layer = Bidirectional(LSTM(4, return_sequences=True))
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 8)

    Reference:
        Schuster and Paliwal, "Bidirectional recurrent neural networks", 1997.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Argument `merge_mode` must be one of {_MERGE_MODES}. "
                f"Received: merge_mode={merge_mode!r}"
            )
        # What Keras's Bidirectional reads from the layer it copies backwards.
        missing = [name for name in _NEEDED if not hasattr(layer, name)]
        if not isinstance(layer, keras.layers.Layer) or missing:
            raise ValueError(
                "Argument `layer` must be a recurrent layer: a Keras layer with "
                f"{', '.join(_NEEDED)}. Received: layer={layer!r}"
                + (f", which has no {', '.join(missing)}" if missing else "")
            )
        super().__init__(
            layer, merge_mode=merge_mode, weights=weights, backward_layer=backward_layer, **kwargs
        )
