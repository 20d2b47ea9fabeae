"""Word dropout: real tokens replaced by <unk> in training."""

import keras

UNK_ID = 1


@keras.saving.register_keras_serializable(package="kerasrnn")
class TokenDropout(keras.layers.Layer):
    """In training, replaces each real token id by <unk> (id 1) with probability `rate`.

    When every training word is in the vocabulary, the <unk> embedding never
    trains, yet every word the test data adds is read through it. Dropping
    words to <unk> now and then trains it on the contexts unknown words come
    in. Padding (id 0) and <unk> itself are left as they are; outside
    training the ids pass unchanged.

    Args:
        rate: Float in [0, 1], the probability of dropping a real token.
        seed: Optional integer seed of the draws.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        ids: Integer token ids of any shape.
        training: Whether to drop tokens.

    The layer makes no mask; padding stays id 0, so an embedding after it
    with `mask_zero=True` masks the same steps.

    Example:

    >>> layer = TokenDropout(1.0, seed=0)
    >>> keras.ops.convert_to_numpy(layer(np.array([[0, 1, 5, 7]]), training=True)).tolist()
    [[0, 1, 1, 1]]

    Reference:
        Lample et al., "Neural Architectures for Named Entity Recognition",
        2016 (singletons dropped to <unk>; here every word alike).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, ids, training=None):
        if not training or not self.rate:
            return ids
        drop = keras.random.uniform(keras.ops.shape(ids), seed=self.seed_generator) < self.rate
        return keras.ops.where(drop & (ids > UNK_ID), keras.ops.ones_like(ids), ids)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
