"""Training across processes or machines (``train.distribute: multi_worker``): the cluster read
from ``TF_CONFIG``, a bounded wait for the other workers, and the two places where Keras 3.15's
``fit`` fails under ``tf.distribute.MultiWorkerMirroredStrategy`` (keras-team/keras#20585) mended
for the length of one fit."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import tensorflow as tf
from keras.src import tree
from keras.src.backend.tensorflow import trainer as keras_trainer

from emotions.errors import UserError, error_line

CONFIG = "TF_CONFIG"
# Seconds a worker waits for the others to start before it gives up with one error line: long
# enough to start the other machines by hand.
JOIN_SECONDS = "EMOTIONS_JOIN_SECONDS"
DEFAULT_JOIN_SECONDS = 600
# Errors of a collective whose peer is gone: raised on the survivors within seconds of a worker's
# death (its connection drops, or its heartbeats stop).
LOST = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError)


@dataclass(frozen=True)
class Cluster:
    """This process's place in the cluster ``TF_CONFIG`` describes."""

    index: int
    workers: int

    @property
    def chief(self) -> bool:
        """Worker 0 writes the model, dvclive and the logs; the others only train."""
        return self.index == 0


def cluster() -> Cluster:
    """``TF_CONFIG``'s cluster, checked: a ``worker`` list of host:port addresses and this task's
    index in it (the cluster spec TensorFlow documents, without a separate chief task)."""
    text = os.environ.get(CONFIG)
    if not text:
        raise UserError(
            f"train.distribute: multi_worker needs the {CONFIG} environment variable, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(f"{CONFIG}: not JSON ({err.msg} at character {err.pos})") from None
    workers = config.get("cluster", {}).get("worker") if isinstance(config, dict) else None
    if (
        not isinstance(workers, list)
        or not workers
        or not all(isinstance(w, str) and w.rpartition(":")[2].isdigit() for w in workers)
    ):
        raise UserError(f'{CONFIG}: "cluster" needs a "worker" list of host:port addresses')
    extra = sorted(set(config["cluster"]) - {"worker"})
    if extra:
        raise UserError(
            f'{CONFIG}: only "worker" tasks are supported (worker 0 is the chief), got '
            f"{', '.join(map(repr, extra))}"
        )
    task = config.get("task")
    index = task.get("index") if isinstance(task, dict) else None
    if (
        not isinstance(task, dict)
        or task.get("type") != "worker"
        or not isinstance(index, int)
        or not 0 <= index < len(workers)
    ):
        raise UserError(
            f'{CONFIG}: "task" must be {{"type": "worker", "index": N}} with N from 0 to '
            f"{len(workers) - 1}, got {json.dumps(task)}"
        )
    return Cluster(index, len(workers))


def on_this_machine(count: int) -> list[str]:
    """``TF_CONFIG`` for each of ``count`` workers on 127.0.0.1, on ports free now: how the tests
    and bench/distribute.py run several workers on one machine."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    addresses = [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    for sock in sockets:
        sock.close()
    return [
        json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})
        for index in range(count)
    ]


def _join_seconds() -> float:
    text = os.environ.get(JOIN_SECONDS, str(DEFAULT_JOIN_SECONDS))
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise UserError(f"{JOIN_SECONDS}: expected a number of seconds > 0, got {text!r}")
    return seconds


# Run beside a worker while it joins: TensorFlow waits for the others inside one call that holds
# the interpreter, so no thread or signal handler of the worker itself can end the wait.
WATCHDOG = """import os, signal, sys, time
time.sleep(float(sys.argv[2]))
sys.stderr.write(sys.argv[3] + "\\n")
sys.stderr.flush()
os.kill(int(sys.argv[1]), signal.SIGKILL)
"""


def strategy() -> tf.distribute.MultiWorkerMirroredStrategy:
    """The multi-worker strategy, once every worker of ``TF_CONFIG`` has joined. TensorFlow waits
    for them without end; here a worker still alone after ``JOIN_SECONDS`` is stopped, with one
    error line, by a watchdog process."""
    place, seconds = cluster(), _join_seconds()
    line = error_line(
        f"train.distribute: worker {place.index} of {place.workers} waited {seconds:g} s for "
        f"the other workers of {CONFIG} to start ({JOIN_SECONDS} sets how long)"
    )
    watchdog = subprocess.Popen(
        [sys.executable, "-c", WATCHDOG, str(os.getpid()), str(seconds), line],
        stdin=subprocess.DEVNULL,
    )
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    finally:
        watchdog.kill()
        watchdog.wait()


def _first_replicas_batch(self, iterator=None, data_batch=None):
    """Keras's ``_maybe_symbolic_build`` with the first batch taken from this worker's first
    replica: Keras averages it over the replicas with ``strategy.reduce``, which the multi-worker
    strategy cannot do eagerly; the build needs only its shapes."""
    if self._distribute_strategy is None:
        return
    if iterator is not None:
        for _, _, batches in iterator:
            data_batch = tree.map_structure(
                lambda part: (
                    self.distribute_strategy.experimental_local_results(part)[0]
                    if isinstance(part, tf.distribute.DistributedValues)
                    else part
                ),
                next(batches),
            )
            break
    with self.distribute_strategy.scope():
        self._symbolic_build(data_batch=data_batch)


def _scalar_safe(reduce):
    """Keras's ``reduce_per_replica``, whose multi-worker mean reduces along axis 0, which a
    scalar (every loss and metric) lacks."""

    def reduced(values, strategy, reduction):
        if keras_trainer._collective_all_reduce_multi_worker(strategy) and reduction in (
            "auto",
            "mean",
        ):
            return tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None if v.shape.rank == 0 else 0),
                values,
            )
        return reduce(values, strategy, reduction)

    return reduced


def _lost(err: tf.errors.OpError, place: Cluster) -> str:
    """Which workers TensorFlow's error names, this one left out."""
    named = {int(n) for n in re.findall(r"/job:worker/(?:replica:\d+/)?task:(\d+)", str(err))}
    others = sorted(named - {place.index})
    return ", ".join(map(str, others)) if others else "?"


@contextmanager
def mended_fit(place: Cluster) -> Iterator[None]:
    """Keras's ``fit`` made to work under the multi-worker strategy while inside; an error of a
    lost peer becomes one line."""
    trainer = keras_trainer.TensorFlowTrainer
    build, reduce = trainer._maybe_symbolic_build, keras_trainer.reduce_per_replica
    trainer._maybe_symbolic_build = _first_replicas_batch
    keras_trainer.reduce_per_replica = _scalar_safe(reduce)
    try:
        yield
    except LOST as err:
        raise UserError(
            f"train.distribute: worker {_lost(err, place)} of {CONFIG} stopped answering, so "
            f"worker {place.index} stops too (TensorFlow: {type(err).__name__})"
        ) from None
    finally:
        trainer._maybe_symbolic_build = build
        keras_trainer.reduce_per_replica = reduce
