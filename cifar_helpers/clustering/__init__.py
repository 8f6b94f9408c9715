"""Unsupervised classification: cluster images with k-means, then name the clusters.

Supervised classification learns from labelled examples. Unsupervised
classification never looks at the labels while it learns: it groups the images
into clusters of similar images, and only afterwards is each cluster given a
class name. How good the clusters are depends almost entirely on the features
the images are described by, so this package offers three:

* :func:`pixel_features`: the raw pixels, one long vector per image;
* :func:`handmade_features`: colour histograms plus two edge-filter statistics;
* :func:`layer_features`: the activations of one layer of a trained Keras model
  (for the course's CNN, the ``Dense(512)`` layer just before the classifier).

:func:`kmeans_clusters` groups the feature vectors; :func:`majority_vote_mapping`
and :func:`one_to_one_mapping` turn cluster ids into class names; :func:`purity`
and :func:`matched_accuracy` score the result.

The package has one module per step: :mod:`.features`, :mod:`.kmeans`,
:mod:`.naming` (naming and scoring clusters) and :mod:`.pictures`; every public
name is re-exported here, so ``clustering.pixel_features(...)`` works. It
imports NumPy and SciPy only; scikit-learn is imported inside the functions
that use it, Keras inside :func:`layer_features` and Matplotlib inside the
plotting functions.
"""

from .features import (
    EDGE_KERNELS,
    color_histogram_features,
    edge_features,
    handmade_features,
    layer_features,
    pixel_features,
    standardize,
)
from .kmeans import KMEANS_METHODS, kmeans_clusters
from .naming import (
    apply_mapping,
    contingency_matrix,
    evaluate_clustering,
    format_contingency,
    majority_vote_mapping,
    matched_accuracy,
    one_to_one_mapping,
    purity,
)
from .pictures import (
    plot_cluster_samples,
    plot_projection,
    project_2d,
    sample_indices_per_cluster,
)

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
