"""Three ways to describe an image as one row of numbers, for k-means to group.

* :func:`pixel_features`: the raw pixels, one long vector per image;
* :func:`handmade_features`: colour histograms (:func:`color_histogram_features`)
  plus two edge-filter statistics (:func:`edge_features`);
* :func:`layer_features`: the activations of one layer of a trained Keras model.

:func:`standardize` puts the columns on one scale before k-means compares them.
Keras is imported inside :func:`layer_features` only.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, is_int
from ._checks import _as_unit_float, _check_features, _check_images

__all__ = [
    "EDGE_KERNELS",
    "color_histogram_features",
    "edge_features",
    "handmade_features",
    "layer_features",
    "pixel_features",
    "standardize",
]

#: The two difference kernels :func:`edge_features` slides over the grey image
#: (the smallest edge detectors there are: the response is the change from one
#: pixel to the next, down the rows and across the columns).
EDGE_KERNELS = {
    "rows": np.array([[-1.0], [1.0]]),  # (2, 1): responds to horizontal edges
    "cols": np.array([[-1.0, 1.0]]),  # (1, 2): responds to vertical edges
}


def pixel_features(images):
    """Flatten each image into one vector of its pixel values in [0, 1].

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray
        uint8 pixels are divided by 255; floats must already lie in [0, 1].

    Returns
    -------
    (N, H * W * C) float32 ndarray

    Raises
    ------
    ValueError
        If `images` is not 4-D, is empty, or holds NaN or values outside [0, 1].

    Examples
    --------
    >>> images = np.zeros((2, 2, 2, 3), dtype=np.uint8)
    >>> images[1] = 255
    >>> features = pixel_features(images)
    >>> features.shape
    (2, 12)
    >>> features[:, :4]
    array([[0., 0., 0., 0.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    images = _as_unit_float(_check_images(images))
    return images.reshape(len(images), -1)


def color_histogram_features(images, bins=4):
    """Per-channel colour histograms: the fraction of pixels in each intensity bin.

    Each channel's range [0, 1] is cut into `bins` equal bins; a pixel of value
    ``v`` falls into bin ``min(floor(v * bins), bins - 1)``.

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray
    bins : int
        Bins per channel (at least 2).

    Returns
    -------
    (N, C * bins) float32 ndarray
        Channel 0's histogram, then channel 1's, …; each sums to 1.

    Examples
    --------
    A pure red 1×2 image: all red values in the top bin, green and blue in the
    bottom one.

    >>> red = np.zeros((1, 1, 2, 3), dtype=np.uint8)
    >>> red[..., 0] = 255
    >>> color_histogram_features(red, bins=2)
    array([[0., 1., 1., 0., 1., 0.]], dtype=float32)
    """
    images = _as_unit_float(_check_images(images))
    bins = check_int(bins, "bins", minimum=2)
    n_images, height, width, channels = images.shape
    which = np.minimum((images * bins).astype(np.intp), bins - 1)  # (N, H, W, C)
    # One flat bincount: image n, channel c, bin b -> n * C * bins + c * bins + b.
    offsets = (np.arange(n_images)[:, None, None, None] * channels
               + np.arange(channels)) * bins
    counts = np.bincount((which + offsets).ravel(), minlength=n_images * channels * bins)
    histograms = counts.reshape(n_images, channels * bins).astype(np.float32)
    return histograms / np.float32(height * width)


def edge_features(images):
    """Mean absolute response of the grey image to the two `EDGE_KERNELS`.

    The grey image is the mean of the channels. Sliding ``[[-1], [1]]`` down the
    rows gives ``grey[i + 1, j] - grey[i, j]``, sliding ``[[-1, 1]]`` along the
    columns gives ``grey[i, j + 1] - grey[i, j]`` (cross-correlation with
    ``padding="valid"``). Busy, textured images score high, smooth ones low.

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray, with H >= 2 and W >= 2

    Returns
    -------
    (N, 2) float32 ndarray
        Column 0: mean |row difference|; column 1: mean |column difference|.

    Examples
    --------
    Vertical stripes change from column to column but never down a column:

    >>> stripes = np.zeros((1, 2, 4, 1), dtype=np.uint8)
    >>> stripes[:, :, 1::2] = 255
    >>> edge_features(stripes)
    array([[0., 1.]], dtype=float32)
    """
    images = _as_unit_float(_check_images(images))
    if images.shape[1] < 2 or images.shape[2] < 2:
        raise ValueError(
            "`images` must be at least 2×2 pixels for the edge kernels. "
            f"Received shape {images.shape}."
        )
    grey = images.mean(axis=3)
    down_rows = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2))
    along_cols = np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
    return np.stack([down_rows, along_cols], axis=1).astype(np.float32)


def handmade_features(images, bins=4):
    """A simple hand-made description: colour histograms plus two edge statistics.

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray
    bins : int
        Bins per channel of :func:`color_histogram_features`.

    Returns
    -------
    (N, C * bins + 2) float32 ndarray
        ``color_histogram_features(images, bins)`` followed by
        ``edge_features(images)``.

    Examples
    --------
    >>> images = np.zeros((5, 32, 32, 3), dtype=np.uint8)
    >>> handmade_features(images).shape  # 3 channels x 4 bins + 2 edge statistics
    (5, 14)
    """
    return np.concatenate(
        [color_histogram_features(images, bins=bins), edge_features(images)], axis=1
    )


def standardize(features):
    """Rescale every column to mean 0 and standard deviation 1 (z-scores).

    k-means compares images by Euclidean distance, so a column with a large
    spread would outvote the others. Standardising puts them on one scale.
    Constant columns become 0.

    Parameters
    ----------
    features : (N, D) ndarray

    Returns
    -------
    (N, D) float ndarray
        ``(features - mean) / std`` column by column (means and standard
        deviations of these N rows).

    Examples
    --------
    >>> standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    features = _check_features(features).astype(np.float64)
    spread = features.std(axis=0)
    spread[spread == 0] = 1.0
    return (features - features.mean(axis=0)) / spread


def layer_features(model, layer, images, batch_size=256):
    """Run `images` through a Keras model and return one layer's activations.

    `cifar_helpers.predict.layer_outputs` reads the layer's output (a model
    that shares the trained weights and stops at `layer`), in batches.

    Parameters
    ----------
    model : keras.Model
        A built model (a Sequential model that starts with ``keras.Input`` or a
        functional model), e.g. the course's trained CNN.
    layer : str or int
        The layer's name, or its index in ``model.layers`` (negative counts from
        the end: ``-3`` is the ``Dense(512)`` layer of the course's CNN, which
        ends ``Dense(512) → Dropout → Dense(10)``).
    images : (N, ...) ndarray
        What the model takes as input: uint8 pixels (scaled here) or floats in
        [0, 1] (for the course's CNN, ``scale_pixels(x)``).
    batch_size : int
        Images per ``predict`` batch.

    Returns
    -------
    (N, D) float32 ndarray
        The layer's output for each image, flattened (D is the product of the
        layer's output shape without the batch axis).

    Raises
    ------
    ValueError
        If `layer` names no layer (the message lists the names) or its index is
        out of range, or if `batch_size` is not a positive integer.

    Examples
    --------
    A layer with all-ones weights adds up its three inputs:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
    ...     2, kernel_initializer="ones", name="hidden")])
    >>> layer_features(model, "hidden", np.ones((1, 3)))
    array([[3., 3.]], dtype=float32)
    """
    from ..predict import layer_outputs  # runs the model with Keras

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    names = [each.name for each in model.layers]
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"`layer` must be one of the model's layer names {names}. "
                             f"Received layer={layer!r}.")
        chosen = model.layers[names.index(layer)]
    elif is_int(layer):
        if not -len(names) <= layer < len(names):
            raise ValueError(
                f"`layer` index must be in {-len(names)}..{len(names) - 1} for a model "
                f"with {len(names)} layers. Received layer={layer}."
            )
        chosen = model.layers[layer]
    else:
        raise ValueError(
            "`layer` must be a layer name (str) or an index into model.layers (int). "
            f"Received {type(layer).__name__}: {layer!r}."
        )
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(
            "`images` must be a non-empty batch of shape (N, ...). "
            f"Received shape {images.shape}."
        )
    outputs = layer_outputs(model, images, [chosen.name], batch_size=batch_size)[chosen.name]
    return np.asarray(outputs, dtype=np.float32).reshape(len(images), -1)
