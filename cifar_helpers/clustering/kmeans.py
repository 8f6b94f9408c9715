"""k-means: group feature vectors into clusters without looking at a label.

scikit-learn is imported inside :func:`kmeans_clusters`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, is_int
from ._checks import _check_features

__all__ = ["KMEANS_METHODS", "kmeans_clusters"]

#: Allowed values of ``kmeans_clusters(method=...)``.
KMEANS_METHODS = ("kmeans", "minibatch")


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
    if not is_int(n_clusters) or n_clusters < 2:
        raise ValueError(
            "`n_clusters` must be an integer >= 2 (one cluster cannot separate "
            f"anything). Received n_clusters={n_clusters!r}."
        )
    if len(features) < n_clusters:
        raise ValueError(
            f"k-means needs at least as many samples as clusters: n_clusters={n_clusters} "
            f"but `features` has only {len(features)} row(s)."
        )
    n_init = check_int(n_init, "n_init", minimum=1)
    if method not in KMEANS_METHODS:
        raise ValueError(f"`method` must be one of {KMEANS_METHODS}. Received method={method!r}.")
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if method == "kmeans":
        estimator = KMeans(n_clusters=int(n_clusters), n_init=n_init, random_state=seed)
    else:
        estimator = MiniBatchKMeans(
            n_clusters=int(n_clusters), n_init=n_init, random_state=seed,
            batch_size=check_int(batch_size, "batch_size", minimum=1),
        )
    return estimator.fit_predict(features).astype(np.intp)
