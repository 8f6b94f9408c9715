"""Scores of a classifier's predictions (NumPy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["per_class_accuracy"]


def per_class_accuracy(y_true, y_pred, num_classes=10):
    """The fraction of each class' examples that were predicted correctly (its recall).

    Parameters
    ----------
    y_true, y_pred : (N,) or (N, 1) int ndarray
    num_classes : int

    Returns
    -------
    (num_classes,) float ndarray
        NaN for a class with no examples.

    Examples
    --------
    >>> per_class_accuracy([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], num_classes=3)
    array([0.5  , 0.667,   nan])
    """
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` must have the same length. Received {y_true.size} "
            f"and {y_pred.size}."
        )
    totals = np.bincount(y_true, minlength=num_classes).astype(float)
    correct = np.bincount(y_true[y_true == y_pred], minlength=num_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, correct / np.where(totals > 0, totals, 1), np.nan)
