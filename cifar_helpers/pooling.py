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

from ._validation import as_float_array

__all__ = ["MODES", "PADDINGS", "pool2d", "pool_padding"]

#: The pooling modes `pool2d` knows.
MODES = ("max", "average", "sum")
#: The padding options, as in Keras.
PADDINGS = ("valid", "same")


def _pair(value, name):
    """`value` (a positive int or a pair of them) as a pair of Python ints."""
    items = value if isinstance(value, (tuple, list)) else (value, value)
    ok = len(items) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v > 0
        for v in items
    )
    if not ok:
        raise ValueError(
            f"`{name}` should be a positive integer or a pair of them (rows, cols). "
            f"Received {name}={value!r}."
        )
    return int(items[0]), int(items[1])


def pool_padding(input_size, pool_size, strides, padding):
    """Rows (or columns) of padding Keras adds before and after, and the output size.

    Parameters
    ----------
    input_size, pool_size, strides : int
        Along one axis.
    padding : {"valid", "same"}

    Returns
    -------
    (before, after, output_size) : tuple of int

    Notes
    -----
    ``"valid"``: no padding, ``output_size = floor((n - k) / s) + 1``.
    ``"same"``: ``output_size = ceil(n / s)``; the ``(output_size - 1) s + k - n``
    missing cells (if positive) are split with the smaller half *before* and
    the larger half *after*, like TensorFlow and Keras.

    Examples
    --------
    >>> pool_padding(5, 2, 2, "valid")
    (0, 0, 2)
    >>> pool_padding(5, 2, 2, "same")
    (0, 1, 3)
    >>> pool_padding(4, 3, 1, "same")
    (1, 1, 4)
    """
    if padding == "valid":
        return 0, 0, (input_size - pool_size) // strides + 1
    output_size = -(-input_size // strides)
    total = max((output_size - 1) * strides + pool_size - input_size, 0)
    return total // 2, total - total // 2, output_size


def _check_feature_map(x):
    x = as_float_array(x, "x")
    if x.ndim not in (2, 3):
        raise ValueError(
            "`x` should be one feature map of shape (H, W) or (H, W, C) (no batch axis). "
            f"Received an array of shape {x.shape} (ndim={x.ndim})."
        )
    if x.size == 0:
        raise ValueError(f"`x` should not be empty. Received shape {x.shape}.")
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
        or `mode` is unknown; if the window is larger than `x` with ``"valid"``.

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
    pool_rows, pool_cols = _pair(pool_size, "pool_size")
    strides = (pool_rows, pool_cols) if strides is None else _pair(strides, "strides")
    if not isinstance(padding, str) or padding not in PADDINGS:
        raise ValueError(
            f"`padding` should be one of {list(PADDINGS)}. Received padding={padding!r}."
        )
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"`mode` should be one of {list(MODES)}. Received mode={mode!r}.")
    rows, cols = x.shape[:2]
    if padding == "valid" and (pool_rows > rows or pool_cols > cols):
        raise ValueError(
            f"`pool_size` {(pool_rows, pool_cols)} should fit inside the feature map "
            f"({rows}, {cols}) with padding='valid'. Use a smaller pool_size or "
            "padding='same'."
        )
    top, bottom, _ = pool_padding(rows, pool_rows, strides[0], padding)
    left, right, _ = pool_padding(cols, pool_cols, strides[1], padding)
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
