"""TF_CONFIG read for train.distribute: multi_worker: each mistake one line naming it; which
workers a lost collective names; Keras's fit mended only while inside."""

from __future__ import annotations

import json

import pytest
import tensorflow as tf
from keras.src.backend.tensorflow import trainer as keras_trainer

from emotions.errors import UserError
from emotions.training import workers
from emotions.training.workers import CONFIG, Cluster

TWO = {"cluster": {"worker": ["host1:2222", "host2:2222"]}}


def read(monkeypatch: pytest.MonkeyPatch, config: object) -> Cluster:
    monkeypatch.setenv(CONFIG, config if isinstance(config, str) else json.dumps(config))
    return workers.cluster()


def test_each_worker_finds_its_place_and_worker_0_is_the_chief(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = read(monkeypatch, {**TWO, "task": {"type": "worker", "index": 0}})
    second = read(monkeypatch, {**TWO, "task": {"type": "worker", "index": 1}})
    assert (first, first.chief) == (Cluster(0, 2), True)
    assert (second, second.chief) == (Cluster(1, 2), False)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", f"{CONFIG}: not JSON (Expecting property name enclosed in double quotes"),
        ({"task": {"type": "worker", "index": 0}}, f'{CONFIG}: "cluster" needs a "worker" list'),
        (
            {"cluster": {"worker": ["host1"]}, "task": {"type": "worker", "index": 0}},
            f'{CONFIG}: "cluster" needs a "worker" list of host:port addresses',
        ),
        (
            {"cluster": {**TWO["cluster"], "chief": ["host0:2222"]}, "task": {"type": "chief"}},
            f"{CONFIG}: only \"worker\" tasks are supported (worker 0 is the chief), got 'chief'",
        ),
        (
            {**TWO, "task": {"type": "worker", "index": 2}},
            f'{CONFIG}: "task" must be {{"type": "worker", "index": N}} with N from 0 to 1, got '
            '{"type": "worker", "index": 2}',
        ),
        ({**TWO}, f'{CONFIG}: "task" must be'),
    ],
)
def test_a_bad_tf_config_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, config: object, message: str
) -> None:
    with pytest.raises(UserError) as raised:
        read(monkeypatch, config)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_without_tf_config_the_error_shows_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG, raising=False)
    with pytest.raises(UserError, match=f"multi_worker needs the {CONFIG} environment variable"):
        workers.cluster()


@pytest.mark.parametrize("seconds", ["0", "-3", "soon"])
def test_a_bad_join_time_is_one_line(monkeypatch: pytest.MonkeyPatch, seconds: str) -> None:
    monkeypatch.setenv(CONFIG, json.dumps({**TWO, "task": {"type": "worker", "index": 0}}))
    monkeypatch.setenv(workers.JOIN_SECONDS, seconds)
    with pytest.raises(UserError, match=f"{workers.JOIN_SECONDS}: expected a number of seconds"):
        workers.strategy()


def test_a_lost_peer_is_named_and_keras_is_left_as_it_was() -> None:
    build = keras_trainer.TensorFlowTrainer._maybe_symbolic_build
    reduce = keras_trainer.reduce_per_replica
    lost = tf.errors.UnavailableError(
        None,
        None,
        "Collective ops is aborted by: Error reported from /job:worker/task:1: The following "
        "tasks are unhealthy: /job:worker/replica:0/task:1 [on /job:worker/replica:0/task:0]",
    )
    with pytest.raises(UserError) as raised, workers.mended_fit(Cluster(0, 2)):
        assert keras_trainer.reduce_per_replica is not reduce
        raise lost
    assert str(raised.value) == (
        f"train.distribute: worker 1 of {CONFIG} stopped answering, so worker 0 stops too "
        "(TensorFlow: UnavailableError)"
    )
    assert keras_trainer.TensorFlowTrainer._maybe_symbolic_build is build
    assert keras_trainer.reduce_per_replica is reduce


def test_workers_on_this_machine_read_back_as_their_places(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configs = workers.on_this_machine(3)
    assert [read(monkeypatch, config) for config in configs] == [Cluster(i, 3) for i in range(3)]
    addresses = json.loads(configs[0])["cluster"]["worker"]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
