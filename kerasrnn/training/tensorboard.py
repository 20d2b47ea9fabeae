"""Epoch scalars written for TensorBoard."""

import os

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

# What `tf.summary.scalar` attaches, spelled out so that writing needs no
# TensorBoard installed, only viewing.
SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
    data_class=summary_pb2.DATA_CLASS_SCALAR,
).SerializeToString()


class TensorBoardLog:
    """Epoch scalars for TensorBoard in RUN/logs/train and RUN/logs/validation.

    Args:
        folder: the run's logs folder.
    """

    def __init__(self, folder):
        self.writers = {
            split: tf.summary.create_file_writer(os.path.join(folder, split))
            for split in ("train", "validation")
        }

    def write(self, row):
        """Writes one history row; `val_` columns go to validation."""
        for key, value in row.items():
            if key in ("epoch", "seconds"):
                continue
            split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            with self.writers[split].as_default():
                tf.summary.write(name, tf.constant(value, tf.float32), step=row["epoch"],
                                 metadata=SCALAR_METADATA)
        for writer in self.writers.values():
            writer.flush()
