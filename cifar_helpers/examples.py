"""The source tutorial's worked examples, as read-only integer arrays.

These are the inputs the notebooks compute by hand (and the tests check
against hand-worked answers). The arrays are read-only so that no notebook
cell can change them by accident; take a copy (``SEED_IMAGE.copy()``) to edit.

This module imports NumPy only.

Examples
--------
>>> SEED_IMAGE
array([[1, 1, 1, 0, 0],
       [0, 1, 1, 1, 0],
       [0, 0, 1, 1, 1],
       [0, 0, 1, 1, 0],
       [0, 1, 1, 0, 0]])
>>> SEED_KERNEL
array([[1, 0, 1],
       [0, 1, 0],
       [1, 0, 1]])
>>> STRIDE_GRID[[0, 1, -1]]
array([[ 1,  2,  3,  4,  5,  6,  7],
       [11, 12, 13, 14, 15, 16, 17],
       [71, 72, 73, 74, 75, 76, 77]])
>>> SEED_IMAGE.flags.writeable
False
"""

from __future__ import annotations

import numpy as np

__all__ = ["SEED_IMAGE", "SEED_KERNEL", "STRIDE_GRID"]


def _read_only(rows):
    array = np.array(rows, dtype=np.int64)
    array.flags.writeable = False
    return array


SEED_IMAGE = _read_only(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ]
)
"""The tutorial's 5x5 binary image, shape (5, 5), int64, read-only.

Cross-correlated with `SEED_KERNEL` (``padding="valid"``, stride 1) it gives
``[[4, 3, 4], [2, 4, 3], [2, 3, 4]]``.
"""

SEED_KERNEL = _read_only(
    [
        [1, 0, 1],
        [0, 1, 0],
        [1, 0, 1],
    ]
)
"""The tutorial's 3x3 kernel (an "X" of ones), shape (3, 3), int64, read-only.

It is symmetric, so flipping it changes nothing: convolution and
cross-correlation with it agree.
"""

STRIDE_GRID = _read_only(10 * np.arange(8)[:, None] + np.arange(1, 8)[None, :])
"""The tutorial's stride example, shape (8, 7), int64, read-only.

Row ``r`` holds ``10*r + 1, ..., 10*r + 7`` (1-7, 11-17, ..., 71-77). Summed
over 3x3 windows with stride 2 it gives
``[[108, 126, 144], [288, 306, 324], [468, 486, 504]]``; the tutorial's figure
shows only the top-left 2x2 of that result.
"""
