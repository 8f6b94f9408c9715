"""Window geometry shared by convolution, pooling and the widgets: one home.

A convolution kernel or a pooling window of size ``f`` slides over an axis of
length ``n`` in steps of ``s``, after ``p`` zeros are added on each side. This
module answers the three questions every such layer asks, exactly as Keras
does (``compute_conv_output_shape``, ``compute_pooling_output_shape``):

- `output_size`: how many windows fit, ``floor((n + 2p - f) / s) + 1``, or
  ``ceil(n / s)`` with ``padding="same"``;
- `pad_amounts` (and `pad_image`): how many zero rows and columns go on each
  side; for ``"same"``, an odd total puts the extra one at the bottom/right;
- `window_positions`: where each output cell's window sits.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_real_array, check_output_size, int_pair, is_int

__all__ = ["PADDING_MODES", "output_size", "pad_amounts", "pad_image", "window_positions"]

#: The string values `padding` accepts (an int or a pair of ints works too).
PADDING_MODES = ("valid", "same")


def _padding_spec(padding, allow_numbers=True):
    """Return "valid", "same" or (when allowed) a pair of non-negative ints."""
    options = ", ".join(repr(m) for m in PADDING_MODES)
    expected = f"one of {options}" + (
        ", a non-negative integer or a pair of them" if allow_numbers else ""
    )
    if isinstance(padding, str) and padding.lower() in PADDING_MODES:
        return padding.lower()
    if allow_numbers and (is_int(padding) or isinstance(padding, (tuple, list))):
        try:
            return int_pair(padding, "padding", minimum=0)
        except ValueError:
            pass
    raise ValueError(f"`padding` must be {expected}. Received padding={padding!r}.")


def _spatial_shape(shape, name):
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) < 2
        or not all(is_int(v) and v > 0 for v in shape)
    ):
        raise ValueError(
            f"`{name}` must be a shape (H, W) or (H, W, C) of positive integers. "
            f"Received {name}={shape!r}."
        )
    return int(shape[0]), int(shape[1])


def _axis_padding(n, f, s, padding):
    """(before, after) zero padding of one axis of length n, kernel f, stride s."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-n // s)  # ceil(n / s)
        total = max((out - 1) * s + f - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def _axis_output(n, f, s, padding, axis_name):
    before, after = _axis_padding(n, f, s, padding)
    padded = n + before + after
    if f > padded:
        raise ValueError(
            f"The kernel is larger than the padded input along the {axis_name}: "
            f"kernel size {f} > padded input size {padded} (input {n}, padding "
            f"{before}+{after}). Expected a kernel no larger than the padded input."
        )
    return (padded - f) // s + 1


def output_size(input_size, kernel_size, strides=1, padding="valid"):
    """Output length (or shape) of a 2-D convolution or pooling window.

    Parameters
    ----------
    input_size : int or (int, int)
        Input length ``n`` (or ``(H, W)``).
    kernel_size : int or (int, int)
        Kernel length ``f`` (or ``(kh, kw)``).
    strides : int or (int, int)
        Step ``s`` between windows (positive).
    padding : {"valid", "same"}, int or (int, int)
        ``"valid"`` (no padding), ``"same"`` (Keras' rule) or ``p`` zeros on
        each side.

    Returns
    -------
    int or (int, int)
        An int when every argument is a scalar, otherwise ``(H', W')``.

    Raises
    ------
    ValueError
        For non-positive sizes or strides, an unknown padding, or a kernel
        larger than the padded input.

    Notes
    -----
    With ``p`` zeros on each side: ``floor((n + 2p - f) / s) + 1``
    (``"valid"`` is ``p = 0``). With ``"same"``, Keras pads just enough to get
    ``ceil(n / s)`` outputs, so with ``s = 1`` the size is kept.

    Examples
    --------
    >>> output_size(5, 3)
    3
    >>> output_size(8, 3, strides=2)
    3
    >>> output_size(32, 3, padding="same"), output_size(32, 3, strides=2, padding="same")
    (32, 16)
    >>> output_size((8, 7), 3, strides=2, padding=1)
    (4, 4)
    """
    scalar = all(is_int(v) for v in (input_size, kernel_size, strides)) and (
        isinstance(padding, str) or is_int(padding)
    )
    sizes = int_pair(input_size, "input_size", minimum=1)
    kernel = int_pair(kernel_size, "kernel_size", minimum=1)
    steps = int_pair(strides, "strides", minimum=1)
    spec = _padding_spec(padding)
    per_axis = (spec, spec) if isinstance(spec, str) else spec
    result = tuple(
        _axis_output(sizes[a], kernel[a], steps[a], per_axis[a], axis_name)
        for a, axis_name in enumerate(("rows", "columns"))
    )
    return result[0] if scalar else result


def pad_amounts(input_shape, kernel_size, strides=1, padding="valid"):
    """Zero rows/columns added on each side of the image before sliding the kernel.

    Parameters
    ----------
    input_shape : tuple
        ``(H, W)`` or ``(H, W, C)`` (only ``H`` and ``W`` are used).
    kernel_size : int or (int, int)
    strides : int or (int, int)
    padding : {"valid", "same"}, int or (int, int)

    Returns
    -------
    ((int, int), (int, int))
        ``((top, bottom), (left, right))``.

    Notes
    -----
    For ``"same"`` this is TensorFlow/Keras' placement: ``out = ceil(n / s)``,
    ``total = max((out - 1) * s + f - n, 0)``, ``top = total // 2`` and the
    rest at the bottom, so an odd total puts the extra row at the bottom (and
    the extra column on the right).

    Examples
    --------
    >>> pad_amounts((5, 5), 3, padding="same")
    ((1, 1), (1, 1))
    >>> pad_amounts((5, 5), 2, padding="same")
    ((0, 1), (0, 1))
    >>> pad_amounts((8, 7), 3, strides=2, padding="same")
    ((0, 1), (1, 1))
    """
    rows, cols = _spatial_shape(input_shape, "input_shape")
    kernel = int_pair(kernel_size, "kernel_size", minimum=1)
    steps = int_pair(strides, "strides", minimum=1)
    spec = _padding_spec(padding)
    per_axis = (spec, spec) if isinstance(spec, str) else spec
    output_size((rows, cols), kernel, steps, padding)  # raises if the kernel does not fit
    return (
        _axis_padding(rows, kernel[0], steps[0], per_axis[0]),
        _axis_padding(cols, kernel[1], steps[1], per_axis[1]),
    )


def pad_image(image, kernel_size, strides=1, padding="valid"):
    """Return `image` with the zero padding a convolution would add.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
    kernel_size, strides, padding
        As in `pad_amounts`.

    Returns
    -------
    (H + top + bottom, W + left + right[, C]) ndarray
        Same dtype as `image`; channels are never padded.

    Examples
    --------
    >>> pad_image(np.ones((2, 2), dtype=int), 3, padding="same")
    array([[0, 0, 0, 0],
           [0, 1, 1, 0],
           [0, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    image = as_real_array(image, "image", (2, 3), "(H, W) or (H, W, C)")
    pads = pad_amounts(image.shape, kernel_size, strides, padding)
    (top, bottom), (left, right) = pads
    shape = (image.shape[0] + top + bottom, image.shape[1] + left + right, *image.shape[2:])
    check_output_size(shape, image.dtype.itemsize, "pad_image's result")
    return np.pad(image, pads + ((0, 0),) * (image.ndim - 2))


def window_positions(input_shape, kernel_size, strides=1, padding="valid"):
    """Where each output cell's window sits in the padded image.

    Parameters
    ----------
    input_shape : tuple
        ``(H, W)`` or ``(H, W, C)`` of the *unpadded* image.
    kernel_size, strides, padding
        As in `conv2d`.

    Returns
    -------
    iterator of (int, int, slice, slice)
        ``(out_row, out_col, row_slice, col_slice)`` in row-major order, with
        the slices indexing the image returned by `pad_image`.

    Examples
    --------
    >>> for out_row, out_col, rows, cols in window_positions((5, 5), 3, strides=2):
    ...     print(out_row, out_col, rows, cols)
    0 0 slice(0, 3, None) slice(0, 3, None)
    0 1 slice(0, 3, None) slice(2, 5, None)
    1 0 slice(2, 5, None) slice(0, 3, None)
    1 1 slice(2, 5, None) slice(2, 5, None)
    """
    rows, cols = _spatial_shape(input_shape, "input_shape")
    kh, kw = int_pair(kernel_size, "kernel_size", minimum=1)
    sr, sc = int_pair(strides, "strides", minimum=1)
    out_rows, out_cols = output_size((rows, cols), (kh, kw), (sr, sc), padding)

    def positions():
        for out_row in range(out_rows):
            for out_col in range(out_cols):
                top, left = out_row * sr, out_col * sc
                yield out_row, out_col, slice(top, top + kh), slice(left, left + kw)

    return positions()
