"""The devices training runs on: tf.distribute strategies, what training across
several workers needs, and the dtype policy the hardware computes fastest in."""

import functools
import os

import keras
import tensorflow as tf

from kerasrnn.errors import RecipeError


# CPU features with native bfloat16 arithmetic (Linux /proc/cpuinfo names).
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU's feature flags, or an empty set where the system does not list them."""
    try:
        with open(path, encoding="utf-8") as f:
            return {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return set()


def dtype_policy(precision, flags=None):
    """The Keras dtype policy of a recipe's `training.precision`.

    `auto` computes in bfloat16 (variables float32) where training runs on a
    CPU with native bfloat16 arithmetic, where it makes a recurrent step about
    1.6x faster; elsewhere (other CPUs, which would emulate it slowly, and
    GPUs) it is float32.
    """
    if precision != "auto":
        return precision
    if tf.config.list_physical_devices("GPU"):
        return "float32"
    flags = cpu_flags() if flags is None else flags
    return "mixed_bfloat16" if any(f in flags for f in BFLOAT16_CPU_FLAGS) else "float32"


def make_strategy(name):
    """The tf.distribute strategy a recipe's `training.strategy` names."""
    if name == "auto":
        if os.environ.get("TF_CONFIG"):
            name = "multi_worker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise RecipeError(
                ["training -> strategy: multi_worker needs TF_CONFIG set on every worker"]
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_distributed(strategy):
    """Whether the strategy splits each batch among several replicas."""
    return isinstance(
        strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)
    )


def spans_workers(strategy):
    """Whether the strategy spans several machines (more replicas than devices here)."""
    return is_distributed(strategy) and strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)


def fit_across_workers(model):
    """Avoids two steps of Keras's `fit` that fail when training spans workers.

    Keras builds a model that remembers its strategy from a first batch,
    which it averages across workers; tf.distribute cannot reduce a nested
    (inputs, labels, weights) batch, nor batches padded to different lengths
    (keras-team/keras#20329). Built and compiled already, the model takes its
    strategy from the scope it is fitted in instead. Keras also averages each
    step's logs over the workers along axis 0, which the scalar loss and
    metrics lack (tensorflow/tensorflow#72388): the steps give them that axis.
    """
    model._distribute_strategy = None
    model.train_step = functools.partial(_with_worker_axis, model.train_step)
    model.test_step = functools.partial(_with_worker_axis, model.test_step)


def _with_worker_axis(step, data):
    return {name: keras.ops.expand_dims(value, 0) for name, value in step(data).items()}


def train_data(builder, strategy, examples, vocabs, training, steps):
    """The epoch's training batches (`builder.epoch` fixes their order)."""
    if not is_distributed(strategy):
        ds = builder.dataset(examples, vocabs, training=True)
        return ds.repeat() if training["steps_per_epoch"] else ds
    replicas = strategy.num_replicas_in_sync
    if training["batch_size"] % replicas:
        raise RecipeError(
            [f"training -> batch_size: {training['batch_size']} does not divide among {replicas} replicas"]
        )
    # Global batches, split among the replicas by tf.distribute; a fixed count
    # per epoch, so no worker runs out of batches before the others.
    ds = builder.dataset(examples, vocabs, training=True).repeat().take(steps)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)
