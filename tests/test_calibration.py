"""Calibration metrics on hand-made probabilities, and temperature fitting on synthetic logits."""

from __future__ import annotations

import numpy as np
import pytest

from emotions.saved import calibration
from emotions.saved.calibration import (
    brier_score,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
    summary,
    tempered,
    uncalibrated,
)

# Four faces, three classes. Top-label confidences 0.7 (right), 0.7 (wrong), 0.85 (right), 0.5
# (right):
# bins (10/15, 11/15], (12/15, 13/15] and (7/15, 8/15].
PROBABILITIES = np.array([[0.7, 0.2, 0.1], [0.7, 0.1, 0.2], [0.1, 0.85, 0.05], [0.25, 0.25, 0.5]])
LABELS = np.array([0, 2, 1, 2])


def test_expected_calibration_error_by_hand() -> None:
    # bin of 0.7: 2 faces, confidence 0.7, accuracy 0.5; bin of 0.85: 1 face, 0.85 against 1; bin of
    # 0.5: 0.5 against 1
    expected = 2 / 4 * 0.2 + 1 / 4 * 0.15 + 1 / 4 * 0.5
    assert expected_calibration_error(PROBABILITIES, LABELS) == pytest.approx(expected)
    bins = reliability(PROBABILITIES, LABELS)
    assert np.flatnonzero(bins.count).tolist() == [7, 10, 12] and bins.count.sum() == 4
    np.testing.assert_allclose(bins.confidence[[7, 10, 12]], [0.5, 0.7, 0.85])
    np.testing.assert_allclose(bins.accuracy[[7, 10, 12]], [1.0, 0.5, 1.0])
    assert np.isnan(bins.accuracy[0]) and np.isnan(bins.confidence[14])  # empty bins have no means


def test_a_calibrated_set_has_no_calibration_error() -> None:
    """Ten faces given 0.8 for their top class, eight of them right: exactly what 0.8 promises."""
    probabilities = np.tile([0.8, 0.15, 0.05], (10, 1))
    labels = np.array([0] * 8 + [1, 2])
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0)
    assert expected_calibration_error(probabilities, np.zeros(10, int)) == pytest.approx(
        0.2
    )  # all right: underconfident


def test_negative_log_likelihood_by_hand() -> None:
    expected = -(np.log(0.7) + np.log(0.2) + np.log(0.85) + np.log(0.5)) / 4
    assert negative_log_likelihood(PROBABILITIES, LABELS) == pytest.approx(expected)
    assert negative_log_likelihood(np.array([[1.0, 0.0]]), np.array([1])) == pytest.approx(
        -np.log(calibration.FLOOR)
    )


def test_brier_score_by_hand() -> None:
    # (0.3² + 0.2² + 0.1²), (0.7² + 0.1² + 0.8²), (0.1² + 0.15² + 0.05²), (0.25² + 0.25² + 0.5²)
    expected = (0.14 + 1.14 + 0.035 + 0.375) / 4
    assert brier_score(PROBABILITIES, LABELS) == pytest.approx(expected)
    assert brier_score(np.eye(3), np.arange(3)) == 0.0
    assert brier_score(np.eye(3), np.array([1, 2, 0])) == pytest.approx(2.0)


def test_tempered_divides_the_logits_and_undoes_itself() -> None:
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.3, 0.2]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    soft = tempered(p, 2.0)
    expected = np.exp(logits / 2) / np.exp(logits / 2).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(soft, expected, rtol=1e-12)
    assert (
        soft.argmax(axis=1) == p.argmax(axis=1)
    ).all() and soft.max() < p.max()  # softer, same answer
    np.testing.assert_allclose(uncalibrated(soft, 2.0), p, rtol=1e-12)
    np.testing.assert_allclose(tempered(p, 1.0), p, rtol=1e-12)


def synthetic(
    true_temperature: float, count: int = 20000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A model's probabilities softmax(z), and labels drawn from softmax(z / true_temperature): the
    model is miscalibrated by exactly that temperature."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(count, 3))
    truth = np.exp(logits / true_temperature)
    truth /= truth.sum(axis=1, keepdims=True)
    labels = (rng.random((count, 1)) > truth.cumsum(axis=1)[:, :-1]).sum(
        axis=1
    )  # the inverse of the distribution function
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), labels


@pytest.mark.parametrize("true_temperature", [2.5, 1.0, 0.6])
def test_fitting_recovers_a_known_temperature(true_temperature: float) -> None:
    probabilities, labels = synthetic(true_temperature)
    fit = fit_temperature(probabilities, labels)
    assert fit.temperature == pytest.approx(true_temperature, rel=0.05)
    assert fit.nll_after <= fit.nll_before and not fit.at_limit
    assert fit.nll_before == pytest.approx(negative_log_likelihood(probabilities, labels), rel=1e-9)
    assert fit.nll_after == pytest.approx(
        negative_log_likelihood(tempered(probabilities, fit.temperature), labels), rel=1e-9
    )
    assert fit_temperature(probabilities, labels) == fit  # deterministic
    calibrated = tempered(probabilities, fit.temperature)
    if true_temperature != 1.0:
        assert (
            expected_calibration_error(calibrated, labels)
            < expected_calibration_error(probabilities, labels) / 3
        )


def test_faces_that_want_a_temperature_beyond_the_range_get_its_end() -> None:
    """Every face right: the sharper, the likelier, down to the lowest temperature searched."""
    fit = fit_temperature(np.array([[0.6, 0.4], [0.3, 0.7]]), np.array([0, 1]))
    assert fit.temperature == calibration.LOWEST and fit.at_limit


def test_summary_scores_the_network_before_and_the_model_after() -> None:
    network, labels = synthetic(2.0, count=2000)
    model = tempered(network, 1.7)  # what a model calibrated with temperature 1.7 answers
    scores = summary(model, labels, 1.7)
    assert list(scores) == [
        "temperature",
        "ece_before",
        "ece_after",
        "nll_before",
        "nll_after",
        "brier_before",
        "brier_after",
    ]
    assert scores["temperature"] == 1.7
    assert scores["ece_before"] == round(expected_calibration_error(network, labels), 4)
    assert scores["nll_before"] == round(negative_log_likelihood(network, labels), 4)
    assert scores["brier_before"] == round(brier_score(network, labels), 4)
    assert scores["ece_after"] == round(expected_calibration_error(model, labels), 4)
    assert scores["ece_after"] < scores["ece_before"] and scores["nll_after"] < scores["nll_before"]
    same = summary(network, labels, 1.0)  # not calibrated: before and after are one
    assert [same[f"{m}_before"] for m in ("ece", "nll", "brier")] == [
        same[f"{m}_after"] for m in ("ece", "nll", "brier")
    ]
