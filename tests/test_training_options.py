"""Each training option changes what training does: a run with one option set against the same run
without it, both seeded, so any difference comes from the option."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from emotions.data import splitting
from emotions.data.store import Prepared
from tests.conftest import CLASSES, make_dataset, prepare_source, tiny_training, train_model

pytestmark = pytest.mark.slow  # trains networks: `pytest -m 'not slow'` skips it

RATE = 0.01  # TINY_PARAMS' train.learning_rate


@dataclasses.dataclass
class Run:
    weights: list[np.ndarray]
    rates: list[float]  # the optimizer's learning rate at the end of each epoch
    first_batch: tuple[np.ndarray, np.ndarray, np.ndarray]  # images, targets, per-face weights
    losses: list[float]  # the training loss of each epoch


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Train with some options changed and record what training did."""
    import keras

    from emotions.training import fit as training

    first_batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    class Recording(training.Batches):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            first_batches.append(
                self.batch(self.first_epoch, 0)
            )  # a function of seed, epoch and index: reading changes nothing

    class Rates(keras.callbacks.Callback):
        def __init__(self, rates: list[float]) -> None:
            super().__init__()
            self.rates = rates

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    rates: list[float] = []
    callbacks = training._callbacks
    monkeypatch.setattr(training, "Batches", Recording)
    monkeypatch.setattr(
        training, "_callbacks", lambda *args, **kwargs: [*callbacks(*args, **kwargs), Rates(rates)]
    )

    def train(
        prepared: Prepared, split: dict[str, np.ndarray], epochs: int = 2, **changes: object
    ) -> Run:
        first_batches.clear()
        rates.clear()
        live = tmp_path / f"live{len(list(tmp_path.iterdir()))}"
        model = train_model(
            prepared, split, *tiny_training(**{"train.epochs": epochs, **changes}), live
        )
        rows = (live / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()[1:]
        return Run(
            model.get_weights(),
            list(rates),
            first_batches[0],
            [float(row.split("\t")[-1]) for row in rows],
        )

    return train


@pytest.fixture
def uneven(tmp_path: Path) -> tuple[Prepared, dict[str, np.ndarray]]:
    """Tiny shapes, twice as many of the first class as of the others: class weights are not all
    1."""
    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=12)).prepared
    keep = (prepared.labels == 0) | (np.arange(len(prepared.labels)) % 2 == 0)
    prepared = dataclasses.replace(
        prepared,
        faces=prepared.faces.subset(np.flatnonzero(keep)),
        labels=prepared.labels[keep],
        roles=prepared.roles[keep],
    )
    return prepared, splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)


def differs(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_options_on_ordinary_data(run, uneven) -> None:
    plain = run(*uneven)
    assert plain.rates == [pytest.approx(RATE)] * 2  # constant
    assert np.array_equal(plain.first_batch[2], np.ones(8, np.float32))

    augmented = run(*uneven, **{"train.augment": True})
    assert np.array_equal(augmented.first_batch[1], plain.first_batch[1])  # the same faces ...
    assert not np.allclose(augmented.first_batch[0], plain.first_batch[0])  # ... transformed
    assert differs(augmented.weights, plain.weights)

    weighted = run(*uneven, **{"train.class_weights": True})
    counts = np.bincount(uneven[0].labels[uneven[1]["train"]], minlength=3)
    expected = counts.sum() / (3 * counts)  # a face of the common class counts less
    np.testing.assert_allclose(
        weighted.first_batch[2], expected[weighted.first_batch[1]], rtol=1e-6
    )
    assert differs(weighted.weights, plain.weights)

    cosine = run(*uneven, epochs=3, **{"train.lr_schedule": "cosine"})
    assert (
        cosine.rates[0] < RATE
        and cosine.rates == sorted(cosine.rates, reverse=True)
        and cosine.rates[-1] < 1e-6
    )

    smoothed = run(*uneven, **{"train.label_smoothing": 0.3})
    assert smoothed.losses[-1] > plain.losses[-1]  # smoothed targets cannot be met as closely
    assert differs(smoothed.weights, plain.weights)

    decayed = run(*uneven, **{"train.weight_decay": 5.0})
    kernels = [i for i, w in enumerate(plain.weights) if w.ndim > 1]
    assert sum(np.sum(decayed.weights[i] ** 2) for i in kernels) < 0.9 * sum(
        np.sum(plain.weights[i] ** 2) for i in kernels
    )


def test_plateau_and_early_stopping_act_when_validation_stalls(run, uneven) -> None:
    """Validation on the training faces with wrong labels: the better training goes, the worse
    validation gets, so it stalls from the first epoch."""
    prepared, split = uneven
    train = split["train"]
    n = len(prepared.labels)
    stalled = dataclasses.replace(
        prepared,
        faces=prepared.faces.subset(np.concatenate([np.arange(n), train])),
        labels=np.concatenate([prepared.labels, (prepared.labels[train] + 1) % 3]),
        roles=np.concatenate([prepared.roles, prepared.roles[train]]),
    )
    split = {"train": train, "val": np.arange(n, n + len(train)), "test": split["test"]}
    plateau = run(stalled, split, epochs=5, **{"train.lr_schedule": "plateau"})
    assert plateau.rates == [
        pytest.approx(r) for r in (RATE, RATE, RATE, RATE / 2, RATE / 2)
    ]  # halved after 3 stalled epochs
    stopped = run(stalled, split, epochs=5, **{"train.early_stopping": 1})
    assert len(stopped.losses) < 5
