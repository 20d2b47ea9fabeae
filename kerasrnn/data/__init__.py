"""Readers, tokenizers, vocabularies, splits, the tf.data pipeline and the dataset catalog."""
