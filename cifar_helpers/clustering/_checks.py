"""Input checks shared by the clustering modules (private; NumPy only).

Each check raises a ``ValueError`` that says what was expected and what was
received, in the words of `cifar_helpers._validation` (whose `check_int` the
clustering modules use for integer settings), and returns the checked value in
the form the callers work with.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, class_indices
from ..data import scale_pixels


def _check_images(images):
    """Return `images` as an (N, H, W, C) array, uint8 or float in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            "`images` must be a batch of channels-last images of shape (N, H, W, C). "
            f"Received an array of shape {images.shape} (ndim={images.ndim})."
        )
    if images.shape[0] == 0:
        raise ValueError("`images` must hold at least one image. Received shape "
                         f"{images.shape}.")
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "`images` must be uint8 pixels in 0..255 or floats in [0, 1]. "
            f"Received dtype={images.dtype}."
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("`images` must hold finite values. Received NaN or infinity.")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            "float `images` must lie in [0, 1] (use scale_pixels on uint8 images). "
            f"Received values from {low:g} to {high:g}."
        )
    return images


def _as_unit_float(images):
    """(N, H, W, C) images as float32 in [0, 1]."""
    if images.dtype == np.uint8:
        return scale_pixels(images)
    return images.astype(np.float32, copy=False)


def _check_features(features):
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(
            "`features` must be a 2-D array of shape (N, D): one row of D numbers per "
            f"image. Received shape {features.shape} (ndim={features.ndim})."
        )
    if not (np.issubdtype(features.dtype, np.number) and not np.iscomplexobj(features)):
        raise ValueError(f"`features` must be real numbers. Received dtype={features.dtype}.")
    if features.shape[1] == 0:
        raise ValueError(f"`features` must have at least one column. Received shape "
                         f"{features.shape}.")
    if not np.all(np.isfinite(features)):
        bad = int(np.count_nonzero(~np.isfinite(features)))
        raise ValueError(
            "`features` must hold finite numbers. "
            f"Received {bad} NaN or infinite value(s)."
        )
    return features


def _check_ids(name, values):
    """A 1-D array of non-negative integer ids; (N, 1) columns are flattened."""
    return class_indices(values, name, allow_empty=False).astype(np.intp)


def _check_pair(clusters, labels):
    clusters = _check_ids("clusters", clusters)
    labels = _check_ids("labels", labels)
    if len(clusters) != len(labels):
        raise ValueError(
            "`clusters` and `labels` must have the same length (one cluster id and "
            f"one class per image). Received len(clusters)={len(clusters)}, "
            f"len(labels)={len(labels)}."
        )
    return clusters, labels


def _check_size(name, value, ids, role):
    """`value` (None: max(ids) + 1) must cover every id in `ids`."""
    needed = int(ids.max()) + 1
    if value is None:
        return needed
    value = check_int(value, name, minimum=1)
    if value < needed:
        raise ValueError(
            f"`{name}`={value} is too small: the {role} ids go up to {needed - 1}, so "
            f"{name} must be at least {needed}."
        )
    return value
