"""Unsupervised classification: cluster images with k-means, then name the clusters.

Supervised classification learns from labelled examples. Unsupervised
classification never looks at the labels while it learns: it groups the images
into clusters of similar images, and only afterwards is each cluster given a
class name. How good the clusters are depends almost entirely on the features
the images are described by, so this module offers three:

* :func:`pixel_features`: the raw pixels, one long vector per image;
* :func:`handmade_features`: colour histograms plus two edge-filter statistics;
* :func:`layer_features`: the activations of one layer of a trained Keras model
  (for the course's CNN, the ``Dense(512)`` layer just before the classifier).

:func:`kmeans_clusters` groups the feature vectors; :func:`majority_vote_mapping`
and :func:`one_to_one_mapping` turn cluster ids into class names; :func:`purity`
and :func:`matched_accuracy` score the result.

This module imports NumPy, SciPy and scikit-learn only; Keras is imported inside
:func:`layer_features` and Matplotlib inside the plotting functions.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.optimize import linear_sum_assignment

from .data import CLASS_NAMES

__all__ = [
    "EDGE_KERNELS",
    "KMEANS_METHODS",
    "apply_mapping",
    "color_histogram_features",
    "contingency_matrix",
    "edge_features",
    "evaluate_clustering",
    "format_contingency",
    "handmade_features",
    "kmeans_clusters",
    "layer_features",
    "majority_vote_mapping",
    "matched_accuracy",
    "one_to_one_mapping",
    "pixel_features",
    "plot_cluster_samples",
    "plot_projection",
    "project_2d",
    "purity",
    "sample_indices_per_cluster",
    "standardize",
]

#: The two difference kernels :func:`edge_features` slides over the grey image
#: (the smallest edge detectors there are: the response is the change from one
#: pixel to the next, down the rows and across the columns).
EDGE_KERNELS = {
    "rows": np.array([[-1.0], [1.0]]),  # (2, 1): responds to horizontal edges
    "cols": np.array([[-1.0, 1.0]]),  # (1, 2): responds to vertical edges
}

#: Allowed values of ``kmeans_clusters(method=...)``.
KMEANS_METHODS = ("kmeans", "minibatch")


# --------------------------------------------------------------------------- validation


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` should be an integer >= {minimum}. Received {name}={value!r}.")
    return int(value)


def _check_images(images):
    """Return `images` as an (N, H, W, C) array, uint8 or float in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            "`images` should be a batch of channels-last images of shape (N, H, W, C). "
            f"Received an array of shape {images.shape} (ndim={images.ndim})."
        )
    if images.shape[0] == 0:
        raise ValueError("`images` should hold at least one image. Received shape "
                         f"{images.shape}.")
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "`images` should be uint8 pixels in 0..255 or floats in [0, 1]. "
            f"Received dtype={images.dtype}."
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("`images` should hold finite values. Received NaN or infinity.")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            "float `images` should lie in [0, 1] (use scale_pixels on uint8 images). "
            f"Received values from {low:g} to {high:g}."
        )
    return images


def _as_unit_float(images):
    """(N, H, W, C) images as float32 in [0, 1]."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return images.astype(np.float32, copy=False)


def _check_features(features):
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(
            "`features` should be a 2-D array of shape (N, D): one row of D numbers per "
            f"image. Received shape {features.shape} (ndim={features.ndim})."
        )
    if not (np.issubdtype(features.dtype, np.number) and not np.iscomplexobj(features)):
        raise ValueError(f"`features` should be real numbers. Received dtype={features.dtype}.")
    if features.shape[1] == 0:
        raise ValueError(f"`features` should have at least one column. Received shape "
                         f"{features.shape}.")
    if not np.all(np.isfinite(features)):
        bad = int(np.count_nonzero(~np.isfinite(features)))
        raise ValueError(
            "`features` should hold finite numbers. "
            f"Received {bad} NaN or infinite value(s)."
        )
    return features


def _check_ids(name, values):
    """A 1-D array of non-negative integer ids; (N, 1) columns are flattened."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            f"`{name}` should have shape (N,) or (N, 1). Received shape {values.shape}."
        )
    if values.size == 0:
        raise ValueError(f"`{name}` should hold at least one value. Received an empty array.")
    if not np.issubdtype(values.dtype, np.integer):
        if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
            raise ValueError(f"`{name}` should be integers. Received NaN or infinity.")
        raise ValueError(f"`{name}` should be integers. Received dtype={values.dtype}.")
    if values.min() < 0:
        raise ValueError(
            f"`{name}` should be non-negative integers. Received a minimum of {values.min()}."
        )
    return values.astype(np.intp)


def _check_pair(clusters, labels):
    clusters = _check_ids("clusters", clusters)
    labels = _check_ids("labels", labels)
    if len(clusters) != len(labels):
        raise ValueError(
            "`clusters` and `labels` should have the same length (one cluster id and "
            f"one class per image). Received len(clusters)={len(clusters)}, "
            f"len(labels)={len(labels)}."
        )
    return clusters, labels


def _check_size(name, value, ids, role):
    """`value` (None: max(ids) + 1) must cover every id in `ids`."""
    needed = int(ids.max()) + 1
    if value is None:
        return needed
    value = _check_int(name, value, 1)
    if value < needed:
        raise ValueError(
            f"`{name}`={value} is too small: the {role} ids go up to {needed - 1}, so "
            f"{name} should be at least {needed}."
        )
    return value


# --------------------------------------------------------------------------- features


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
    bins = _check_int("bins", bins, 2)
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
            "`images` should be at least 2×2 pixels for the edge kernels. "
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

    A new ``keras.Model(model.inputs, layer.output)`` shares the trained
    weights and stops at `layer`; its outputs are computed in batches.

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
        What the model takes as input (for the course's CNN, ``scale_pixels(x)``).
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
    import keras  # only this function needs Keras

    batch_size = _check_int("batch_size", batch_size, 1)
    names = [each.name for each in model.layers]
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"`layer` should be one of the model's layer names {names}. "
                             f"Received layer={layer!r}.")
        chosen = model.layers[names.index(layer)]
    elif isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        if not -len(names) <= layer < len(names):
            raise ValueError(
                f"`layer` index should be in {-len(names)}..{len(names) - 1} for a model "
                f"with {len(names)} layers. Received layer={layer}."
            )
        chosen = model.layers[layer]
    else:
        raise ValueError(
            "`layer` should be a layer name (str) or an index into model.layers (int). "
            f"Received {type(layer).__name__}: {layer!r}."
        )
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(
            "`images` should be a non-empty batch of shape (N, ...). "
            f"Received shape {images.shape}."
        )
    feature_model = keras.Model(model.inputs, chosen.output)
    outputs = feature_model.predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(outputs, dtype=np.float32).reshape(len(images), -1)


# --------------------------------------------------------------------------- clustering


def kmeans_clusters(features, n_clusters=10, seed=0, n_init=3, method="kmeans",
                    batch_size=1024):
    """Group feature vectors into `n_clusters` clusters with k-means.

    k-means looks for `n_clusters` centres and puts every vector in the cluster
    of its nearest centre (Euclidean distance), moving the centres to the mean
    of their members until nothing changes. It never sees a label.

    Parameters
    ----------
    features : (N, D) ndarray
        One row per image; N must be at least `n_clusters`.
    n_clusters : int
        The number of clusters k (at least 2).
    seed : int
        ``random_state`` of scikit-learn's estimator: the same seed gives the
        same clusters.
    n_init : int
        Runs from different k-means++ starts; the one with the lowest inertia
        (sum of squared distances to the centres) is kept.
    method : {"kmeans", "minibatch"}
        ``sklearn.cluster.KMeans`` (exact Lloyd iterations) or
        ``MiniBatchKMeans`` (updates from random batches: faster, a little worse).
    batch_size : int
        Batch size of ``MiniBatchKMeans`` (unused by ``"kmeans"``).

    Returns
    -------
    (N,) int ndarray
        The cluster id, ``0 .. n_clusters - 1``, of each row. The ids are
        arbitrary names: renumbering them describes the same clustering.

    Raises
    ------
    ValueError
        If `features` is not 2-D or holds NaN/infinity, if `n_clusters` < 2, if
        there are fewer rows than clusters, or if `method` is unknown.

    Examples
    --------
    Four numbers on a line form two obvious pairs:

    >>> points = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> clusters = kmeans_clusters(points, n_clusters=2, seed=0)
    >>> bool(clusters[0] == clusters[1]), bool(clusters[2] == clusters[3])
    (True, True)
    >>> bool(clusters[0] != clusters[2])
    True
    """
    features = _check_features(features)
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral) \
            or n_clusters < 2:
        raise ValueError(
            "`n_clusters` should be an integer >= 2 (one cluster cannot separate "
            f"anything). Received n_clusters={n_clusters!r}."
        )
    if len(features) < n_clusters:
        raise ValueError(
            f"k-means needs at least as many samples as clusters: n_clusters={n_clusters} "
            f"but `features` has only {len(features)} row(s)."
        )
    n_init = _check_int("n_init", n_init, 1)
    if method not in KMEANS_METHODS:
        raise ValueError(f"`method` should be one of {KMEANS_METHODS}. Received method={method!r}.")
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if method == "kmeans":
        estimator = KMeans(n_clusters=int(n_clusters), n_init=n_init, random_state=seed)
    else:
        estimator = MiniBatchKMeans(
            n_clusters=int(n_clusters), n_init=n_init, random_state=seed,
            batch_size=_check_int("batch_size", batch_size, 1),
        )
    return estimator.fit_predict(features).astype(np.intp)


# --------------------------------------------------------------------------- naming clusters


def contingency_matrix(clusters, labels, n_clusters=None, num_classes=None):
    """Count how many images of each class landed in each cluster.

    Parameters
    ----------
    clusters : (N,) int ndarray
        Cluster id of each image.
    labels : (N,) or (N, 1) int ndarray
        True class of each image.
    n_clusters, num_classes : int, optional
        Rows and columns of the table (default: the largest id + 1). Pass
        ``num_classes=10`` to keep a column for a class missing from a subset.

    Returns
    -------
    (n_clusters, num_classes) int ndarray
        ``counts[k, c]`` is the number of images of class ``c`` in cluster ``k``.

    Examples
    --------
    >>> contingency_matrix([0, 0, 1, 1, 1], [2, 2, 0, 0, 1])
    array([[0, 0, 2],
           [2, 1, 0]])
    """
    clusters, labels = _check_pair(clusters, labels)
    n_clusters = _check_size("n_clusters", n_clusters, clusters, "cluster")
    num_classes = _check_size("num_classes", num_classes, labels, "class")
    flat = np.bincount(clusters * num_classes + labels, minlength=n_clusters * num_classes)
    return flat.reshape(n_clusters, num_classes).astype(np.int64)


def format_contingency(clusters, labels, class_names=CLASS_NAMES, n_clusters=None, width=6):
    """The contingency table as text: one row per cluster, one column per class.

    Parameters
    ----------
    clusters : (N,) int ndarray
    labels : (N,) or (N, 1) int ndarray
    class_names : sequence of str
        Column headings (cut to ``width - 1`` characters); one per class.
    n_clusters : int, optional
        Rows (default: the largest cluster id + 1).
    width : int
        Characters per column.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_contingency([0, 0, 1, 1, 1], [2, 2, 0, 0, 1], ["cat", "dog", "frog"]))
                 cat   dog  frog
    cluster 0      0     0     2
    cluster 1      2     1     0
    """
    width = _check_int("width", width, 2)
    counts = contingency_matrix(clusters, labels, n_clusters, len(class_names))
    label_width = len(f"cluster {len(counts) - 1}")
    lines = [" " * label_width + "".join(f"{name[:width - 1]:>{width}}" for name in class_names)]
    for k, row in enumerate(counts):
        lines.append(f"{f'cluster {k}':<{label_width}}"
                     + "".join(f"{count:>{width}}" for count in row))
    return "\n".join(lines)


def majority_vote_mapping(clusters, labels, n_clusters=None, num_classes=None):
    """Name each cluster after the most common true class among its members.

    Several clusters may get the same class, and some classes none. A tie goes
    to the smaller class index; an empty cluster gets ``-1`` (no class).

    Parameters
    ----------
    clusters, labels, n_clusters, num_classes
        As in :func:`contingency_matrix`.

    Returns
    -------
    (n_clusters,) int ndarray
        ``mapping[k]`` is the class given to cluster ``k``.

    Examples
    --------
    Clusters 0 and 1 are both mostly class 0, so both are called class 0:

    >>> clusters = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    >>> labels = [0, 0, 1, 0, 0, 2, 1, 1, 2]
    >>> majority_vote_mapping(clusters, labels)
    array([0, 0, 1])
    """
    counts = contingency_matrix(clusters, labels, n_clusters, num_classes)
    mapping = counts.argmax(axis=1)
    mapping[counts.sum(axis=1) == 0] = -1
    return mapping.astype(np.intp)


def one_to_one_mapping(clusters, labels, n_clusters=None, num_classes=None):
    """Give each cluster a different class, matching as many images as possible.

    This is the assignment problem on the contingency table: choose at most one
    class per cluster and one cluster per class so that the total count on the
    chosen cells is as large as possible. ``scipy.optimize.linear_sum_assignment``
    solves it exactly (a shortest-augmenting-path relative of the Hungarian
    method), without trying all k! pairings. With more clusters than classes
    the leftover clusters get ``-1`` (no class).

    Parameters
    ----------
    clusters, labels, n_clusters, num_classes
        As in :func:`contingency_matrix`.

    Returns
    -------
    (n_clusters,) int ndarray
        ``mapping[k]`` is the class given to cluster ``k``; no class appears
        twice. With as many clusters as classes it is a permutation.

    Examples
    --------
    The case of :func:`majority_vote_mapping`: now cluster 1 cannot also be
    class 0, so it takes class 2, its second-best class.

    >>> clusters = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    >>> labels = [0, 0, 1, 0, 0, 2, 1, 1, 2]
    >>> one_to_one_mapping(clusters, labels)
    array([0, 2, 1])
    """
    counts = contingency_matrix(clusters, labels, n_clusters, num_classes)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = np.full(len(counts), -1, dtype=np.intp)
    mapping[rows] = cols
    return mapping


def apply_mapping(clusters, mapping):
    """Turn cluster ids into predicted classes: ``mapping[clusters]``.

    Parameters
    ----------
    clusters : (N,) int ndarray
    mapping : (n_clusters,) int ndarray
        A class (or ``-1``, no class) per cluster.

    Returns
    -------
    (N,) int ndarray

    Examples
    --------
    >>> apply_mapping([0, 2, 1, 2], [5, 3, -1])
    array([ 5, -1,  3, -1])
    """
    clusters = _check_ids("clusters", clusters)
    mapping = np.asarray(mapping)
    if mapping.ndim != 1 or not np.issubdtype(mapping.dtype, np.integer):
        raise ValueError(
            "`mapping` should be a 1-D array of integer classes, one per cluster. "
            f"Received dtype={mapping.dtype}, shape={mapping.shape}."
        )
    if clusters.max() >= len(mapping):
        raise ValueError(
            f"`mapping` has {len(mapping)} entries but `clusters` holds id {clusters.max()}: "
            "it should have one entry per cluster."
        )
    return mapping[clusters].astype(np.intp)


def purity(clusters, labels):
    """Fraction of images whose cluster's majority class is their own class.

    ``purity = sum_k max_c counts[k, c] / N``: the accuracy of the
    majority-vote naming. More clusters never lower it (with one cluster per
    image it reaches 1), so compare purities only at the same k.

    Parameters
    ----------
    clusters : (N,) int ndarray
    labels : (N,) or (N, 1) int ndarray

    Returns
    -------
    float in (0, 1]

    Examples
    --------
    >>> purity([0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 0, 0, 2, 1, 1, 2])  # 6 / 9
    0.6667
    """
    counts = contingency_matrix(clusters, labels)
    return float(counts.max(axis=1).sum() / counts.sum())


def matched_accuracy(clusters, labels):
    """Accuracy after the best one-to-one naming of clusters (see :func:`one_to_one_mapping`).

    It never exceeds :func:`purity` and, with k equal to the number of classes,
    is the fair score of an unsupervised classifier: each class is claimed by one
    cluster only.

    Parameters
    ----------
    clusters : (N,) int ndarray
    labels : (N,) or (N, 1) int ndarray

    Returns
    -------
    float in (0, 1]

    Examples
    --------
    >>> matched_accuracy([0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 0, 0, 2, 1, 1, 2])  # 5 / 9
    0.5556
    """
    counts = contingency_matrix(clusters, labels)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / counts.sum())


def evaluate_clustering(clusters, labels):
    """Purity and matched accuracy of a clustering, as a dict (one table row).

    Examples
    --------
    >>> scores = evaluate_clustering([0, 0, 1, 1], [1, 1, 0, 0])
    >>> scores["purity"], scores["matched_accuracy"]
    (1.0, 1.0)
    """
    return {"purity": purity(clusters, labels),
            "matched_accuracy": matched_accuracy(clusters, labels)}


# --------------------------------------------------------------------------- pictures


def project_2d(features, seed=0):
    """Project feature vectors onto their first two principal components (PCA).

    Parameters
    ----------
    features : (N, D) ndarray, with N >= 2 and D >= 2
    seed : int
        ``random_state`` of ``sklearn.decomposition.PCA`` (its randomized
        solver is used for large inputs).

    Returns
    -------
    (N, 2) float ndarray
        Coordinates along the two directions of largest variance.

    Examples
    --------
    Points on a line: everything lies along the first component.

    >>> line = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> np.abs(project_2d(line)).round(3)
    array([[1.414, 0.   ],
           [0.   , 0.   ],
           [1.414, 0.   ]])
    """
    features = _check_features(features)
    if features.shape[0] < 2 or features.shape[1] < 2:
        raise ValueError(
            "`features` should have at least 2 rows and 2 columns for a 2-D projection. "
            f"Received shape {features.shape}."
        )
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(features)


def sample_indices_per_cluster(clusters, n_per_cluster, seed=0):
    """Pick up to `n_per_cluster` random members of every cluster.

    Parameters
    ----------
    clusters : (N,) int ndarray
    n_per_cluster : int
    seed : int

    Returns
    -------
    list of (m,) int ndarrays
        Entry ``k`` holds sorted indices of members of cluster ``k``
        (``m = min(n_per_cluster, size of cluster k)``).

    Examples
    --------
    >>> [list(map(int, ix)) for ix in sample_indices_per_cluster([1, 0, 1, 1], 5)]
    [[1], [0, 2, 3]]
    """
    clusters = _check_ids("clusters", clusters)
    n_per_cluster = _check_int("n_per_cluster", n_per_cluster, 1)
    rng = np.random.default_rng(seed)
    chosen = []
    for k in range(int(clusters.max()) + 1):
        members = np.flatnonzero(clusters == k)
        take = min(n_per_cluster, len(members))
        chosen.append(np.sort(rng.choice(members, size=take, replace=False)))
    return chosen


def plot_cluster_samples(images, clusters, mapping, labels=None, class_names=CLASS_NAMES,
                         n_per_cluster=8, seed=0, fig=None):
    """Show a row of random members for each cluster, titled with its class.

    Rows are sorted by the class each cluster was given. If `labels` is given,
    each image gets a green frame when its true class is the cluster's class
    and a red frame otherwise.

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray
    clusters : (N,) int ndarray
    mapping : (n_clusters,) int ndarray
        Class of each cluster (``-1``: none), e.g. from :func:`one_to_one_mapping`.
    labels : (N,) int ndarray, optional
        True classes, for the frames.
    class_names : sequence of str
    n_per_cluster : int
    seed : int
        Which members are shown.
    fig : matplotlib Figure, optional
        Drawn into (a new one is made if omitted).

    Returns
    -------
    (n_clusters, n_per_cluster) ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    images = _check_images(images)
    clusters = _check_ids("clusters", clusters)
    if len(clusters) != len(images):
        raise ValueError(
            "`clusters` should have one id per image. Received "
            f"{len(clusters)} ids for {len(images)} images."
        )
    mapping = np.asarray(mapping)
    if mapping.ndim != 1 or len(mapping) <= clusters.max():
        raise ValueError(
            f"`mapping` should have one class per cluster ({clusters.max() + 1} or more). "
            f"Received shape {mapping.shape}."
        )
    if labels is not None:
        labels = _check_pair(clusters, labels)[1]
    picks = sample_indices_per_cluster(clusters, n_per_cluster, seed=seed)
    order = sorted(range(len(picks)), key=lambda k: (mapping[k] < 0, mapping[k], k))
    if fig is None:
        fig = plt.figure(figsize=(1.1 * n_per_cluster + 1.6, 1.15 * len(picks)))
    axes = fig.subplots(len(picks), n_per_cluster, squeeze=False)
    sizes = np.bincount(clusters, minlength=len(picks))
    for row, k in enumerate(order):
        name = class_names[mapping[k]] if mapping[k] >= 0 else "(no class)"
        axes[row, 0].set_ylabel(f"cluster {k}\n→ {name}\n({sizes[k]} images)",
                                rotation=0, ha="right", va="center", fontsize=8)
        for col in range(n_per_cluster):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col >= len(picks[k]):
                ax.set_frame_on(False)
                continue
            index = picks[k][col]
            ax.imshow(images[index], interpolation="nearest")
            if labels is not None:
                colour = "tab:green" if labels[index] == mapping[k] else "tab:red"
                for spine in ax.spines.values():
                    spine.set_color(colour)
                    spine.set_linewidth(2.5)
    return axes


def plot_projection(points, labels, class_names=CLASS_NAMES, ax=None, title=None,
                    point_size=4):
    """Scatter 2-D points (e.g. from :func:`project_2d`) coloured by true class.

    Parameters
    ----------
    points : (N, 2) ndarray
    labels : (N,) or (N, 1) int ndarray
    class_names : sequence of str
        Legend entries, indexed by class.
    ax : matplotlib Axes, optional
    title : str, optional
    point_size : float

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    points = _check_features(points)
    if points.shape[1] != 2:
        raise ValueError(f"`points` should have shape (N, 2). Received shape {points.shape}.")
    labels = _check_ids("labels", labels)
    if len(labels) != len(points):
        raise ValueError(
            f"`labels` should have one class per point. Received {len(labels)} labels "
            f"for {len(points)} points."
        )
    if labels.max() >= len(class_names):
        raise ValueError(
            f"`class_names` should name every class: labels go up to {labels.max()}, "
            f"but only {len(class_names)} names were given."
        )
    if ax is None:
        ax = plt.gca()
    colours = plt.get_cmap("tab10")
    for c in np.unique(labels):
        where = labels == c
        ax.scatter(points[where, 0], points[where, 1], s=point_size, alpha=0.6,
                   color=colours(c % 10), label=class_names[c], linewidths=0)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    if title is not None:
        ax.set_title(title)
    return ax
