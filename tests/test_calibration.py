"""Tests for cifar_helpers.calibration against scikit-learn and hand-worked answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from cifar_helpers.calibration import expected_calibration_error, reliability_bins


def random_predictions(seed, n=500, k=10, sharpness=3.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * sharpness
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = rng.integers(0, k, n)
    # make the model right more often when it is confident
    confident = p.max(axis=1) > 0.6
    labels[confident] = p[confident].argmax(axis=1)
    return p, labels


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), bins=st.integers(1, 20))
def test_matches_sklearn_calibration_curve(seed, bins):
    p, labels = random_predictions(seed)
    correct = (p.argmax(axis=1) == labels).astype(int)
    prob_true, prob_pred = calibration_curve(correct, p.max(axis=1), n_bins=bins,
                                             strategy="uniform")
    result = reliability_bins(p, labels, bins)
    filled = result.counts > 0
    np.testing.assert_allclose(result.accuracy[filled], prob_true, atol=1e-12)
    np.testing.assert_allclose(result.confidence[filled], prob_pred, atol=1e-12)
    assert result.counts.sum() == len(p)


def test_ece_by_hand():
    # Always 100% sure, right 7 times out of 10: ECE = 1 - 0.7.
    p = np.tile([1.0, 0.0], (10, 1))
    labels = np.array([0] * 7 + [1] * 3)
    assert expected_calibration_error(p, labels) == pytest.approx(0.3)


def test_perfectly_calibrated_bins_give_zero():
    # In the 0.8 bin 4 of 5 are right, in the 0.6 bin 3 of 5: no gap anywhere.
    p = np.array([[0.8, 0.2]] * 5 + [[0.6, 0.4]] * 5)
    labels = np.array([0, 0, 0, 0, 1, 0, 0, 0, 1, 1])
    assert expected_calibration_error(p, labels, bins=10) == pytest.approx(0.0, abs=1e-12)


def test_ece_is_the_weighted_mean_gap():
    p, labels = random_predictions(7)
    result = reliability_bins(p, labels, 15)
    filled = result.counts > 0
    expected = np.average(np.abs(result.accuracy - result.confidence)[filled],
                          weights=result.counts[filled])
    assert expected_calibration_error(p, labels, 15) == pytest.approx(expected)


@pytest.mark.parametrize(
    "p, labels, match",
    [
        (np.ones(3), [0], r"`probabilities` must have shape \(N, num_classes\)"),
        ([[0.5, 0.5], [1.2, -0.2]], [0, 1], r"must lie in \[0, 1\]"),
        ([[0.5, 0.5], [np.nan, 1.0]], [0, 1], r"finite numbers only"),
        ([[0.5, 0.5]], [2], r"`labels` must be 1 integer classes in 0..1"),
        ([[0.5, 0.5]], [0.0], r"`labels` must be 1 integer classes"),
        ([[0.5, 0.5]], [0, 1], r"`labels` must be 1 integer classes"),
    ],
)
def test_errors(p, labels, match):
    with pytest.raises(ValueError, match=match):
        reliability_bins(p, labels)


def test_bad_bins():
    with pytest.raises(ValueError, match=r"`bins` must be an integer >= 1. Received bins=0"):
        reliability_bins([[1.0, 0.0]], [0], bins=0)
