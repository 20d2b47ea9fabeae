"""The log of several models' mean probabilities: an ensemble's scores."""

import keras


@keras.saving.register_keras_serializable(package="kerasrnn")
class MeanProbabilities(keras.layers.Layer):
    """Averages the softmax of several logits tensors and returns its log.

    An ensemble of classifiers of the same classes scores each class by the
    mean of the members' probabilities. The result is a log-probability, so
    it serves wherever logits do: a softmax of it gives the mean
    probabilities back, and CTC decoding or loss reads it as the members'
    logits. It is computed in float32 whatever the layer's policy.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: A list of logits tensors of one shape, classes last.

    Example:

    >>> a = np.log([[0.9, 0.1]]); b = np.log([[0.5, 0.5]])
    >>> np.exp(keras.ops.convert_to_numpy(MeanProbabilities()([a, b]))).round(2).tolist()
    [[0.7, 0.3]]
    """

    def call(self, inputs):
        logs = [keras.ops.log_softmax(keras.ops.cast(x, "float32"), axis=-1) for x in inputs]
        stacked = keras.ops.stack(logs, axis=0)
        return keras.ops.logsumexp(stacked, axis=0) - keras.ops.log(float(len(inputs)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs[0].shape, dtype="float32")
