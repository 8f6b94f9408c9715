"""2-D convolution the way a Keras ``Conv2D`` layer computes it, in NumPy.

Deep-learning "convolution" is really **cross-correlation**: the kernel slides
over the image as it is, without being flipped. Every output cell is the sum
of the element-wise products of the kernel with the window of the (zero-padded)
image under it::

    out[r, c, f] = sum over i, j, ch of padded[r*sr + i, c*sc + j, ch] * kernel[i, j, ch, f]

This module gives that operation three ways:

- `conv2d_loops`: explicit Python loops, one output cell at a time (the version
  the notebooks teach);
- `conv2d`: the same numbers, vectorized (one array operation per kernel
  tap, each covering every window at once);
- `convolve2d`: the textbook convolution, which is cross-correlation with the
  kernel flipped (`flip_kernel`).

The bookkeeping around it (output sizes, Keras' exact ``padding="same"``
placement, where each window sits) lives in `cifar_helpers.windows`.

Shapes are channels-last, like Keras: ``image`` is ``(H, W)`` or ``(H, W, C)``;
``kernel`` is ``(kh, kw)``, ``(kh, kw, C)`` (one filter) or ``(kh, kw, C, F)``
(``F`` filters); the output is ``(H', W')``, or ``(H', W', F)`` for a 4-D kernel.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_real_array, check_output_size, int_pair
from .windows import output_size, pad_amounts, window_positions

__all__ = ["conv2d", "conv2d_loops", "convolve2d", "flip_kernel"]

# Integer inputs are computed in float64 (fast BLAS) only while every partial
# sum is an integer float64 represents exactly; beyond that, in int64, as long as
# no partial sum can reach 2**63 (the bound is computed in float64, so it keeps a
# margin for its own rounding); beyond that, refused: never a wrapped-around result.
_EXACT_FLOAT_LIMIT = 2.0**52
_INT64_LIMIT = 2.0**63 * (1 - 2.0**-30)


def _as_image(image):
    return as_real_array(image, "image", (2, 3), "(H, W) or (H, W, C)")


def _as_kernel(kernel):
    return as_real_array(kernel, "kernel", (2, 3, 4), "(kh, kw), (kh, kw, C) or (kh, kw, C, F)")


def flip_kernel(kernel):
    """Rotate `kernel` by 180 degrees (flip its rows and its columns).

    Channel and filter axes are left alone.

    Parameters
    ----------
    kernel : (kh, kw[, C[, F]]) array_like

    Returns
    -------
    ndarray
        A flipped copy.

    Examples
    --------
    >>> flip_kernel([[1, 2, 3], [4, 5, 6]])
    array([[6, 5, 4],
           [3, 2, 1]])
    """
    kernel = _as_kernel(kernel)
    return kernel[::-1, ::-1].copy()


# --------------------------------------------------------------------------- #
# Convolution
# --------------------------------------------------------------------------- #
def _integer_bound(image3, kernel4):
    """Largest |partial sum| integer inputs can reach; refuse it if int64 could overflow."""
    largest_pixel = max(abs(int(image3.max())), abs(int(image3.min())))
    largest_filter = float(np.max(np.sum(np.abs(kernel4.astype(np.float64)), axis=(0, 1, 2))))
    bound = float(largest_pixel) * largest_filter
    if bound >= _INT64_LIMIT:
        raise ValueError(
            "Integer `image` and `kernel` must be small enough for exact int64 arithmetic: "
            "max|image| * sum|kernel| (per filter) must stay below 2**63 (about 9.2e18). "
            f"Received max|image| = {largest_pixel} and sum|kernel| = {largest_filter:.6g}: "
            f"{bound:.3g}. Use smaller integers, or floats (rounded) if an approximation will do."
        )
    return bound


def _prepare(image, kernel, strides, padding):
    """Validate; return (image3, kernel4, steps, pads, out_shape, squeeze, bound).

    `bound` is None for float inputs, else the largest |partial sum| (see `_integer_bound`).
    """
    image = _as_image(image)
    kernel = _as_kernel(kernel)
    image3 = image if image.ndim == 3 else image[:, :, None]
    channels = image3.shape[2]
    if kernel.ndim == 2:
        if channels != 1:
            raise ValueError(
                "Channel mismatch: a 2-D kernel (kh, kw) needs a one-channel image "
                f"(H, W) or (H, W, 1). Received image.shape={image.shape} and "
                f"kernel.shape={kernel.shape}; give the kernel one slice per channel: "
                f"(kh, kw, {channels})."
            )
        kernel4 = kernel[:, :, None, None]
    elif kernel.ndim == 3:
        kernel4 = kernel[:, :, :, None]
    else:
        kernel4 = kernel
    if kernel4.shape[2] != channels:
        raise ValueError(
            f"Channel mismatch: the image has {channels} channel(s) but the kernel has "
            f"{kernel4.shape[2]}. Expected kernel.shape[2] == {channels}. Received "
            f"image.shape={image.shape} and kernel.shape={kernel.shape}."
        )
    steps = int_pair(strides, "strides")
    pads = pad_amounts(image3.shape, kernel4.shape[:2], steps, padding)
    out_shape = output_size(image3.shape[:2], kernel4.shape[:2], steps, padding)
    (top, bottom), (left, right) = pads
    padded_shape = (image3.shape[0] + top + bottom, image3.shape[1] + left + right, channels)
    check_output_size(padded_shape, 8, "conv2d's padded image")
    check_output_size((*out_shape, kernel4.shape[3]), 8, "conv2d's output")
    integer = image.dtype.kind in "biu" and kernel.dtype.kind in "biu"
    bound = _integer_bound(image3, kernel4) if integer else None
    return image3, kernel4, steps, pads, out_shape, kernel.ndim < 4, bound


def _finish(out, squeeze):
    return out[:, :, 0] if squeeze else out


def conv2d(image, kernel, strides=1, padding="valid"):
    """Cross-correlate `image` with `kernel`, exactly like ``keras.layers.Conv2D``.

    The vectorized version of `conv2d_loops`. Instead of visiting the output
    cells one by one, it visits the kernel's ``kh * kw`` taps (9 for a 3x3
    kernel): tap ``(i, j)`` meets pixel ``(r*sr + i, c*sc + j)`` in window
    ``(r, c)``, so one strided slice of the padded image, times the tap's
    weights (a ``(C, F)`` matrix), adds that tap's share to every output value
    at once. Same arithmetic as the loops, in ``kh * kw`` array operations
    instead of one Python step per output value, and without the
    ``kh * kw``-fold copy of the image that "im2col" makes.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Real numbers (bool, int or float); no NaN or infinity.
    kernel : (kh, kw), (kh, kw, C) or (kh, kw, C, F) array_like
        A 2-D kernel needs a one-channel image; otherwise ``kernel.shape[2]``
        must equal ``C``. ``F`` is the number of filters.
    strides : int or (int, int), default 1
        Step between windows, rows then columns.
    padding : {"valid", "same"}, int or (int, int), default "valid"
        ``"valid"``: no padding. ``"same"``: Keras' zero padding (output size
        ``ceil(H / s)``; an odd total puts the extra row/column at the
        bottom/right). An int ``p`` (or ``(p_rows, p_cols)``): that many zeros
        on each side.

    Returns
    -------
    (H', W') or (H', W', F) ndarray
        ``(H', W', F)`` for a 4-D kernel, ``(H', W')`` otherwise, with
        ``H' = output_size(H, kh, ...)``. int64 (exact) when both inputs are
        integers or bools, float64 otherwise.

    Raises
    ------
    ValueError
        Wrong ndim, empty, non-numeric or NaN/inf-containing arrays, channel
        mismatch, non-positive or non-integer strides, unknown padding, a
        kernel larger than the padded image, a padded image or an output
        beyond `~cifar_helpers._validation.MAX_OUTPUT_BYTES` (2 GiB), or
        integers so large that int64 could overflow (never a wrapped result).

    See Also
    --------
    conv2d_loops : the same result, one window at a time.
    convolve2d : true convolution (flipped kernel).

    Notes
    -----
    ``out[r, c, f] = sum_{i, j, ch} padded[r*sr + i, c*sc + j, ch] * kernel[i, j, ch, f]``

    Examples
    --------
    The tutorial's 5x5 binary image and 3x3 kernel:

    >>> from cifar_helpers.examples import SEED_IMAGE, SEED_KERNEL
    >>> conv2d(SEED_IMAGE, SEED_KERNEL)
    array([[4, 3, 4],
           [2, 4, 3],
           [2, 3, 4]])
    >>> conv2d(SEED_IMAGE, SEED_KERNEL, padding="same").shape
    (5, 5)
    >>> from cifar_helpers.examples import STRIDE_GRID
    >>> conv2d(STRIDE_GRID, np.ones((3, 3), dtype=int), strides=2)
    array([[108, 126, 144],
           [288, 306, 324],
           [468, 486, 504]])
    """
    image3, kernel4, (sr, sc), pads, (out_rows, out_cols), squeeze, bound = _prepare(
        image, kernel, strides, padding
    )
    kh, kw, channels, filters = kernel4.shape
    integer = bound is not None
    dtype = np.int64 if integer and bound >= _EXACT_FLOAT_LIMIT else np.float64
    padded = np.pad(image3.astype(dtype, copy=False), pads + ((0, 0),))
    weights = kernel4.astype(dtype, copy=False)
    out = np.zeros((out_rows, out_cols, filters), dtype=dtype)
    for i in range(kh):  # one pass per kernel tap (9 for a 3x3 kernel) ...
        for j in range(kw):
            # ... covering every window at once: shifted[r, c] = padded[r*sr + i, c*sc + j]
            shifted = padded[
                i : i + sr * (out_rows - 1) + 1 : sr, j : j + sc * (out_cols - 1) + 1 : sc
            ]
            if channels == 1:
                out += shifted * weights[i, j, 0]  # (H', W', 1) * (F,)
            else:
                out += shifted @ weights[i, j]  # (H', W', C) @ (C, F)
    if integer and dtype == np.float64:
        out = np.rint(out).astype(np.int64)
    return _finish(out, squeeze)


def conv2d_loops(image, kernel, strides=1, padding="valid"):
    """`conv2d` with explicit loops: one window, one filter at a time.

    This is the computation the notebooks walk through by hand: pad the image,
    then for every output cell take the window under the kernel, multiply it
    element-wise by the kernel and add up the products. It is slow (a Python
    loop per output value) and meant for reading; use `conv2d` for real work.

    Parameters
    ----------
    image, kernel, strides, padding
        As in `conv2d`.

    Returns
    -------
    (H', W') or (H', W', F) ndarray
        The same values and dtype as `conv2d` (float results may differ in the
        last bits, because the sums are taken in another order).

    Raises
    ------
    ValueError
        As `conv2d`.

    Examples
    --------
    >>> from cifar_helpers.examples import SEED_IMAGE, SEED_KERNEL
    >>> conv2d_loops(SEED_IMAGE, SEED_KERNEL)
    array([[4, 3, 4],
           [2, 4, 3],
           [2, 3, 4]])
    """
    image3, kernel4, steps, pads, (out_rows, out_cols), squeeze, bound = _prepare(
        image, kernel, strides, padding
    )
    dtype = np.int64 if bound is not None else np.float64
    padded = np.pad(image3.astype(dtype), pads + ((0, 0),))
    kernel4 = kernel4.astype(dtype)
    filters = kernel4.shape[3]
    out = np.zeros((out_rows, out_cols, filters), dtype=dtype)
    positions = window_positions(image3.shape, kernel4.shape[:2], steps, padding)
    for out_row, out_col, rows, cols in positions:
        window = padded[rows, cols]  # (kh, kw, C): the pixels under the kernel
        for f in range(filters):
            products = window * kernel4[:, :, :, f]  # element-wise
            out[out_row, out_col, f] = products.sum()
    return _finish(out, squeeze)


def convolve2d(image, kernel, strides=1, padding="valid"):
    """True (textbook) 2-D convolution: `conv2d` with the kernel flipped.

    Mathematics and signal processing define convolution with the kernel
    rotated by 180 degrees; deep-learning layers skip the flip (they learn the
    kernel anyway). For a symmetric kernel both give the same result.

    Parameters
    ----------
    image, kernel, strides, padding
        As in `conv2d`.

    Returns
    -------
    ndarray
        ``conv2d(image, flip_kernel(kernel), strides, padding)``.

    Examples
    --------
    >>> image = np.arange(9).reshape(3, 3)
    >>> kernel = np.array([[1, 0], [0, 0]])
    >>> conv2d(image, kernel)      # picks the top-left pixel of each window
    array([[0, 1],
           [3, 4]])
    >>> convolve2d(image, kernel)  # the flipped kernel picks the bottom-right one
    array([[4, 5],
           [7, 8]])
    """
    return conv2d(image, flip_kernel(kernel), strides=strides, padding=padding)
