"""Whether the probabilities mean what they say: calibration metrics, the reliability diagram's
bins, and temperature scaling (one number T > 0 that divides the logits, fitted on held-out faces).

The saved model's probabilities are the network's own ``q`` rescaled as ``softmax(log(q) / T)``;
``softmax(T * log(p))`` gives ``q`` back, so evaluate can score both from the calibrated output.
Plain numpy: predict and evaluate never import TensorFlow."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# equal-width confidence bins, as in Guo et al. (2017), "On calibration of modern neural networks"
BINS = 15
# probabilities are clipped to this before their log: a float32 softmax can round one to 0
FLOOR = 1e-30
# The temperatures searched. Below LOWEST, a float32 softmax rounds the probabilities of the other
# classes to 0, and the network's own could no longer be recovered from the calibrated ones; above
# HIGHEST, a model is broken rather than overconfident.
LOWEST, HIGHEST = 0.25, 10.0
DIGITS = 4  # significant digits of a fitted temperature
PLACES = 4  # decimals of the metrics written, as for the other metrics
GOLDEN = (math.sqrt(5) - 1) / 2


def _logits(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), FLOOR))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(p) / temperature)`` row by row, in float64: what the saved model's last layer
    does."""
    return np.exp(_log_softmax(_logits(probabilities) / temperature))


def uncalibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The network's own probabilities back from those calibrated with ``temperature``."""
    return tempered(probabilities, 1 / temperature)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The mean of -ln(probability given to the true class)."""
    return float(-_logits(probabilities)[np.arange(len(labels)), labels].mean())


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The mean over faces of the squared distance between the probabilities and the one-hot truth
    (summed over classes, Brier's multi-class form: 0 is perfect, 2 the worst)."""
    p = np.asarray(probabilities, dtype=np.float64)
    truth = np.eye(p.shape[1])[labels]
    return float(((p - truth) ** 2).sum(axis=1).mean())


@dataclass(frozen=True)
class Reliability:
    """Per confidence bin (``BINS`` equal widths, bin i holding top-label confidences in
    (i/BINS, (i+1)/BINS]): how many faces, their mean confidence and the share answered right (NaN
    where a bin is empty)."""

    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    COLUMNS = ("bin", "lower", "upper", "confidence", "accuracy", "count")

    def rows(self) -> list[tuple[int, float, float, float, float, int]]:
        """The filled bins as table rows: the bin's number from 1, its edges, its means, its
        faces."""
        bins = len(self.count)
        return [
            (
                int(i) + 1,
                round(i / bins, PLACES),
                round((i + 1) / bins, PLACES),
                round(float(self.confidence[i]), PLACES),
                round(float(self.accuracy[i]), PLACES),
                int(self.count[i]),
            )
            for i in np.flatnonzero(self.count)
        ]

    @property
    def expected_calibration_error(self) -> float:
        """The bins' |accuracy - confidence|, weighted by their share of the faces."""
        filled = self.count > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float((gaps * self.count[filled]).sum() / self.count.sum())


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> Reliability:
    p = np.asarray(probabilities, dtype=np.float64)
    confidence = p.max(axis=1)
    right = (p.argmax(axis=1) == labels).astype(np.float64)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(
        invalid="ignore", divide="ignore"
    ):  # an empty bin's means are NaN, as documented
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        accuracy = np.bincount(which, weights=right, minlength=bins) / count
    return Reliability(count, mean_confidence, accuracy)


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS
) -> float:
    """Top-label ECE over ``bins`` equal-width confidence bins."""
    return reliability(probabilities, labels, bins).expected_calibration_error


@dataclass(frozen=True)
class Fit:
    temperature: float
    nll_before: float
    nll_after: float

    @property
    def at_limit(self) -> bool:
        """Whether the best temperature is at an end of the range searched: the faces would have
        taken one further out (with every one of them right, the lower the better)."""
        return not LOWEST < self.temperature < HIGHEST


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> Fit:
    """The temperature that minimises the negative log-likelihood of ``labels``, found by a
    golden-section search on log T in [LOWEST, HIGHEST] (the likelihood is convex in 1/T, so it has
    one minimum there). Deterministic; rounded to ``DIGITS`` significant digits, which is as much as
    a few hundred faces can tell."""
    logits, rows = _logits(probabilities), np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(-_log_softmax(logits / math.exp(log_t))[rows, labels].mean())

    low, high = math.log(LOWEST), math.log(HIGHEST)
    left, right = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    nll_left, nll_right = nll(left), nll(right)
    while high - low > 1e-6:
        if nll_left <= nll_right:
            high, right, nll_right = right, left, nll_left
            left = high - GOLDEN * (high - low)
            nll_left = nll(left)
        else:
            low, left, nll_left = left, right, nll_right
            right = low + GOLDEN * (high - low)
            nll_right = nll(right)
    temperature = float(f"{math.exp((low + high) / 2):.{DIGITS}g}")
    return Fit(temperature, nll(0.0), nll(math.log(temperature)))


def _scores(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "ece": expected_calibration_error(probabilities, labels),
        "nll": negative_log_likelihood(probabilities, labels),
        "brier": brier_score(probabilities, labels),
    }


def summary(probabilities: np.ndarray, labels: np.ndarray, temperature: float) -> dict[str, float]:
    """ECE, NLL and Brier score of the model's network alone (``_before``) and of its calibrated
    output (``_after``, the ``probabilities`` given), flat so that ``dvc metrics show`` lists
    each."""
    before = _scores(uncalibrated(probabilities, temperature), labels)
    after = _scores(probabilities, labels)
    scores: dict[str, float] = {"temperature": temperature}
    for name in before:
        scores[f"{name}_before"], scores[f"{name}_after"] = (
            round(before[name], PLACES),
            round(after[name], PLACES),
        )
    return scores
