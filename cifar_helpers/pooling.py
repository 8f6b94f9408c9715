"""2-D pooling with NumPy: max, average and sum, with Keras' strides and padding.

`pool2d` slides a ``pool_size`` window over each channel of a feature map and
keeps one number per window: the largest value ("max"), the mean ("average")
or the total ("sum"). It gives the same numbers as ``keras.layers.MaxPooling2D``
and ``keras.layers.AveragePooling2D`` (the tests check it), including their
``padding="same"`` behaviour, and is vectorized with
``numpy.lib.stride_tricks.sliding_window_view`` (no Python loop over windows).

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import as_float_array, check_choice, check_output_size, int_pair
from .windows import PADDING_MODES, pad_amounts

__all__ = ["MODES", "PADDINGS", "pool2d"]

#: The pooling modes `pool2d` knows.
MODES = ("max", "average", "sum")
#: The padding options, as in Keras.
PADDINGS = PADDING_MODES


def _check_feature_map(x):
    x = as_float_array(x, "x")
    if x.ndim not in (2, 3):
        raise ValueError(
            "`x` must be one feature map of shape (H, W) or (H, W, C) (no batch axis). "
            f"Received an array of shape {x.shape} (ndim={x.ndim})."
        )
    if x.size == 0:
        raise ValueError(f"`x` must not be empty. Received shape {x.shape}.")
    return x


def pool2d(x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Max, average or sum pooling of a feature map, channel by channel.

    Parameters
    ----------
    x : (H, W) or (H, W, C) array_like of real numbers
        One feature map (or a stack of `C` of them), channels last.
    pool_size : int or (int, int)
        Window size (rows, cols).
    strides : int or (int, int), optional
        Step between windows. Default: `pool_size` (windows that touch but do
        not overlap), as in Keras.
    padding : {"valid", "same"}
        ``"valid"``: only windows that fit inside `x`. ``"same"``: output size
        ``ceil(H / strides)`` × ``ceil(W / strides)``; windows that stick out
        over the border are cut to the cells that exist (see Notes).
    mode : {"max", "average", "sum"}
        What each window keeps.

    Returns
    -------
    (H', W') or (H', W', C) ndarray
        Floating inputs keep their dtype; integer inputs give float64.
        With ``"valid"``, ``H' = floor((H - kh) / sh) + 1``; with ``"same"``,
        ``H' = ceil(H / sh)`` (the same rules for the columns).

    Raises
    ------
    ValueError
        If `x` is not numeric, contains NaN, is empty or not 2-D/3-D; if
        `pool_size` or `strides` is not a positive int or pair; if `padding`
        or `mode` is unknown; if the window is larger than `x` with ``"valid"``;
        if the padded map would exceed `~cifar_helpers._validation.MAX_OUTPUT_BYTES`
        (2 GiB).

    Notes
    -----
    With ``padding="same"`` the cells outside `x` are ignored, exactly as in
    Keras (TensorFlow backend): max pooling takes the largest *real* value,
    average pooling divides by the number of *real* cells in the window (not
    by ``kh * kw``), and sum pooling adds the real cells (padding counts as 0).
    So ``MaxPooling2D`` never returns a padding value, and ``AveragePooling2D``
    of a constant map is that constant everywhere, even at the border.
    Keras has no sum-pooling layer: sum = average × number of real cells in
    the window.

    Examples
    --------
    >>> feature_map = np.array([[1, 3, 2, 0],
    ...                         [5, 6, 1, 2],
    ...                         [0, 2, 9, 4],
    ...                         [1, 1, 3, 8]])
    >>> pool2d(feature_map)
    array([[6., 2.],
           [2., 9.]])
    >>> pool2d(feature_map, mode="average")
    array([[3.75, 1.25],
           [1.  , 6.  ]])
    >>> pool2d(feature_map, mode="sum")
    array([[15.,  5.],
           [ 4., 24.]])
    >>> pool2d(np.arange(1, 6) * np.ones((5, 1)), padding="same", mode="average")
    array([[1.5, 3.5, 5. ],
           [1.5, 3.5, 5. ],
           [1.5, 3.5, 5. ]])
    """
    x = _check_feature_map(x)
    pool_rows, pool_cols = int_pair(pool_size, "pool_size")
    strides = (pool_rows, pool_cols) if strides is None else int_pair(strides, "strides")
    check_choice(padding, "padding", PADDINGS)
    check_choice(mode, "mode", MODES)
    rows, cols = x.shape[:2]
    if padding == "valid" and (pool_rows > rows or pool_cols > cols):
        raise ValueError(
            f"`pool_size` {(pool_rows, pool_cols)} must fit inside the feature map "
            f"({rows}, {cols}) with padding='valid'. Use a smaller pool_size or "
            "padding='same'."
        )
    (top, bottom), (left, right) = pad_amounts((rows, cols), (pool_rows, pool_cols), strides,
                                               padding)
    # The padded copy is the largest array made (the output is never larger).
    padded_shape = (rows + top + bottom, cols + left + right, *x.shape[2:])
    check_output_size(padded_shape, x.dtype.itemsize, "pool2d's padded feature map")
    pad_width = [(top, bottom), (left, right)] + [(0, 0)] * (x.ndim - 2)

    def windows(values):
        view = sliding_window_view(values, (pool_rows, pool_cols), axis=(0, 1))
        return view[:: strides[0], :: strides[1]]  # (H', W'[, C], kh, kw)

    padded = top or bottom or left or right
    if mode == "max":
        if padded:  # cells outside the map can never be the maximum
            x = np.pad(x, pad_width, constant_values=-np.inf)
        return windows(x).max(axis=(-2, -1))
    sums = windows(np.pad(x, pad_width) if padded else x).sum(axis=(-2, -1))
    if mode == "sum":
        return sums
    if not padded:
        return sums / x.dtype.type(pool_rows * pool_cols)
    real_cells = np.pad(np.ones((rows, cols), dtype=x.dtype), pad_width[:2])
    counts = windows(real_cells).sum(axis=(-2, -1))
    if x.ndim == 3:
        counts = counts[:, :, np.newaxis]
    return sums / counts
