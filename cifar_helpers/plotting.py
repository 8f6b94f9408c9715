"""Figures for training and evaluating a CIFAR-10 model, and for looking inside it.

Every function draws on the Matplotlib axes or figure it is given (or a new
one) and returns it, so a notebook can place several on one figure and a test
can inspect what was drawn. Nothing happens on import: Matplotlib is imported
inside the functions, and no global style is changed.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._validation import class_indices
from .data import CLASS_NAMES

__all__ = [
    "overlay_heatmap",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_first_layer_filters",
    "plot_image_grid",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_number_grid",
    "plot_grad_cam",
    "plot_per_class_accuracy",
    "plot_reliability_diagram",
    "plot_top_k",
]


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize).add_subplot()


def _new_figure(fig, figsize):
    if fig is not None:
        fig.clear()
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize)


def _history_dict(history):
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            "`history` must be a keras History or a dict of metric -> per-epoch values, "
            f"e.g. {{'loss': [...], 'val_loss': [...]}}. Received {type(history).__name__}."
        )
    return logs


def plot_learning_curves(history, metrics=("loss", "accuracy"), fig=None):
    """Training and validation curves, one panel per metric.

    Parameters
    ----------
    history : keras.callbacks.History or dict of str -> sequence of float
        ``model.fit``'s result (or its ``.history`` dict).
    metrics : sequence of str
        Metric names to draw; ``val_<name>`` is drawn too when present.
    fig : matplotlib.figure.Figure, optional
        Drawn into (cleared first); a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `history` is empty or lacks one of `metrics`.

    Examples
    --------
    >>> fig = plot_learning_curves({"loss": [1.7, 1.3], "val_loss": [1.4, 1.2],
    ...                             "accuracy": [0.37, 0.52], "val_accuracy": [0.5, 0.57]})
    >>> [ax.get_title() for ax in fig.axes]
    ['loss', 'accuracy']
    """
    logs = _history_dict(history)
    missing = [name for name in metrics if name not in logs]
    if missing:
        raise ValueError(
            f"`history` has no {missing}; it holds {sorted(logs)}. Pass metrics=... from those."
        )
    fig = _new_figure(fig, (5 * len(metrics), 3.6))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, name in zip(axes, metrics, strict=True):
        values = np.asarray(logs[name], dtype=float)
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, "o-", label="training")
        if f"val_{name}" in logs:
            ax.plot(epochs, np.asarray(logs[f"val_{name}"], dtype=float), "s-", label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: max(1, len(epochs) // 10)])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(y_true, y_pred, class_names=CLASS_NAMES, normalize=None, ax=None):
    """The confusion matrix of a classifier (rows: true class, columns: predicted).

    Parameters
    ----------
    y_true, y_pred : (N,) or (N, 1) int ndarray
        True and predicted labels.
    class_names : sequence of str
    normalize : {None, "true", "pred", "all"}
        As in ``sklearn.metrics.confusion_matrix``: None shows counts, "true"
        the fraction of each true class (rows sum to 1).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For labels of different lengths or an unknown `normalize`.

    Examples
    --------
    >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["cat", "dog"])
    >>> [t.get_text() for t in ax.texts]
    ['1', '0', '1', '1']
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            "`normalize` must be one of None, 'true', 'pred', 'all'. "
            f"Received normalize={normalize!r}."
        )
    y_true, y_pred = class_indices(y_true, "y_true"), class_indices(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"`y_true` and `y_pred` must have the same length. Received {len(y_true)} "
            f"and {len(y_pred)}."
        )
    matrix = confusion_matrix(
        y_true, y_pred, labels=np.arange(len(class_names)), normalize=normalize
    )
    ax = _new_axes(ax, (7, 6))
    display = ConfusionMatrixDisplay(matrix, display_labels=list(class_names))
    display.plot(
        ax=ax,
        cmap="Blues",
        colorbar=False,
        xticks_rotation=45,
        values_format=".2f" if normalize else "d",
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def plot_per_class_accuracy(y_true, y_pred, class_names=CLASS_NAMES, ax=None):
    """A bar per class: the fraction of its test images classified correctly.

    Parameters
    ----------
    y_true, y_pred : (N,) or (N, 1) int ndarray
    class_names : sequence of str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_per_class_accuracy([0, 0, 1, 1], [0, 1, 1, 1], class_names=["cat", "dog"])
    >>> [float(bar.get_width()) for bar in ax.patches]
    [0.5, 1.0]
    """
    from .metrics import per_class_accuracy

    accuracy = per_class_accuracy(y_true, y_pred, num_classes=len(class_names))
    ax = _new_axes(ax, (6, 0.4 * len(class_names) + 1))
    positions = np.arange(len(class_names))
    ax.barh(positions, accuracy, color="tab:blue")
    ax.set_yticks(positions, labels=list(class_names))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy")
    overall = float(np.mean(class_indices(y_true, "y_true") == class_indices(y_pred, "y_pred")))
    ax.axvline(overall, color="gray", linestyle="--", label=f"overall {overall:.1%}")
    for y, value in zip(positions, accuracy, strict=True):
        ax.text(min(value + 0.01, 0.9), y, f"{value:.0%}", va="center")
    ax.legend(loc="lower right")
    return ax


def plot_image_grid(images, titles=None, cols=8, fig=None, cmap=None):
    """Show images on a grid, with an optional title under each.

    Parameters
    ----------
    images : sequence of (H, W) or (H, W, 3) arrays
        uint8 pixels, or floats in [0, 1].
    titles : sequence of str, optional
    cols : int
        Images per row.
    fig : matplotlib.figure.Figure, optional
    cmap : str, optional
        Colour map for single-channel images.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_image_grid(np.zeros((3, 4, 4, 3), dtype=np.uint8), titles=["a", "b", "c"],
    ...                       cols=2)
    >>> len(fig.axes), [ax.get_title() for ax in fig.axes][:3]
    (4, ['a', 'b', 'c'])
    """
    images = list(images)
    if not images:
        raise ValueError("`images` must hold at least one image. Received none.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"`titles` must have one entry per image. Received {len(titles)} titles for "
            f"{len(images)} images."
        )
    if not isinstance(cols, (int, np.integer)) or cols < 1:
        raise ValueError(f"`cols` must be a positive int. Received cols={cols!r}.")
    cols = min(cols, len(images))
    rows = -(-len(images) // cols)
    fig = _new_figure(fig, (1.5 * cols, 1.7 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def plot_misclassified(images, y_true, probabilities, class_names=CLASS_NAMES, count=16,
                       cols=8, fig=None):
    """A gallery of the model's most confident mistakes.

    Parameters
    ----------
    images : (N, H, W, 3) uint8 ndarray
        The evaluated images.
    y_true : (N,) or (N, 1) int ndarray
    probabilities : (N, num_classes) ndarray
        The model's predicted probabilities for `images`.
    class_names : sequence of str
    count : int
        How many mistakes to show (fewer if there are fewer).
    cols : int
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
        Each image titled ``true <name>`` / ``pred <name> <confidence>%``, most
        confident mistakes first.

    Raises
    ------
    ValueError
        If the lengths differ or the model made no mistake.

    Examples
    --------
    >>> images = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> fig = plot_misclassified(images, [0, 0, 1], probs, class_names=["cat", "dog"])
    >>> [ax.get_title() for ax in fig.axes]
    ['true cat\\npred dog 80%', 'true dog\\npred cat 60%']
    """
    y_true = class_indices(y_true, "y_true")
    probabilities = np.asarray(probabilities)
    if not len(images) == len(y_true) == len(probabilities):
        raise ValueError(
            "`images`, `y_true` and `probabilities` must have the same length. "
            f"Received {len(images)}, {len(y_true)} and {len(probabilities)}."
        )
    predicted = np.argmax(probabilities, axis=1)
    confidence = probabilities[np.arange(len(predicted)), predicted]
    wrong = np.flatnonzero(predicted != y_true)
    if wrong.size == 0:
        raise ValueError("No misclassified images to show: every prediction is right.")
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    titles = [
        f"true {class_names[y_true[i]]}\npred {class_names[predicted[i]]} {confidence[i]:.0%}"
        for i in wrong
    ]
    return plot_image_grid([images[i] for i in wrong], titles, cols=cols, fig=fig)


def plot_top_k(predictions, ax=None, title=None, true_class=None):
    """A horizontal bar chart of `predict_image`'s ``[(class_name, probability), ...]``.

    Parameters
    ----------
    predictions : list of (str, float)
        Most probable first, as `cifar_helpers.predict.predict_image` returns.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    true_class : str, optional
        The right answer, if known: its bar is drawn green, and the top bar red
        when the top guess is wrong. Without it the top bar is blue.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_top_k([("truck", 0.7), ("automobile", 0.2), ("ship", 0.05)],
    ...                 true_class="automobile")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['truck', 'automobile', 'ship']
    """
    if not predictions:
        raise ValueError("`predictions` must hold at least one (class_name, probability).")
    names = [name for name, _ in predictions]
    values = [float(p) for _, p in predictions]
    colours = ["tab:gray"] * len(names)
    if true_class is None:
        colours[0] = "tab:blue"
    else:
        if names[0] != true_class:
            colours[0] = "tab:red"
        if true_class in names:
            colours[names.index(true_class)] = "tab:green"
    ax = _new_axes(ax, (4, 0.5 * len(names) + 0.8))
    positions = np.arange(len(names))
    ax.barh(positions, values, color=colours)
    ax.set_yticks(positions, labels=names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    for y, value in zip(positions, values, strict=True):
        ax.text(min(value + 0.02, 0.8), y, f"{value:.1%}", va="center")
    if title:
        ax.set_title(title)
    return ax


def _first_conv_kernel(model_or_kernel):
    if hasattr(model_or_kernel, "layers"):
        for layer in model_or_kernel.layers:
            if layer.__class__.__name__ == "Conv2D":
                return np.asarray(layer.get_weights()[0])
        raise ValueError("`model` has no Conv2D layer whose filters could be shown.")
    kernel = np.asarray(model_or_kernel)
    if kernel.ndim != 4:
        raise ValueError(
            "Expected a model or a Conv2D kernel of shape (kh, kw, C_in, filters). "
            f"Received an array of shape {kernel.shape}."
        )
    return kernel


def plot_first_layer_filters(model_or_kernel, cols=8, fig=None):
    """The first convolution layer's filters, each drawn as a small RGB image.

    Each filter's weights are rescaled to [0, 1] on their own (min -> black,
    max -> white), so the pattern it responds to is visible whatever its scale.

    Parameters
    ----------
    model_or_kernel : keras.Model or (kh, kw, 3, filters) ndarray
        A model (its first ``Conv2D`` is used) or a kernel.
    cols : int
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> kernel = np.random.default_rng(0).normal(size=(3, 3, 3, 4))
    >>> fig = plot_first_layer_filters(kernel, cols=4)
    >>> [ax.get_title() for ax in fig.axes]
    ['0', '1', '2', '3']
    """
    kernel = _first_conv_kernel(model_or_kernel)
    filters = np.moveaxis(kernel, -1, 0)  # (filters, kh, kw, C_in)
    low = filters.min(axis=(1, 2, 3), keepdims=True)
    span = filters.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = (filters - low) / np.where(span == 0, 1, span)
    if scaled.shape[-1] == 1:
        scaled = scaled[..., 0]
    elif scaled.shape[-1] != 3:
        scaled = scaled.mean(axis=-1)
    return plot_image_grid(
        list(scaled), [str(i) for i in range(len(scaled))], cols=cols, fig=fig,
        cmap="gray" if scaled.ndim == 3 else None,
    )


def plot_feature_maps(outputs, max_channels=8, fig=None):
    """Feature maps of one image: a row per layer, a column per channel.

    Parameters
    ----------
    outputs : dict of str -> (H, W, C) ndarray
        Layer name -> that layer's output for one image, as returned by
        `cifar_helpers.models.layer_outputs`.
    max_channels : int
        Channels shown per layer (the first ones).
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> maps = {"conv": np.zeros((8, 8, 4)), "pool": np.ones((4, 4, 4))}
    >>> fig = plot_feature_maps(maps, max_channels=2)
    >>> [ax.get_title() for ax in fig.axes]
    ['conv 8x8x4 #0', '#1', 'pool 4x4x4 #0', '#1']
    """
    import matplotlib.pyplot as plt  # noqa: F401  (registers the colormaps)

    maps = {name: np.asarray(value) for name, value in dict(outputs).items()}
    maps = {name: value for name, value in maps.items() if value.ndim == 3}
    if not maps:
        raise ValueError(
            "`outputs` must map layer names to (H, W, C) feature maps; none were found."
        )
    cols = min(max_channels, max(value.shape[-1] for value in maps.values()))
    fig = _new_figure(fig, (1.4 * cols, 1.5 * len(maps)))
    axes = fig.subplots(len(maps), cols, squeeze=False)
    for row, (name, value) in zip(axes, maps.items(), strict=True):
        for channel, ax in enumerate(row):
            ax.axis("off")
            if channel < value.shape[-1]:
                ax.imshow(value[..., channel], cmap="viridis", interpolation="nearest")
                height, width, depth = value.shape
                label = f"{name} {height}x{width}x{depth} #0" if channel == 0 else f"#{channel}"
                ax.set_title(label, fontsize=7)
    fig.tight_layout()
    return fig


#: Outline colours of successive windows in `plot_number_grid`.
WINDOW_COLOURS = ("crimson", "darkorange", "purple", "green")


def plot_number_grid(values, title="", windows=(), texts=None, shade=None, cmap="Blues",
                     vmin=None, vmax=None, fontsize=10, ax=None):
    """Draw a small 2-D array as a grid of cells with their numbers written in.

    The picture of every hand-worked example: an image, a kernel or a feature
    map, with kernel windows outlined and zero padding greyed out.

    Parameters
    ----------
    values : (H, W) array_like
    title : str
    windows : sequence of (row_slice, col_slice)
        Windows to outline, in crimson, dark orange, purple, green, then again.
    texts : (H, W) nested sequence of str, optional
        Text to write in each cell instead of its value (e.g. ``"1·0"``).
    shade : (H, W) bool ndarray, optional
        Cells drawn grey, e.g. the zeros of padding.
    cmap : str
        Colour map of the cells. By default the colours stay light
        (``vmin``/``vmax`` are widened) so that the numbers remain readable.
    vmin, vmax : float, optional
    fontsize : float
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_number_grid([[1, 0], [2, 5]], windows=[(slice(0, 1), slice(0, 2))])
    >>> [text.get_text() for text in ax.texts], len(ax.patches)
    (['1', '0', '2', '5'], 1)
    """
    from matplotlib.patches import Rectangle

    values = np.asarray(values)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(
            f"`values` must be a non-empty 2-D array. Received shape {values.shape}."
        )
    ax = _new_axes(ax, (0.6 * values.shape[1] + 1, 0.6 * values.shape[0] + 1))
    colours = values.astype(float)
    if shade is not None:
        colours = np.where(shade, np.nan, colours)
    low, high = np.nanmin(colours), np.nanmax(colours)
    vmin = low - 0.5 * (high - low) if vmin is None else vmin
    vmax = high * 1.6 + 1 if vmax is None else vmax
    ax.imshow(np.ma.masked_invalid(colours), cmap=cmap, vmin=vmin, vmax=vmax)
    if shade is not None:
        ax.imshow(np.where(shade, 0.8, np.nan), cmap="Greys", vmin=0, vmax=1.5)
    for (row, col), value in np.ndenumerate(values):
        text = texts[row][col] if texts is not None else f"{value:g}"
        ax.text(col, row, text, ha="center", va="center", fontsize=fontsize)
    for (rows, cols), colour in zip(windows, itertools.cycle(WINDOW_COLOURS)):
        ax.add_patch(Rectangle((cols.start - 0.5, rows.start - 0.5), cols.stop - cols.start,
                               rows.stop - rows.start, fill=False, edgecolor=colour, lw=3))
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_title(title)
    return ax


def overlay_heatmap(image, heatmap, alpha=0.4, cmap="jet"):
    """Lay a heatmap in [0, 1] over an image, as one RGB uint8 picture.

    The heatmap is stretched to the image's size (each of its cells becomes a
    block of pixels, so nothing is invented between them), coloured with
    `cmap` (with "jet": blue for 0, red for 1), and blended with the image:
    ``(1 - alpha) * image + alpha * colour``.

    Parameters
    ----------
    image : (H, W, 3) uint8 ndarray
    heatmap : (h, w) array_like
        Values in [0, 1]; H and W must be multiples of h and w.
    alpha : float
        How much of each pixel is the heatmap's colour.
    cmap : str
        A Matplotlib colormap name.

    Returns
    -------
    (H, W, 3) uint8 ndarray

    Examples
    --------
    >>> image = np.full((4, 4, 3), 100, dtype=np.uint8)
    >>> out = overlay_heatmap(image, [[0.0, 0.0], [0.0, 1.0]], alpha=0.5)
    >>> out[0, 0].tolist(), out[3, 3].tolist()   # half dark blue, half dark red
    ([50, 50, 114], [114, 50, 50])
    """
    import matplotlib

    image = np.asarray(image)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"`image` must be an (H, W, 3) uint8 array. Received dtype "
                         f"{image.dtype}, shape {image.shape}.")
    if heatmap.ndim != 2 or heatmap.size == 0 or image.shape[0] % heatmap.shape[0] \
            or image.shape[1] % heatmap.shape[1]:
        raise ValueError(f"`heatmap` must be 2-D, with a size that divides the image's "
                         f"{image.shape[:2]}. Received shape {heatmap.shape}.")
    if not np.isfinite(heatmap).all() or heatmap.min() < 0 or heatmap.max() > 1:
        raise ValueError("`heatmap` must hold finite values in [0, 1] (grad_cam's output).")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must lie in [0, 1]. Received alpha={alpha!r}.")
    rows, cols = image.shape[0] // heatmap.shape[0], image.shape[1] // heatmap.shape[1]
    stretched = np.kron(heatmap, np.ones((rows, cols)))[..., np.newaxis]
    colour = matplotlib.colormaps[cmap](stretched[..., 0])[..., :3] * 255.0
    blended = (1.0 - alpha) * image + alpha * colour
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def plot_grad_cam(image, heatmap, ax=None, title=None, alpha=0.4):
    """Show `overlay_heatmap(image, heatmap)` on `ax` (a new one if None); returns `ax`.

    Parameters
    ----------
    image : (H, W, 3) uint8 ndarray
    heatmap : (h, w) array_like in [0, 1]
        E.g. `cifar_helpers.interpret.grad_cam`'s output.
    ax : matplotlib Axes, optional
    title : str, optional
    alpha : float

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (3, 3))
    ax.imshow(overlay_heatmap(image, heatmap, alpha=alpha), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_reliability_diagram(bins, ax=None, title=None):
    """A reliability diagram: accuracy against confidence, bin by bin.

    Bars show each bin's accuracy; the diagonal is perfect calibration, and
    the red part of a bar is the gap to it. Bins without predictions are left
    empty.

    Parameters
    ----------
    bins : cifar_helpers.calibration.ReliabilityBins
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (4, 4))
    edges = np.asarray(bins.edges)
    widths = np.diff(edges)
    filled = np.asarray(bins.counts) > 0
    accuracy = np.where(filled, bins.accuracy, 0.0)
    confidence = np.where(filled, bins.confidence, 0.0)
    ax.bar(edges[:-1], accuracy, width=widths, align="edge", edgecolor="black",
           color="tab:blue", label="accuracy")
    ax.bar(edges[:-1], confidence - accuracy, bottom=accuracy, width=widths, align="edge",
           edgecolor="tab:red", color="tab:red", alpha=0.3, label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfectly calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return ax
