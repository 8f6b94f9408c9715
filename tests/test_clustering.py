"""Tests of cifar_helpers.clustering: features, k-means, naming clusters, scores."""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix as sklearn_contingency

from cifar_helpers import clustering
from cifar_helpers.clustering import (
    apply_mapping,
    color_histogram_features,
    contingency_matrix,
    edge_features,
    evaluate_clustering,
    format_contingency,
    handmade_features,
    kmeans_clusters,
    layer_features,
    majority_vote_mapping,
    matched_accuracy,
    one_to_one_mapping,
    pixel_features,
    plot_cluster_samples,
    plot_projection,
    project_2d,
    purity,
    sample_indices_per_cluster,
    standardize,
)

# The hand-made case where the two namings disagree (see the docstrings):
# cluster 0 = {0, 0, 1}, cluster 1 = {0, 0, 2}, cluster 2 = {1, 1, 2}.
CASE_CLUSTERS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
CASE_LABELS = np.array([0, 0, 1, 0, 0, 2, 1, 1, 2])


def blobs(n_per_blob=30, n_blobs=10, dims=5, seed=0):
    """Well-separated Gaussian blobs: centres 100 apart, spread 1."""
    rng = np.random.default_rng(seed)
    centres = 100.0 * np.eye(n_blobs, dims) if dims >= n_blobs else rng.normal(
        scale=100.0, size=(n_blobs, dims))
    labels = np.repeat(np.arange(n_blobs), n_per_blob)
    points = centres[labels] + rng.normal(size=(len(labels), dims))
    order = rng.permutation(len(labels))
    return points[order], labels[order]


# ------------------------------------------------------------------ k-means on blobs


@pytest.mark.parametrize("method", ["kmeans", "minibatch"])
@pytest.mark.parametrize("n_blobs, dims", [(2, 3), (4, 4), (10, 12)])
def test_well_separated_blobs_are_recovered_exactly(method, n_blobs, dims):
    points, labels = blobs(n_blobs=n_blobs, dims=dims, seed=n_blobs)
    clusters = kmeans_clusters(points, n_clusters=n_blobs, seed=0, n_init=5, method=method)
    assert clusters.shape == labels.shape
    assert matched_accuracy(clusters, labels) == 1.0
    assert purity(clusters, labels) == 1.0
    mapping = one_to_one_mapping(clusters, labels)
    np.testing.assert_array_equal(apply_mapping(clusters, mapping), labels)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_kmeans_is_deterministic_given_the_seed(seed):
    rng = np.random.default_rng(3)
    points = rng.normal(size=(120, 6))  # no structure: the result depends on the start
    first = kmeans_clusters(points, n_clusters=5, seed=seed, n_init=1)
    second = kmeans_clusters(points, n_clusters=5, seed=seed, n_init=1)
    np.testing.assert_array_equal(first, second)
    assert set(first.tolist()) <= set(range(5))


def test_kmeans_does_not_modify_its_input():
    points, _ = blobs(n_blobs=3, dims=3)
    before = points.copy()
    kmeans_clusters(points, n_clusters=3)
    np.testing.assert_array_equal(points, before)


def test_kmeans_accepts_exactly_as_many_samples_as_clusters():
    points = np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]])
    clusters = kmeans_clusters(points, n_clusters=3, n_init=1)
    assert sorted(clusters.tolist()) == [0, 1, 2]


# ------------------------------------------------------------------ naming clusters


def test_contingency_matrix_matches_scikit_learn():
    rng = np.random.default_rng(0)
    clusters = rng.integers(0, 6, size=200)
    labels = rng.integers(0, 4, size=200)
    np.testing.assert_array_equal(
        contingency_matrix(clusters, labels), sklearn_contingency(labels, clusters).T
    )


def test_contingency_matrix_keeps_absent_classes_and_accepts_column_labels():
    counts = contingency_matrix([1, 1], np.array([[2], [0]]), n_clusters=3, num_classes=5)
    np.testing.assert_array_equal(counts, [[0, 0, 0, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0]])


def test_majority_vote_and_one_to_one_differ_in_the_hand_made_case():
    majority = majority_vote_mapping(CASE_CLUSTERS, CASE_LABELS)
    one_to_one = one_to_one_mapping(CASE_CLUSTERS, CASE_LABELS)
    np.testing.assert_array_equal(majority, [0, 0, 1])  # class 0 used twice, class 2 never
    np.testing.assert_array_equal(one_to_one, [0, 2, 1])  # a permutation
    assert purity(CASE_CLUSTERS, CASE_LABELS) == pytest.approx(6 / 9)
    assert matched_accuracy(CASE_CLUSTERS, CASE_LABELS) == pytest.approx(5 / 9)
    # Purity is the accuracy of the majority-vote naming.
    predicted = apply_mapping(CASE_CLUSTERS, majority)
    assert np.mean(predicted == CASE_LABELS) == pytest.approx(6 / 9)


def test_majority_vote_ties_go_to_the_smaller_class_and_empty_clusters_get_minus_one():
    mapping = majority_vote_mapping([0, 0, 2], [3, 1, 2], num_classes=4)
    np.testing.assert_array_equal(mapping, [1, -1, 2])


def test_extra_clusters_get_no_class_under_one_to_one():
    clusters = [0, 0, 1, 2, 2, 2]
    labels = [0, 0, 0, 1, 1, 1]
    mapping = one_to_one_mapping(clusters, labels)
    np.testing.assert_array_equal(mapping, [0, -1, 1])
    assert matched_accuracy(clusters, labels) == pytest.approx(5 / 6)
    assert purity(clusters, labels) == 1.0


@given(
    n_clusters=st.integers(2, 6),
    num_classes=st.integers(2, 6),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=40, deadline=None)
def test_one_to_one_mapping_is_the_best_assignment(n_clusters, num_classes, seed):
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, n_clusters, size=40)
    labels = rng.integers(0, num_classes, size=40)
    counts = contingency_matrix(clusters, labels, n_clusters, num_classes)
    mapping = one_to_one_mapping(clusters, labels, n_clusters, num_classes)
    assigned = mapping[mapping >= 0]
    # One-to-one: no class twice, as many pairs as the smaller side.
    assert len(set(assigned.tolist())) == len(assigned) == min(n_clusters, num_classes)
    # Brute force over every injective assignment gives the same total.
    small, large = sorted((n_clusters, num_classes))
    table = counts if n_clusters <= num_classes else counts.T
    best = max(
        sum(table[i, j] for i, j in enumerate(choice))
        for choice in itertools.permutations(range(large), small)
    )
    total = sum(counts[k, c] for k, c in enumerate(mapping) if c >= 0)
    assert total == best
    assert matched_accuracy(clusters, labels) <= purity(clusters, labels) + 1e-12


@given(seed=st.integers(0, 2**31 - 1), k=st.integers(2, 10))
@settings(max_examples=40, deadline=None)
def test_mapping_is_a_permutation_when_clusters_equal_classes(seed, k):
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, k, size=60)
    labels = rng.integers(0, k, size=60)
    mapping = one_to_one_mapping(clusters, labels, n_clusters=k, num_classes=k)
    assert sorted(mapping.tolist()) == list(range(k))
    rows, cols = linear_sum_assignment(contingency_matrix(clusters, labels, k, k), maximize=True)
    np.testing.assert_array_equal(mapping[rows], cols)


@given(seed=st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_scores_do_not_depend_on_how_clusters_are_numbered(seed):
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, 5, size=50)
    labels = rng.integers(0, 4, size=50)
    renamed = rng.permutation(5)[clusters]
    assert purity(renamed, labels) == pytest.approx(purity(clusters, labels))
    assert matched_accuracy(renamed, labels) == pytest.approx(matched_accuracy(clusters, labels))
    # Purity is at least the share of the most common class (one cluster could be all of it).
    assert purity(clusters, labels) >= np.bincount(labels).max() / len(labels) - 1e-12


def test_format_contingency_lays_out_the_counts():
    text = format_contingency(CASE_CLUSTERS, CASE_LABELS, ["ant", "bee", "cow"], n_clusters=4)
    lines = text.splitlines()
    assert len(lines) == 5 and lines[0].split() == ["ant", "bee", "cow"]
    counts = contingency_matrix(CASE_CLUSTERS, CASE_LABELS, 4, 3)
    for k, line in enumerate(lines[1:]):
        assert line.split() == ["cluster", str(k), *map(str, counts[k])]
    assert len({len(line) for line in lines}) == 1  # columns line up
    with pytest.raises(ValueError, match=r"`num_classes`=2 is too small"):
        format_contingency(CASE_CLUSTERS, CASE_LABELS, ["ant", "bee"])
    with pytest.raises(ValueError, match=r"`width` must be an integer >= 2\. Received width=1"):
        format_contingency(CASE_CLUSTERS, CASE_LABELS, width=1)


def test_evaluate_clustering_returns_both_scores():
    scores = evaluate_clustering(CASE_CLUSTERS, CASE_LABELS)
    assert scores == pytest.approx({"purity": 6 / 9, "matched_accuracy": 5 / 9})


# ------------------------------------------------------------------ features


def test_pixel_features_scale_uint8_and_keep_floats():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 4, 5, 3), dtype=np.uint8)
    features = pixel_features(images)
    assert features.shape == (3, 60) and features.dtype == np.float32
    np.testing.assert_allclose(features, images.reshape(3, -1) / 255.0, rtol=1e-6)
    floats = images / 255.0
    np.testing.assert_allclose(pixel_features(floats), floats.reshape(3, -1), rtol=1e-6)


@pytest.mark.parametrize("bins", [2, 4, 8])
def test_color_histograms_match_numpy_histogram(bins):
    rng = np.random.default_rng(bins)
    images = rng.integers(0, 256, size=(4, 6, 5, 3), dtype=np.uint8)
    features = color_histogram_features(images, bins=bins)
    assert features.shape == (4, 3 * bins)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for n in range(4):
        for c in range(3):
            expected, _ = np.histogram(images[n, :, :, c] / 255.0, bins=edges)
            np.testing.assert_allclose(features[n, c * bins:(c + 1) * bins], expected / 30.0,
                                       rtol=1e-6)
        np.testing.assert_allclose(features[n].reshape(3, bins).sum(axis=1), 1.0, rtol=1e-6)


def test_edge_features_match_scipy_correlation():
    from scipy.signal import correlate2d

    rng = np.random.default_rng(1)
    images = rng.random((2, 5, 6, 3))
    features = edge_features(images)
    for n in range(2):
        grey = images[n].mean(axis=2)
        rows = correlate2d(grey, clustering.EDGE_KERNELS["rows"], mode="valid")
        cols = correlate2d(grey, clustering.EDGE_KERNELS["cols"], mode="valid")
        np.testing.assert_allclose(features[n], [np.abs(rows).mean(), np.abs(cols).mean()],
                                   rtol=1e-5)


def test_flat_images_have_no_edges_and_stripes_do():
    flat = np.full((1, 4, 4, 3), 128, dtype=np.uint8)
    np.testing.assert_array_equal(edge_features(flat), [[0.0, 0.0]])
    stripes = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    stripes[:, 1::2] = 255  # horizontal stripes: change down the rows
    np.testing.assert_array_equal(edge_features(stripes), [[1.0, 0.0]])


def test_handmade_features_concatenate_histograms_and_edges():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        handmade_features(images, bins=4),
        np.hstack([color_histogram_features(images, bins=4), edge_features(images)]),
    )


def test_standardize_gives_zero_mean_unit_spread():
    rng = np.random.default_rng(3)
    features = rng.normal(loc=5.0, scale=[1.0, 10.0, 0.1], size=(50, 3))
    scaled = standardize(features)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-12)


# ------------------------------------------------------------------ pictures


def test_project_2d_matches_the_top_principal_directions():
    rng = np.random.default_rng(4)
    features = rng.normal(size=(40, 5)) * [5.0, 3.0, 1.0, 0.5, 0.1]
    points = project_2d(features)
    centred = features - features.mean(axis=0)
    _, _, rows = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ rows[:2].T
    np.testing.assert_allclose(np.abs(points), np.abs(expected), rtol=1e-6, atol=1e-9)


def test_sample_indices_per_cluster_are_members_and_deterministic():
    clusters = np.array([2, 0, 2, 2, 1, 0, 2])
    picks = sample_indices_per_cluster(clusters, 2, seed=5)
    assert [len(p) for p in picks] == [2, 1, 2]
    for k, indices in enumerate(picks):
        assert np.all(clusters[indices] == k)
    again = sample_indices_per_cluster(clusters, 2, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(picks, again, strict=True))


def test_plot_helpers_draw_and_return_axes():
    rng = np.random.default_rng(6)
    images = rng.integers(0, 256, size=(12, 4, 4, 3), dtype=np.uint8)
    clusters = np.array([0, 1, 2] * 4)
    labels = np.array([0, 1, 1] * 4)
    fig = plt.figure()
    axes = plot_cluster_samples(images, clusters, [0, 1, -1], labels=labels,
                                n_per_cluster=3, fig=fig)
    assert axes.shape == (3, 3)
    assert "(no class)" in axes[2, 0].get_ylabel()  # the unnamed cluster is drawn last
    plt.close(fig)
    fig, ax = plt.subplots()
    assert plot_projection(rng.normal(size=(12, 2)), labels, ax=ax, title="t") is ax
    assert len(ax.collections) == 2
    plt.close(fig)


# ------------------------------------------------------------------ CNN features


@pytest.fixture(scope="module")
def tiny_model():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((4, 4, 3)),
        keras.layers.Conv2D(2, (3, 3), padding="valid", activation="relu", name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(5, activation="relu", name="penultimate"),
        keras.layers.Dense(3, activation="softmax", name="classifier"),
    ])


@pytest.mark.parametrize("layer", ["penultimate", 2, -2])
def test_layer_features_equal_the_dense_layer_by_hand(tiny_model, layer):
    rng = np.random.default_rng(7)
    images = rng.random((7, 4, 4, 3)).astype(np.float32)
    features = layer_features(tiny_model, layer, images, batch_size=3)
    assert features.shape == (7, 5) and features.dtype == np.float32
    conv, flat = tiny_model.get_layer("conv"), tiny_model.get_layer("flatten")
    kernel, bias = tiny_model.get_layer("penultimate").get_weights()
    flattened = np.asarray(flat(conv(images)))
    np.testing.assert_allclose(features, np.maximum(flattened @ kernel + bias, 0.0),
                               rtol=1e-5, atol=1e-6)


def test_layer_features_flatten_a_convolution_output(tiny_model):
    images = np.zeros((2, 4, 4, 3), dtype=np.float32)
    features = layer_features(tiny_model, "conv", images)
    assert features.shape == (2, 2 * 2 * 2)  # (2, 2, 2) feature maps per image


@pytest.mark.parametrize(
    "layer, match",
    [
        ("nope", r"`layer` must be one of the model's layer names \['conv', .*"
                 r"Received layer='nope'"),
        (4, r"`layer` index must be in -4\.\.3 .* Received layer=4"),
        (-5, r"Received layer=-5"),
        (1.5, r"`layer` must be a layer name \(str\) or an index .* Received float"),
        (True, r"Received bool"),
    ],
)
def test_layer_features_rejects_unknown_layers(tiny_model, layer, match):
    with pytest.raises(ValueError, match=match):
        layer_features(tiny_model, layer, np.zeros((1, 4, 4, 3)))


@pytest.mark.parametrize(
    "images, batch_size, match",
    [
        (np.zeros((1, 4, 4, 3)), 0, r"`batch_size` must be an integer >= 1\. Received "
                                    r"batch_size=0"),
        (np.zeros((0, 4, 4, 3)), 8, r"`images` must be a non-empty batch .* Received shape "
                                    r"\(0, 4, 4, 3\)"),
        (np.zeros(3), 8, r"Received shape \(3,\)"),
    ],
)
def test_layer_features_rejects_bad_batches(tiny_model, images, batch_size, match):
    with pytest.raises(ValueError, match=match):
        layer_features(tiny_model, "conv", images, batch_size=batch_size)


# ------------------------------------------------------------------ error paths

POINTS = np.arange(12.0).reshape(6, 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_clusters": 1}, r"`n_clusters` must be an integer >= 2 .* Received n_clusters=1"),
        ({"n_clusters": 0}, r"Received n_clusters=0"),
        ({"n_clusters": 2.0}, r"Received n_clusters=2\.0"),
        ({"n_clusters": True}, r"Received n_clusters=True"),
        ({"n_clusters": 7}, r"at least as many samples as clusters: n_clusters=7 but "
                            r"`features` has only 6 row"),
        ({"n_clusters": 2, "n_init": 0}, r"`n_init` must be an integer >= 1\. Received n_init=0"),
        ({"n_clusters": 2, "method": "spectral"},
         r"`method` must be one of \('kmeans', 'minibatch'\)\. Received method='spectral'"),
        ({"n_clusters": 2, "method": "minibatch", "batch_size": 0},
         r"`batch_size` must be an integer >= 1"),
    ],
)
def test_kmeans_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kmeans_clusters(POINTS, **kwargs)


@pytest.mark.parametrize(
    "features, match",
    [
        (np.arange(6.0), r"`features` must be a 2-D array of shape \(N, D\).*"
                         r"Received shape \(6,\) \(ndim=1\)"),
        (np.zeros((2, 3, 4)), r"Received shape \(2, 3, 4\) \(ndim=3\)"),
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]),
         r"`features` must hold finite numbers\. Received 1 NaN or infinite"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), r"NaN or infinite"),
        (np.array([["a", "b"], ["c", "d"]]), r"`features` must be real numbers\. "
                                             r"Received dtype=<U1"),
        (np.zeros((3, 0)), r"at least one column"),
    ],
)
def test_kmeans_rejects_bad_features(features, match):
    with pytest.raises(ValueError, match=match):
        kmeans_clusters(features, n_clusters=2)


@pytest.mark.parametrize("function", [purity, matched_accuracy, evaluate_clustering,
                                      majority_vote_mapping, one_to_one_mapping,
                                      contingency_matrix])
@pytest.mark.parametrize(
    "clusters, labels, match",
    [
        ([0, 1, 1], [0, 1], r"`clusters` and `labels` must have the same length .*"
                            r"Received len\(clusters\)=3, len\(labels\)=2"),
        ([0, 1], [0, 1, 1, 0], r"len\(clusters\)=2, len\(labels\)=4"),
        ([0.0, 1.0], [0, 1], r"`clusters` must be integers\. Received dtype=float64"),
        ([0, 1], [0.0, np.nan], r"`labels` must be integers\. Received NaN"),
        ([0, -1], [0, 1], r"`clusters` must be non-negative integers\. Received a minimum of -1"),
        ([[0, 1]], [0, 1], r"`clusters` must have shape \(N,\) or \(N, 1\)\. Received shape "
                           r"\(1, 2\)"),
        ([], [], r"`clusters` must hold at least one value"),
    ],
)
def test_scores_and_mappings_reject_bad_ids(function, clusters, labels, match):
    with pytest.raises(ValueError, match=match):
        function(clusters, labels)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_clusters": 1}, r"`n_clusters`=1 is too small: the cluster ids go up to 1, so "
                            r"n_clusters must be at least 2"),
        ({"num_classes": 2}, r"`num_classes`=2 is too small: the class ids go up to 2"),
        ({"num_classes": 0}, r"`num_classes` must be an integer >= 1\. Received num_classes=0"),
    ],
)
def test_contingency_matrix_rejects_too_small_tables(kwargs, match):
    with pytest.raises(ValueError, match=match):
        contingency_matrix([0, 1], [2, 0], **kwargs)


@pytest.mark.parametrize(
    "mapping, match",
    [
        ([0, 1], r"`mapping` has 2 entries but `clusters` holds id 2"),
        ([[0, 1, 2]], r"`mapping` must be a 1-D array of integer classes.*shape=\(1, 3\)"),
        ([0.0, 1.0, 2.0], r"dtype=float64"),
    ],
)
def test_apply_mapping_rejects_bad_mappings(mapping, match):
    with pytest.raises(ValueError, match=match):
        apply_mapping([0, 2], mapping)


@pytest.mark.parametrize("function", [pixel_features, color_histogram_features, edge_features,
                                      handmade_features])
@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((4, 4, 3), dtype=np.uint8), r"`images` must be a batch of channels-last "
                                              r"images of shape \(N, H, W, C\)\. Received an "
                                              r"array of shape \(4, 4, 3\) \(ndim=3\)"),
        (np.zeros((0, 4, 4, 3), dtype=np.uint8), r"at least one image"),
        (np.full((1, 2, 2, 3), np.nan), r"`images` must hold finite values\. Received NaN"),
        (np.full((1, 2, 2, 3), 2.0), r"float `images` must lie in \[0, 1\] .* Received "
                                     r"values from 2 to 2"),
        (np.zeros((1, 2, 2, 3), dtype=np.int32), r"uint8 pixels in 0\.\.255 or floats in "
                                                 r"\[0, 1\]\. Received dtype=int32"),
    ],
)
def test_features_reject_bad_images(function, images, match):
    with pytest.raises(ValueError, match=match):
        function(images)


def test_histogram_and_edge_settings_are_validated():
    images = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"`bins` must be an integer >= 2\. Received bins=1"):
        color_histogram_features(images, bins=1)
    with pytest.raises(ValueError, match=r"at least 2×2 pixels .* Received shape \(1, 1, 4, 3\)"):
        edge_features(np.zeros((1, 1, 4, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    "function, features, match",
    [
        (standardize, np.array([1.0, np.nan]), r"`features` must be a 2-D array"),
        (project_2d, np.zeros((1, 3)), r"at least 2 rows and 2 columns .* Received shape "
                                       r"\(1, 3\)"),
        (project_2d, np.array([[np.nan, 1.0], [1.0, 2.0]]), r"finite numbers"),
    ],
)
def test_standardize_and_projection_reject_bad_features(function, features, match):
    with pytest.raises(ValueError, match=match):
        function(features)


def test_sample_indices_reject_bad_counts():
    with pytest.raises(ValueError, match=r"`n_per_cluster` must be an integer >= 1\. "
                                         r"Received n_per_cluster=0"):
        sample_indices_per_cluster([0, 1], 0)


def test_plot_helpers_reject_mismatched_inputs():
    images = np.zeros((3, 2, 2, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"`clusters` must have one id per image\. Received "
                                         r"2 ids for 3 images"):
        plot_cluster_samples(images, [0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"`mapping` must have one class per cluster \(2 or "
                                         r"more\)\. Received shape \(1,\)"):
        plot_cluster_samples(images, [0, 1, 1], [0])
    with pytest.raises(ValueError, match=r"`points` must have shape \(N, 2\)\. Received "
                                         r"shape \(3, 3\)"):
        plot_projection(np.zeros((3, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"`labels` must have one class per point\. Received "
                                         r"2 labels for 3 points"):
        plot_projection(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"`class_names` must name every class: labels go up "
                                         r"to 2, but only 2 names"):
        plot_projection(np.zeros((3, 2)), [0, 1, 2], class_names=["a", "b"])
