"""Where training runs: on one device, mirrored over every local device with tf.distribute (each
GPU, or logical parts of the CPU), or over several workers; the global batch unchanged at
``train.batch_size``."""

from __future__ import annotations

import os

import tensorflow as tf

from emotions.errors import UserError
from emotions.training import workers

# Split the CPU into this many logical devices for ``mirrored`` on a machine without GPUs: how the
# tests try two replicas here, and how a user tries the strategy before renting GPUs.
CPU_REPLICAS = "EMOTIONS_CPU_REPLICAS"


def strategy(mode: str) -> tf.distribute.Strategy:
    """``train.distribute``'s strategy: ``none`` one device; ``mirrored`` every local GPU, or
    without GPUs the CPU (in ``CPU_REPLICAS`` logical parts); ``auto`` mirrored where there are
    two GPUs or more; ``multi_worker`` every worker of ``TF_CONFIG``, each with its local GPUs.
    Called before TensorFlow first runs anything, so the CPU can still be split."""
    if mode == "multi_worker":
        return workers.strategy()
    gpus = tf.config.list_physical_devices("GPU")
    if mode == "none" or (mode == "auto" and len(gpus) < 2):
        return tf.distribute.get_strategy()
    if gpus:
        return tf.distribute.MirroredStrategy()
    text = os.environ.get(CPU_REPLICAS, "1")
    if not text.isdigit() or int(text) < 1:
        raise UserError(
            f"{CPU_REPLICAS}: expected a whole number of CPU devices >= 1, got {text!r}"
        )
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * int(text)
    )
    return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
