"""Tests for cifar_helpers.plotting: each figure draws what it says, on the axes it is given."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cifar_helpers.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_feature_maps,
    plot_first_layer_filters,
    plot_image_grid,
    plot_learning_curves,
    plot_misclassified,
    plot_per_class_accuracy,
    plot_top_k,
)

HISTORY = {
    "loss": [1.7, 1.3, 1.1],
    "accuracy": [0.37, 0.52, 0.59],
    "val_loss": [1.36, 1.2, 1.09],
    "val_accuracy": [0.52, 0.57, 0.61],
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 10, size=200))
    return y_true, y_pred


def test_learning_curves_draw_training_and_validation():
    fig = plot_learning_curves(HISTORY)
    loss_ax, accuracy_ax = fig.axes
    assert loss_ax.get_title() == "loss" and accuracy_ax.get_title() == "accuracy"
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(accuracy_ax.lines[1].get_ydata(), HISTORY["val_accuracy"])
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["training", "validation"]


def test_learning_curves_accept_a_history_object_and_reuse_a_figure():
    class History:
        history = {"loss": [2.0, 1.0]}

    fig = plt.figure()
    assert plot_learning_curves(History(), metrics=("loss",), fig=fig) is fig
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1  # no validation curve


@pytest.mark.parametrize(
    "history, metrics, message",
    [({}, ("loss",), "`history` must be a keras History"),
     ([1, 2], ("loss",), "`history` must be a keras History"),
     (HISTORY, ("auc",), r"`history` has no \['auc'\]")],
)
def test_learning_curves_errors(history, metrics, message):
    with pytest.raises(ValueError, match=message):
        plot_learning_curves(history, metrics=metrics)


@pytest.mark.parametrize("normalize", [None, "true"])
def test_confusion_matrix_matches_sklearn(labels, normalize):
    y_true, y_pred = labels
    fig, ax = plt.subplots()
    assert plot_confusion_matrix(y_true, y_pred, normalize=normalize, ax=ax) is ax
    expected = confusion_matrix(y_true, y_pred, labels=range(10), normalize=normalize)
    shown = np.array([float(t.get_text()) for t in ax.texts]).reshape(10, 10)
    np.testing.assert_allclose(shown, expected, atol=0.005)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["airplane", "automobile"]


def test_confusion_matrix_accepts_column_labels(labels):
    y_true, y_pred = labels
    ax = plot_confusion_matrix(y_true[:, None], y_pred[:, None])
    assert len(ax.texts) == 100


@pytest.mark.parametrize(
    "kwargs, message",
    [({"normalize": "rows"}, "`normalize` must be one of"),
     ({"y_pred": np.zeros(3, dtype=int)}, "same length")],
)
def test_confusion_matrix_errors(labels, kwargs, message):
    y_true, y_pred = labels
    arguments = {"y_true": y_true, "y_pred": y_pred, **kwargs}
    with pytest.raises(ValueError, match=message):
        plot_confusion_matrix(**arguments)


def test_per_class_accuracy_bars(labels):
    y_true, y_pred = labels
    fig, ax = plt.subplots()
    assert plot_per_class_accuracy(y_true, y_pred, ax=ax) is ax
    widths = [bar.get_width() for bar in ax.patches]
    expected = [np.mean(y_pred[y_true == k] == k) for k in range(10)]
    np.testing.assert_allclose(widths, expected)
    overall = ax.lines[0].get_xdata()[0]
    assert overall == pytest.approx(np.mean(y_true == y_pred))


def test_image_grid_titles_and_layout():
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    fig = plot_image_grid(images, titles=list("abcde"), cols=3)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", "d", "e", ""]
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), images[4])
    assert not fig.axes[5].images


@pytest.mark.parametrize(
    "kwargs, message",
    [({"images": []}, "at least one image"),
     ({"titles": ["a"]}, "one entry per image"),
     ({"cols": 0}, "`cols` must be a positive int")],
)
def test_image_grid_errors(kwargs, message):
    arguments = {"images": np.zeros((2, 4, 4, 3), dtype=np.uint8), **kwargs}
    with pytest.raises(ValueError, match=message):
        plot_image_grid(**arguments)


def test_misclassified_shows_the_most_confident_mistakes_first():
    images = np.arange(5 * 4 * 4 * 3, dtype=np.uint8).reshape(5, 4, 4, 3)
    probabilities = np.array(
        [[0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4], [0.2, 0.8]]
    )
    y_true = np.array([0, 0, 0, 1, 1])  # mistakes: image 1 (70%), 2 (95%), 3 (60%)
    fig = plot_misclassified(images, y_true, probabilities, class_names=["cat", "dog"], count=2)
    assert [ax.get_title() for ax in fig.axes] == [
        "true cat\npred dog 95%", "true cat\npred dog 70%"
    ]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), images[2])


def test_misclassified_errors():
    images = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="every prediction is right"):
        plot_misclassified(images, [0, 1], np.eye(2), class_names=["a", "b"])
    with pytest.raises(ValueError, match="same length"):
        plot_misclassified(images, [0], np.eye(2), class_names=["a", "b"])


def test_top_k_bars():
    fig, ax = plt.subplots()
    guesses = [("truck", 0.7), ("automobile", 0.2), ("ship", 0.05)]
    assert plot_top_k(guesses, ax=ax, title="truck_1.jpg") is ax
    assert [bar.get_width() for bar in ax.patches] == [0.7, 0.2, 0.05]
    assert ax.get_title() == "truck_1.jpg"
    with pytest.raises(ValueError, match="at least one"):
        plot_top_k([])


@pytest.mark.parametrize(
    "true_class, expected",
    [(None, ["tab:blue", "tab:gray", "tab:gray"]),
     ("truck", ["tab:green", "tab:gray", "tab:gray"]),
     ("ship", ["tab:red", "tab:gray", "tab:green"]),
     ("cat", ["tab:red", "tab:gray", "tab:gray"])],
)
def test_top_k_colours(true_class, expected):
    from matplotlib.colors import to_rgba

    guesses = [("truck", 0.7), ("automobile", 0.2), ("ship", 0.05)]
    ax = plot_top_k(guesses, true_class=true_class)
    assert [bar.get_facecolor() for bar in ax.patches] == [to_rgba(c) for c in expected]


def test_first_layer_filters_from_a_kernel():
    kernel = np.zeros((3, 3, 3, 2))
    kernel[..., 0, 0] = 1.0  # filter 0: pure red
    kernel[1, 1, :, 1] = [-1.0, 2.0, 0.5]
    fig = plot_first_layer_filters(kernel, cols=2)
    first = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(first[..., 0], np.ones((3, 3)))
    np.testing.assert_array_equal(first[..., 1:], np.zeros((3, 3, 2)))
    second = fig.axes[1].images[0].get_array()
    assert second.min() == 0 and second.max() == 1  # each filter rescaled to [0, 1]


def test_first_layer_filters_from_a_model():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(6, (3, 3))])
    assert len(plot_first_layer_filters(model, cols=3).axes) == 6
    with pytest.raises(ValueError, match="no Conv2D layer"):
        plot_first_layer_filters(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match=r"\(kh, kw, C_in, filters\)"):
        plot_first_layer_filters(np.zeros((3, 3, 3)))


def test_feature_maps_layout():
    maps = {"conv1": np.random.rand(32, 32, 32), "pool": np.random.rand(16, 16, 32),
            "dense": np.random.rand(512)}
    fig = plot_feature_maps(maps, max_channels=4)
    assert len(fig.axes) == 8  # 2 image-like layers x 4 channels; the dense output is skipped
    assert fig.axes[0].get_title() == "conv1 32x32x32 #0"
    assert fig.axes[1].get_title() == "#1"
    np.testing.assert_array_equal(fig.axes[5].images[0].get_array(), maps["pool"][..., 1])
    with pytest.raises(ValueError, match="none were found"):
        plot_feature_maps({"dense": np.zeros(4)})


def test_importing_loads_neither_pyplot_nor_tensorflow():
    code = (
        "import sys, cifar_helpers.plotting; "
        "print('matplotlib.pyplot' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]


def test_plot_number_grid_writes_values_outlines_windows_and_shades():
    from cifar_helpers.plotting import WINDOW_COLOURS, plot_number_grid

    values = np.array([[1, 0, 2], [3, 4, 5]])
    shade = np.zeros(values.shape, dtype=bool)
    shade[0, 0] = True
    windows = [(slice(0, 2), slice(0, 2)), (slice(0, 2), slice(1, 3))]
    ax = plot_number_grid(values, "t", windows=windows, shade=shade)
    assert [t.get_text() for t in ax.texts] == ["1", "0", "2", "3", "4", "5"]
    assert ax.get_title() == "t"
    rectangles = ax.patches
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in rectangles] == [
        (-0.5, -0.5, 2, 2), (0.5, -0.5, 2, 2)]
    assert [r.get_edgecolor() for r in rectangles] == [
        matplotlib.colors.to_rgba(c) for c in WINDOW_COLOURS[:2]]
    assert len(ax.images) == 2  # the values, then the grey padding layer
    texts = [["a", "b", "c"], ["d", "e", "f"]]
    assert [t.get_text() for t in plot_number_grid(values, texts=texts).texts] == list("abcdef")
    plt.close("all")


@pytest.mark.parametrize("values", [np.zeros(3), np.zeros((0, 2)), np.zeros((2, 2, 2))])
def test_plot_number_grid_needs_a_2d_array(values):
    from cifar_helpers.plotting import plot_number_grid

    with pytest.raises(ValueError, match=r"non-empty 2-D array. Received shape"):
        plot_number_grid(values)


# --- Grad-CAM overlay and reliability diagram ------------------------------------------------


def test_overlay_heatmap_blends_the_colormap_over_the_image():
    import matplotlib

    from cifar_helpers.plotting import overlay_heatmap

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    heatmap = rng.random((4, 4))
    np.testing.assert_array_equal(overlay_heatmap(image, heatmap, alpha=0.0), image)
    # Each heatmap cell covers a 2x2 block; at alpha 0.4 a pixel is 60% image, 40% colour.
    colours = matplotlib.colormaps["jet"](np.kron(heatmap, np.ones((2, 2))))[..., :3] * 255
    expected = np.rint(0.6 * image + 0.4 * colours)
    np.testing.assert_allclose(overlay_heatmap(image, heatmap, alpha=0.4), expected, atol=1)


@pytest.mark.parametrize(
    "image, heatmap, match",
    [
        (np.zeros((8, 8, 3)), np.zeros((4, 4)), r"`image` must be an \(H, W, 3\) uint8"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((3, 3)), r"divides the image's \(8, 8\)"),
        (np.zeros((8, 8, 3), np.uint8), np.full((4, 4), 2.0), r"finite values in \[0, 1\]"),
    ],
)
def test_overlay_heatmap_errors(image, heatmap, match):
    from cifar_helpers.plotting import overlay_heatmap

    with pytest.raises(ValueError, match=match):
        overlay_heatmap(image, heatmap)


def test_plot_grad_cam_and_reliability_diagram_draw():
    from cifar_helpers.calibration import reliability_bins
    from cifar_helpers.plotting import plot_grad_cam, plot_reliability_diagram

    ax = plot_grad_cam(np.zeros((8, 8, 3), np.uint8), np.eye(4), title="cat")
    assert ax.get_title() == "cat" and len(ax.images) == 1
    p = np.array([[0.9, 0.1]] * 4 + [[0.35, 0.65]] * 2)
    bins = reliability_bins(p, [0, 0, 0, 1, 1, 0], bins=5)
    ax = plot_reliability_diagram(bins)
    heights = [patch.get_height() for patch in ax.patches[:5]]
    np.testing.assert_allclose(heights, [0, 0, 0, 0.5, 0.75])
    plt.close("all")
