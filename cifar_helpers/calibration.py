"""When the network says 90%, is it right 90% of the time? Calibration, by hand (NumPy only).

A classifier is *calibrated* when its confidence matches its accuracy: of all
the test images it labels with 80% confidence, about 80% are right. To check,
sort the predictions by confidence into bins (0-10%, 10-20%, …) and compare,
in each bin, the mean confidence with the fraction that is right
(`reliability_bins`; drawn as a reliability diagram by
`cifar_helpers.plotting.plot_reliability_diagram`). The expected calibration
error (`expected_calibration_error`, ECE) is the average gap, each bin weighted
by its share of the images::

    ECE = sum over bins b of (n_b / N) * |accuracy_b - confidence_b|

A perfectly calibrated model has ECE 0; one that always says 100% and is right
70% of the time has ECE 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_real_array, check_int

__all__ = ["ReliabilityBins", "expected_calibration_error", "reliability_bins"]


@dataclass(frozen=True)
class ReliabilityBins:
    """What `reliability_bins` returns; every array has one entry per bin.

    Attributes
    ----------
    edges : (bins + 1,) ndarray
        Bin edges, from 0 to 1.
    counts : (bins,) int ndarray
        Predictions whose confidence falls in each bin.
    confidence : (bins,) ndarray
        Mean confidence in each bin (NaN for an empty bin).
    accuracy : (bins,) ndarray
        Fraction of right predictions in each bin (NaN for an empty bin).
    """

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray


def _check(probabilities, labels):
    probabilities = as_real_array(probabilities, "probabilities", (2,), "(N, num_classes)")
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError(
            "`probabilities` must lie in [0, 1] (a softmax output). Received values from "
            f"{probabilities.min():g} to {probabilities.max():g}."
        )
    labels = np.asarray(labels).reshape(-1)
    num_classes = probabilities.shape[1]
    if labels.shape != (len(probabilities),) or labels.dtype.kind not in "iu" \
            or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"`labels` must be {len(probabilities)} integer classes in 0..{num_classes - 1}, "
            f"one per row of `probabilities`. Received dtype {labels.dtype}, "
            f"shape {np.shape(labels)}."
        )
    return probabilities, labels


def reliability_bins(probabilities, labels, bins=10):
    """Mean confidence and accuracy of the top-class predictions, bin by bin.

    Parameters
    ----------
    probabilities : (N, num_classes) array_like
        Class probabilities (each row a softmax output).
    labels : (N,) or (N, 1) int array_like
        The true classes.
    bins : int
        Equal-width confidence bins on [0, 1]; a confidence on an inner edge
        goes to the bin below it, as in ``sklearn.calibration.calibration_curve``.

    Returns
    -------
    ReliabilityBins

    Examples
    --------
    Four predictions at 90% confidence, three of them right; two at 65%, one right:

    >>> p = [[0.9, 0.1]] * 4 + [[0.35, 0.65]] * 2
    >>> result = reliability_bins(p, [0, 0, 0, 1, 1, 0], bins=5)
    >>> result.counts
    array([0, 0, 0, 2, 4])
    >>> result.accuracy[3:], result.confidence[3:]
    (array([0.5 , 0.75]), array([0.65, 0.9 ]))
    """
    probabilities, labels = _check(probabilities, labels)
    bins = check_int(bins, "bins", minimum=1)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], confidence)  # sklearn's rule for the edges
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / counts
        accuracy = np.bincount(which, weights=correct, minlength=bins) / counts
    return ReliabilityBins(edges, counts, mean_confidence, accuracy)


def expected_calibration_error(probabilities, labels, bins=10):
    """The expected calibration error: the count-weighted mean gap |accuracy - confidence|.

    Parameters
    ----------
    probabilities, labels, bins
        As in `reliability_bins`.

    Returns
    -------
    float
        In [0, 1]; 0 for a perfectly calibrated model.

    Examples
    --------
    >>> p = [[0.9, 0.1]] * 4 + [[0.35, 0.65]] * 2   # gaps: 0.15 (4 images), 0.15 (2 images)
    >>> round(expected_calibration_error(p, [0, 0, 0, 1, 1, 0], bins=5), 4)
    0.15
    """
    result = reliability_bins(probabilities, labels, bins)
    filled = result.counts > 0
    gaps = np.abs(result.accuracy[filled] - result.confidence[filled])
    return float(np.sum(result.counts[filled] * gaps) / result.counts.sum())
