"""Scores of a classifier's predictions (NumPy only)."""

from __future__ import annotations

import numpy as np

from ._validation import check_int, class_indices

__all__ = ["per_class_accuracy"]


def per_class_accuracy(y_true, y_pred, num_classes=10):
    """The fraction of each class' examples that were predicted correctly (its recall).

    Parameters
    ----------
    y_true, y_pred : (N,) or (N, 1) int ndarray
        Class indices in ``0 .. num_classes - 1``.
    num_classes : int

    Returns
    -------
    (num_classes,) float ndarray
        NaN for a class with no examples.

    Raises
    ------
    ValueError
        If the labels are not integers, lie outside ``0 .. num_classes - 1``
        or differ in length, or `num_classes` is not a positive integer.

    Examples
    --------
    >>> per_class_accuracy([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], num_classes=3)
    array([0.5  , 0.667,   nan])
    >>> per_class_accuracy([12, 0], [12, 0])
    Traceback (most recent call last):
    ...
    ValueError: `y_true` must lie in 0..9 for num_classes=10. Received values from 0 to 12.
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    y_true = class_indices(y_true, "y_true", num_classes)
    y_pred = class_indices(y_pred, "y_pred", num_classes)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` must have the same length. Received {y_true.size} "
            f"and {y_pred.size}."
        )
    totals = np.bincount(y_true, minlength=num_classes).astype(float)
    correct = np.bincount(y_true[y_true == y_pred], minlength=num_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, correct / np.where(totals > 0, totals, 1), np.nan)
