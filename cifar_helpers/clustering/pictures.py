"""Pictures of a clustering: a 2-D projection and sample members of each cluster.

scikit-learn is imported inside :func:`project_2d`, Matplotlib inside the
plotting functions.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..data import CLASS_NAMES
from ._checks import _check_features, _check_ids, _check_images, _check_pair

__all__ = [
    "plot_cluster_samples",
    "plot_projection",
    "project_2d",
    "sample_indices_per_cluster",
]


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
            "`features` must have at least 2 rows and 2 columns for a 2-D projection. "
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
    n_per_cluster = check_int(n_per_cluster, "n_per_cluster", minimum=1)
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
            "`clusters` must have one id per image. Received "
            f"{len(clusters)} ids for {len(images)} images."
        )
    mapping = np.asarray(mapping)
    if mapping.ndim != 1 or len(mapping) <= clusters.max():
        raise ValueError(
            f"`mapping` must have one class per cluster ({clusters.max() + 1} or more). "
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
        raise ValueError(f"`points` must have shape (N, 2). Received shape {points.shape}.")
    labels = _check_ids("labels", labels)
    if len(labels) != len(points):
        raise ValueError(
            f"`labels` must have one class per point. Received {len(labels)} labels "
            f"for {len(points)} points."
        )
    if labels.max() >= len(class_names):
        raise ValueError(
            f"`class_names` must name every class: labels go up to {labels.max()}, "
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
