"""Classic 3x3 image filters and a fast way to apply them to photos.

The kernels are the ones in the source tutorial's table of "common filters"
(the same table as Wikipedia's "Kernel (image processing)" article). Each one
is a read-only ``(3, 3)`` float64 array; `FILTERS` maps a short name to each.

`apply_filter` cross-correlates a grayscale or RGB image with a 2-D kernel,
channel by channel, with ``padding="same"`` (zeros outside the image, exactly
Keras' placement, so the size is kept), and by default turns the result into
something ``plt.imshow`` shows faithfully.

This module imports NumPy and SciPy only.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from scipy import ndimage

from ._validation import as_real_array, check_output_size

__all__ = [
    "BOX_BLUR",
    "DISPLAY_PERCENTILE",
    "EDGE_DIAGONAL",
    "EDGE_LAPLACE4",
    "EDGE_LAPLACE8",
    "FILTERS",
    "FILTER_DESCRIPTIONS",
    "GAUSSIAN_BLUR",
    "IDENTITY",
    "NORMALIZE_MODES",
    "SHARPEN",
    "apply_filter",
]


def _kernel(rows, scale=1):
    array = np.array(rows, dtype=np.float64) * scale
    array.flags.writeable = False
    return array


# All from the source tutorial's filter table (also Wikipedia, "Kernel (image
# processing)"). Weights summing to 1 keep the overall brightness; weights
# summing to 0 respond only where the image changes (edges).

#: Leaves the image unchanged: only the centre pixel counts.
IDENTITY = _kernel([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
#: Tutorial's first edge detector: difference of the two diagonals (sum 0).
EDGE_DIAGONAL = _kernel([[1, 0, -1], [0, 0, 0], [-1, 0, 1]])
#: Tutorial's second edge detector: 4-neighbour discrete Laplacian (sum 0).
EDGE_LAPLACE4 = _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
#: Tutorial's third edge detector: 8-neighbour Laplacian, sign flipped (sum 0).
EDGE_LAPLACE8 = _kernel([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
#: Tutorial's sharpen: identity plus a (negated) 4-neighbour Laplacian (sum 1).
SHARPEN = _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
#: Tutorial's normalized box blur: the mean of the 3x3 neighbourhood (sum 1).
BOX_BLUR = _kernel([[1, 1, 1], [1, 1, 1], [1, 1, 1]], scale=1 / 9)
#: Tutorial's 3x3 approximation of a Gaussian blur, binomial weights (sum 1).
GAUSSIAN_BLUR = _kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], scale=1 / 16)

#: Filter name -> kernel (read-only mapping, in the tutorial's order).
FILTERS = MappingProxyType(
    {
        "identity": IDENTITY,
        "edge_diagonal": EDGE_DIAGONAL,
        "edge_laplace4": EDGE_LAPLACE4,
        "edge_laplace8": EDGE_LAPLACE8,
        "sharpen": SHARPEN,
        "box_blur": BOX_BLUR,
        "gaussian_blur": GAUSSIAN_BLUR,
    }
)

#: Filter name -> one sentence on what it does (for notebooks and widgets).
FILTER_DESCRIPTIONS = MappingProxyType(
    {
        "identity": "Copies the centre pixel: the image comes back unchanged.",
        "edge_diagonal": "Top-left plus bottom-right minus the other two corners: responds "
        "to changes along the diagonals, zero on flat areas.",
        "edge_laplace4": "Sum of the 4 neighbours minus 4 times the centre: zero on flat areas "
        "and smooth ramps, large on edges and fine detail in any direction.",
        "edge_laplace8": "8 times the centre minus its 8 neighbours: like the 4-neighbour "
        "Laplacian but also sees diagonal changes.",
        "sharpen": "The pixel plus how much it stands out from its 4 neighbours: edges get "
        "more contrast, flat areas stay the same.",
        "box_blur": "The plain mean of the 3x3 neighbourhood: smooths noise and detail.",
        "gaussian_blur": "A weighted mean that favours the centre: a softer, more natural "
        "blur than the box.",
    }
)

#: The values `apply_filter`'s `normalize` accepts.
NORMALIZE_MODES = ("auto", "clip", "abs", "minmax", None)

#: "abs" and "minmax" displays stretch this percentile of the response to white
#: (and 100 minus it to black), so that a few extreme pixels do not leave the rest dark.
DISPLAY_PERCENTILE = 99.5


def _percentile(values, q):
    """The q-th percentile of `values`, estimated on at most ~65,000 evenly spaced values."""
    sample = values.ravel()[:: max(1, values.size // 65_536)]
    return float(np.percentile(sample, q))


def _as_filter_kernel(kernel_or_name):
    if isinstance(kernel_or_name, str):
        if kernel_or_name not in FILTERS:
            raise ValueError(
                f"Unknown filter {kernel_or_name!r}. Expected a 2-D kernel or one of: "
                f"{', '.join(repr(name) for name in FILTERS)}."
            )
        return FILTERS[kernel_or_name]
    return as_real_array(kernel_or_name, "kernel", (2,), "(kh, kw)").astype(np.float64)


def apply_filter(image, kernel_or_name, normalize="auto"):
    """Filter a grayscale or colour image with a 2-D kernel, keeping its size.

    Each channel is cross-correlated with the same kernel (like `conv2d` with
    ``padding="same"``: zeros outside the image, Keras' placement for even
    kernel sizes), using ``scipy.ndimage.correlate`` for speed (a 512x512 RGB
    photo takes a few milliseconds).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        uint8 pixels (0-255), or floats (taken to be in [0, 1] for display,
        as after `cifar_helpers.data.scale_pixels`). Other integer or bool
        arrays must hold values in 0-255 and are treated like uint8.
    kernel_or_name : (kh, kw) array_like or str
        A kernel, or a name in `FILTERS` (``"sharpen"``, ``"box_blur"``, ...).
    normalize : {"auto", "clip", "abs", "minmax", None}, default "auto"
        How to make the raw response displayable:

        - ``"clip"``: clip to the input's range (0-255, or 0-1 for floats).
          Right for kernels whose weights sum to 1 (identity, sharpen, blurs).
        - ``"abs"``: absolute response, scaled so that its 99.5th percentile
          (`DISPLAY_PERCENTILE`, over all channels; the maximum if that is 0)
          becomes white, brighter values clipped: edges of either sign show
          bright on black, and a few extreme pixels cannot darken the rest.
        - ``"minmax"``: stretch the response linearly from its 0.5th
          percentile (black) to its 99.5th (white), clipping beyond, so
          negative responses stay darker than positive ones (the sign stays
          visible). A constant response gives 0.
        - ``"auto"``: ``"clip"`` if the weights sum to 1, otherwise ``"abs"``.
        - ``None``: the raw float64 response, no clipping.

    Returns
    -------
    (H, W) or (H, W, C) ndarray
        With ``normalize=None``: float64 raw response. Otherwise display-ready:
        uint8 in 0-255 for integer/bool input, float64 in [0, 1] for float input.

    Raises
    ------
    ValueError
        Wrong ndim, empty, non-numeric or NaN-containing image or kernel,
        integer pixels outside 0-255, an unknown filter name or normalize mode,
        or an image whose float64 response would exceed
        `~cifar_helpers._validation.MAX_OUTPUT_BYTES` (2 GiB).

    Examples
    --------
    >>> image = np.array([[0, 0, 0, 0],
    ...                   [0, 90, 90, 0],
    ...                   [0, 90, 90, 0],
    ...                   [0, 0, 0, 0]], dtype=np.uint8)
    >>> apply_filter(image, "identity")
    array([[ 0,  0,  0,  0],
           [ 0, 90, 90,  0],
           [ 0, 90, 90,  0],
           [ 0,  0,  0,  0]], dtype=uint8)
    >>> apply_filter(image, "box_blur")
    array([[10, 20, 20, 10],
           [20, 40, 40, 20],
           [20, 40, 40, 20],
           [10, 20, 20, 10]], dtype=uint8)
    >>> apply_filter(image, "sharpen")      # 5*90 - 2*90 = 270, clipped to 255
    array([[  0,   0,   0,   0],
           [  0, 255, 255,   0],
           [  0, 255, 255,   0],
           [  0,   0,   0,   0]], dtype=uint8)
    """
    if normalize not in NORMALIZE_MODES:
        raise ValueError(
            f"`normalize` must be one of {', '.join(repr(m) for m in NORMALIZE_MODES)}. "
            f"Received normalize={normalize!r}."
        )
    kernel = _as_filter_kernel(kernel_or_name)
    image = as_real_array(image, "image", (2, 3), "(H, W) or (H, W, C)")
    check_output_size(image.shape, 8, "apply_filter's float64 response")
    integer = image.dtype.kind in "biu"
    if integer and image.dtype != np.uint8 and (image.min() < 0 or image.max() > 255):
        raise ValueError(
            "Integer images must hold pixel values in 0-255. Received values from "
            f"{image.min()} to {image.max()} (dtype {image.dtype})."
        )
    # `origin` makes ndimage place even-sized kernels like Keras' "same" padding.
    origin = [-(1 - size % 2) for size in kernel.shape]
    weights = kernel
    if image.ndim == 3:
        weights = kernel[:, :, None]
        origin.append(0)
    response = ndimage.correlate(
        image.astype(np.float64), weights, mode="constant", cval=0.0, origin=origin
    )
    if normalize is None:
        return response
    top = 255.0 if integer else 1.0
    if normalize == "auto":
        normalize = "clip" if np.isclose(kernel.sum(), 1.0) else "abs"
    # `response` is our own scratch array: update it in place (a redraw must be fast).
    if normalize == "clip":
        np.clip(response, 0.0, top, out=response)
    elif normalize == "abs":
        np.abs(response, out=response)
        peak = _percentile(response, DISPLAY_PERCENTILE) or response.max()
        if peak > 0:
            response *= top / peak
        np.clip(response, 0.0, top, out=response)
    else:  # "minmax"
        low = _percentile(response, 100 - DISPLAY_PERCENTILE)
        high = _percentile(response, DISPLAY_PERCENTILE)
        if high <= low:
            low, high = response.min(), response.max()
        response -= low
        if high > low:
            response *= top / (high - low)
        np.clip(response, 0.0, top, out=response)
    if integer:
        response += 0.5  # round half up: every value is >= 0 here
        return response.astype(np.uint8)
    return response
