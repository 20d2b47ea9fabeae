"""In-graph pieces the builders' serving functions share: decoding loops and text output.

A SavedModel's `serving_default` takes raw strings and answers in text, so
its decoding runs inside the TensorFlow graph rather than on the host.
"""

import tensorflow as tf

from kerasrnn.data.vocab import BOS_ID, EOS_ID


def flat(outputs):
    """A model's outputs as a list (a single tensor becomes a list of one)."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def keras_call(model, inputs):
    """Calls a Keras model for inference (the signature functions' default `call`)."""
    return model(inputs, training=False)


def greedy_graph(step, states, logits, eos, max_length):
    """In-graph greedy decoding from the logits of the first token: ids [batch, steps].

    Args:
        step: a Keras model `[token [batch, 1], *states] -> [logits, *states]`.
        states: the states after the first token.
        logits: the first token's logits [batch, vocab].
        eos: the stop token (-1 for none: run to `max_length`).
        max_length: the most tokens to generate.
    """
    batch = tf.shape(logits)[0]
    done = tf.zeros([batch], tf.bool)
    ids = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])

    def cond(t, logits, done, ids, *states):
        return tf.logical_and(t < max_length, tf.logical_not(tf.reduce_all(done)))

    def body(t, logits, done, ids, *states):
        tokens = tf.where(done, eos, tf.argmax(logits, -1, output_type=tf.int32))
        done = tf.logical_or(done, tokens == eos)
        out = flat(step([tokens[:, None], *states], training=False))
        return (t + 1, tf.cast(out[0], tf.float32), done, ids.write(t, tokens), *out[1:])

    _, _, _, ids, *_ = tf.while_loop(cond, body, (0, logits, done, ids, *states))
    return tf.reshape(tf.transpose(ids.stack(), [1, 0]), [batch, -1])


def ids_to_text(ids, vocab, tokenizer, stream=False):
    """Ids [batch, steps] -> display strings, specials but <unk> dropped (as `Vocabulary.decode`).

    Text ends at the first <eos>; in a stream model <eos> is a line break.
    """
    tokens = list(vocab.tokens)
    keep = (ids >= vocab.specials) | (ids == vocab.unk_id)
    if stream:
        tokens[EOS_ID] = "\n"
        keep |= ids == EOS_ID
    else:
        keep &= tf.cumsum(tf.cast(ids == EOS_ID, tf.int32), axis=1) == 0
    pieces = tf.ragged.boolean_mask(tf.gather(tf.constant(tokens), ids), keep)
    text = tf.strings.reduce_join(pieces, axis=1, separator="" if tokenizer.kind == "char" else " ")
    if tokenizer.kind != "char":
        text = tf.strings.regex_replace(text, " ?\n ?", "\n")
    if tokenizer.kind == "subword":
        text = tf.strings.regex_replace(text, " ##", "")
    return text


def text_signature(name="text"):
    """The input signature of a serving function over a batch of raw strings."""
    return [tf.TensorSpec([None], tf.string, name)]


def state_sizes(step):
    """The sizes of the states a step model carries (its inputs after the token)."""
    return [int(t.shape[-1]) for t in step.inputs[1:]]


def first_step(step, states):
    """The step from <bos>: (logits [batch, vocab] in float32, the states after it)."""
    bos = tf.fill([tf.shape(states[0])[0], 1], BOS_ID)
    out = flat(step([bos, *states], training=False))
    return tf.cast(out[0], tf.float32), out[1:]
