"""The functions an export traces: `encode` and `step`, or `logits`.

Sequence generators (`builder.EXPORT == "generate"`) export
`encode(tokens) -> states` and `step(token, states) -> (logits, states)`, so
decoding runs token by token on the host (`kerasrnn.decoding`); the others
export `logits(inputs)`. What `encode` reads is the builder's to say
(`builder.first_states`).
"""

import tensorflow as tf

from kerasrnn.builders.graph import flat, keras_call, state_sizes
from kerasrnn.export.lstm_rewrite import lite_call


def state_names(models):
    """The names of a step model's state inputs and outputs, in order."""
    return [f"state_{i}" for i in range(len(models[1].inputs) - 1)]


def input_names(model):
    return [t.name.split(":")[0] for t in model.inputs]


def functions(builder, models, batch, lite, fused_lstm=False):
    """The signature functions `{name: (python function, input specs)}`.

    Args:
        batch: the fixed batch of a TFLite model, or None for any.
        lite: trace the recurrent layers in their TFLite form (`lite_call`).
        fused_lstm: with `lite`, plain LSTMs as TFLite's fused op (int8).
    """
    call = (lambda m, x: lite_call(m, x, fused_lstm)) if lite else keras_call
    if builder.EXPORT == "generate":
        _, step = models
        names, sizes = state_names(models), state_sizes(step)

        def encode(tokens):
            states = builder.first_states(models, tokens, call)
            return {n: tf.cast(s, tf.float32) for n, s in zip(names, states)}

        def step_fn(token, *states):
            out = flat(call(step, [token[:, None], *states]))
            return {"logits": tf.cast(out[0], tf.float32),
                    **{n: tf.cast(s, tf.float32) for n, s in zip(names, out[1:])}}

        return {
            "encode": (encode, [tf.TensorSpec([batch, builder.ENCODE_LENGTH], tf.int32, "tokens")]),
            "step": (step_fn, [tf.TensorSpec([batch], tf.int32, "token")]
                     + [tf.TensorSpec([batch, n], tf.float32, name) for name, n in zip(names, sizes)]),
        }
    (model,) = models
    names = input_names(model)

    def logits(*inputs):
        out = call(model, list(inputs) if lite else dict(zip(names, inputs)))
        return {"logits": tf.cast(out, tf.float32)}

    # Token ids (batch, length) or (batch, 1); a one_to_one vector (batch, width).
    specs = [tf.TensorSpec([batch, *t.shape[1:]], t.dtype, n) for t, n in zip(model.inputs, names)]
    return {"logits": (logits, specs)}
