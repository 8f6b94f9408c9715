"""Name the clusters after classes, and score how well they match the labels.

:func:`contingency_matrix` counts the classes in each cluster;
:func:`majority_vote_mapping` and :func:`one_to_one_mapping` turn cluster ids into
class names, :func:`apply_mapping` turns them into predictions; :func:`purity`
and :func:`matched_accuracy` score the clustering.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._validation import check_int
from ..data import CLASS_NAMES
from ._checks import _check_ids, _check_pair, _check_size

__all__ = [
    "apply_mapping",
    "contingency_matrix",
    "evaluate_clustering",
    "format_contingency",
    "majority_vote_mapping",
    "matched_accuracy",
    "one_to_one_mapping",
    "purity",
]


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
    width = check_int(width, "width", minimum=2)
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
            "`mapping` must be a 1-D array of integer classes, one per cluster. "
            f"Received dtype={mapping.dtype}, shape={mapping.shape}."
        )
    if clusters.max() >= len(mapping):
        raise ValueError(
            f"`mapping` has {len(mapping)} entries but `clusters` holds id {clusters.max()}: "
            "it must have one entry per cluster."
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
