"""Pictures of learning: a two-weight loss landscape, the path of gradient descent, a loss curve.

Notebook 08 (how a CNN learns) and its instructor widget
(`cifar_helpers.widgets.learning`) draw gradient descent with these functions:

- `loss_surface` evaluates a loss of two weights on a grid of weight values;
- `plot_descent` and `plot_loss_history` draw, for the notebook, that surface as
  contour lines with the steps taken on it, and the loss after each step
  (Matplotlib, on a new ``Figure`` unless given an ``ax``; never pyplot);
- `descent_picture` and `loss_history_picture` draw the same as ``(H, W, 3)``
  uint8 pictures with NumPy, in a few milliseconds, for the widget (encode
  them with `cifar_helpers.drawing.png_bytes`).

The functions take plain arrays and callables; they never compute a gradient
themselves (that is `cifar_helpers.backprop`'s job). This module imports NumPy
only; Matplotlib and SciPy are imported inside the functions that need them.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_real_array
from .drawing import heatmap

__all__ = [
    "descent_picture",
    "loss_history_picture",
    "loss_surface",
    "plot_descent",
    "plot_loss_history",
]

#: Colour of the descent path and its points (Matplotlib, and RGB for the pictures).
PATH_COLOUR = "#e65100"
_ORANGE, _BLUE, _YELLOW, _GREY = (230, 81, 0), (30, 136, 229), (253, 216, 53), (158, 158, 158)


def _axes(ax, figsize):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize).subplots()


def _values(values, name):
    values = as_real_array(values, name, (1,), "(n,)").astype(float)
    if values.size < 2 or np.any(np.diff(values) <= 0):
        raise ValueError(f"`{name}` must hold at least 2 increasing numbers. "
                         f"Received {values.size} value(s).")
    return values


def loss_surface(loss, w0_values, w1_values):
    """A loss of two weights evaluated on a grid: the landscape gradient descent walks on.

    Parameters
    ----------
    loss : callable
        Maps a ``(2,)`` array ``[w0, w1]`` to a number.
    w0_values, w1_values : (n0,) and (n1,) array_like
        Increasing values of the first and the second weight.

    Returns
    -------
    (n1, n0) ndarray
        ``surface[i, j] = loss([w0_values[j], w1_values[i]])``: like a picture
        whose columns follow `w0` (horizontal axis) and rows follow `w1`
        (vertical axis), as ``plt.contour(w0_values, w1_values, surface)`` wants.

    Raises
    ------
    ValueError
        If `loss` is not callable, the values are not increasing, or `loss`
        does not return a finite number.

    Examples
    --------
    >>> surface = loss_surface(lambda w: (w[0] - 1) ** 2 + 10 * w[1] ** 2, [0, 1, 2], [-1, 0])
    >>> surface
    array([[11., 10., 11.],
           [ 1.,  0.,  1.]])
    """
    if not callable(loss):
        raise ValueError(f"`loss` must be a function of the weights [w0, w1]. "
                         f"Received {type(loss).__name__}.")
    w0_values, w1_values = _values(w0_values, "w0_values"), _values(w1_values, "w1_values")
    surface = np.empty((w1_values.size, w0_values.size))
    for i, w1 in enumerate(w1_values):
        for j, w0 in enumerate(w0_values):
            surface[i, j] = loss(np.array([w0, w1]))
    if not np.all(np.isfinite(surface)):
        raise ValueError("`loss` must return a finite number at every grid point.")
    return surface


def plot_descent(w0_values, w1_values, surface, path, minimum=None, title="", ax=None):
    """Contour lines of a two-weight loss, with the path of gradient descent drawn on them.

    Parameters
    ----------
    w0_values, w1_values, surface
        The grid and the loss values, as `loss_surface` returns them.
    path : (steps + 1, 2) array_like
        The weights ``[w0, w1]`` at the start and after each step. Points
        outside the grid are cut off by the frame (a path that diverges
        leaves the picture).
    minimum : (2,) array_like, optional
        Where the loss is lowest, drawn as a star.
    title : str
    ax : matplotlib.axes.Axes, optional
        Drawn on; by default a new ``Figure`` (not pyplot) of 4.5×4 inches.

    Returns
    -------
    matplotlib.axes.Axes
        Its last line is the path (``ax.lines[-1].get_xydata()`` gives it back).

    Raises
    ------
    ValueError
        If the shapes do not fit together.

    Examples
    --------
    >>> w0, w1 = np.linspace(-2, 2, 5), np.linspace(-1, 1, 3)
    >>> surface = loss_surface(lambda w: w[0] ** 2 + 4 * w[1] ** 2, w0, w1)
    >>> ax = plot_descent(w0, w1, surface, [[2, 1], [1, -0.5], [0.5, 0.25]], minimum=[0, 0])
    >>> ax.lines[-1].get_xydata().tolist()
    [[2.0, 1.0], [1.0, -0.5], [0.5, 0.25]]
    >>> ax.get_xlabel(), [float(limit) for limit in ax.get_xlim()]
    ('weight w0', [-2.0, 2.0])
    """
    w0_values, w1_values = _values(w0_values, "w0_values"), _values(w1_values, "w1_values")
    surface = as_real_array(surface, "surface", (2,), "(n1, n0)").astype(float)
    if surface.shape != (w1_values.size, w0_values.size):
        raise ValueError(f"`surface` must have shape (len(w1_values), len(w0_values)) = "
                         f"{(w1_values.size, w0_values.size)}. Received {surface.shape}.")
    path = np.array(path, dtype=float).reshape(-1, 2)  # a diverging path may hold inf: allowed
    ax = _axes(ax, (4.5, 4))
    low, high = float(surface.min()), float(surface.max())
    levels = np.geomspace(max(low, high * 1e-4, 1e-12), high, 14) if high > 0 else 14
    ax.contourf(w0_values, w1_values, surface, levels=levels, cmap="Blues_r", alpha=0.5)
    ax.contour(w0_values, w1_values, surface, levels=levels, colors="#1e88e5", linewidths=0.7)
    if minimum is not None:
        ax.plot(*np.asarray(minimum, dtype=float)[:2], marker="*", markersize=14,
                color="#fdd835", markeredgecolor="black", linestyle="none")
    ax.plot(*path[0], marker="s", markersize=8, color=PATH_COLOUR, linestyle="none")
    ax.plot(path[:, 0], path[:, 1], "-o", color=PATH_COLOUR, markersize=3, linewidth=1.2)
    ax.set_xlim(w0_values[0], w0_values[-1])
    ax.set_ylim(w1_values[0], w1_values[-1])
    ax.set_xlabel("weight w0")
    ax.set_ylabel("weight w1")
    ax.set_title(title, fontsize=10)
    return ax


def plot_loss_history(losses, label=None, title="", ax=None):
    """The loss after each step, on a logarithmic scale.

    Parameters
    ----------
    losses : (steps + 1,) array_like
        The loss at the start (step 0) and after each step. Up to 60 steps,
        each is marked with a dot.
    label : str, optional
        Legend entry of this curve (call again with the same `ax` to compare curves).
    title : str
    ax : matplotlib.axes.Axes, optional
        Drawn on; by default a new ``Figure`` (not pyplot) of 4.5×3 inches.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_loss_history([1.0, 0.5, 0.25], label="lr 0.1")
    >>> ax.lines[0].get_ydata().tolist(), ax.get_yscale(), ax.get_xlabel()
    ([1.0, 0.5, 0.25], 'log', 'step')
    """
    losses = np.array(losses, dtype=float).ravel()
    ax = _axes(ax, (4.5, 3))
    ax.plot(np.arange(losses.size), losses, marker="o" if losses.size <= 61 else None,
            markersize=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if label is not None:
        ax.legend(fontsize=9)
    ax.set_title(title, fontsize=10)
    return ax


# -- the same, drawn with NumPy for the widget ---------------------------------------------------
def _paint(canvas, rows, cols, colour, half=0):
    """Paint squares of side ``2 * half + 1`` centred on the pixels (rows, cols) that fit."""
    height, width = canvas.shape[:2]
    rows, cols = np.rint(rows).astype(np.int64), np.rint(cols).astype(np.int64)
    for dr in range(-half, half + 1):
        for dc in range(-half, half + 1):
            r, c = rows + dr, cols + dc
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            canvas[r[inside], c[inside]] = colour


def _clip(start, end, low, high):
    """The part of the segment start-end inside the box [low, high] (per axis), or None."""
    t0, t1 = 0.0, 1.0
    for p, d, lo, hi in zip(start, end - start, low, high, strict=True):
        if d == 0:
            if not lo <= p <= hi:
                return None
            continue
        a, b = sorted(((lo - p) / d, (hi - p) / d))
        t0, t1 = max(t0, a), min(t1, b)
    if t0 > t1:
        return None
    return start + t0 * (end - start), start + t1 * (end - start)


def _polyline(canvas, rows, cols, colour, half=0):
    """Straight segments between consecutive points (pixel coordinates), clipped to `canvas`."""
    points = np.column_stack([rows, cols]).astype(float)
    low, high = np.array([-2.0, -2.0]), np.array(canvas.shape[:2], dtype=float) + 1
    for start, end in zip(points[:-1], points[1:], strict=True):
        clipped = _clip(start, end, low, high)
        if clipped is None:
            continue
        start, end = clipped
        count = int(np.abs(end - start).max()) + 2
        samples = start + np.linspace(0.0, 1.0, count)[:, None] * (end - start)
        _paint(canvas, samples[:, 0], samples[:, 1], colour, half)


def descent_picture(w0_values, w1_values, surface, path, minimum=None, size=240, levels=14):
    """`plot_descent` as a picture: the loss in colours and contour lines, the path in orange.

    Parameters
    ----------
    w0_values, w1_values, surface
        As `loss_surface` returns them; the values evenly spaced.
    path : (steps + 1, 2) array_like
        The weights at the start (a large square) and after each step.
        Points outside the grid, or not finite, are left out.
    minimum : (2,) array_like, optional
        Drawn as a yellow square with a black frame.
    size : int
        The picture is ``size × size`` pixels: `w0` grows to the right, `w1` upwards.
    levels : int
        Number of contour bands, evenly spaced in the logarithm of the loss.

    Returns
    -------
    (size, size, 3) uint8 ndarray

    Examples
    --------
    >>> w0, w1 = np.linspace(-2, 2, 5), np.linspace(-2, 2, 5)
    >>> surface = loss_surface(lambda w: 1 + w[0] ** 2 + w[1] ** 2, w0, w1)
    >>> picture = descent_picture(w0, w1, surface, [[-2, 2], [0, 0]], minimum=[1, -1], size=41)
    >>> picture.shape, picture[0, 0].tolist(), picture[20, 20].tolist()   # start, path's end
    ((41, 41, 3), [230, 81, 0], [230, 81, 0])
    >>> picture[30, 30].tolist()                                          # the minimum
    [253, 216, 53]
    """
    from scipy import ndimage

    w0_values, w1_values = _values(w0_values, "w0_values"), _values(w1_values, "w1_values")
    surface = as_real_array(surface, "surface", (2,), "(n1, n0)").astype(float)
    if surface.shape != (w1_values.size, w0_values.size):
        raise ValueError(f"`surface` must have shape (len(w1_values), len(w0_values)) = "
                         f"{(w1_values.size, w0_values.size)}. Received {surface.shape}.")
    pixels = np.arange(size, dtype=float) / (size - 1)
    rows, cols = np.meshgrid((1 - pixels) * (w1_values.size - 1), pixels * (w0_values.size - 1),
                             indexing="ij")
    high = float(surface.max())
    logs = np.log10(np.maximum(surface, max(high * 1e-6, 1e-300)))
    values = ndimage.map_coordinates(logs, [rows, cols], order=1, mode="nearest")
    low, top = float(values.min()), float(values.max())
    canvas = np.rint(0.55 * heatmap(values, cmap="Blues_r") + 0.45 * 255).astype(np.uint8)
    bands = np.floor((values - low) / ((top - low) or 1.0) * levels)
    edge = np.zeros((size, size), bool)
    edge[:, :-1] |= bands[:, :-1] != bands[:, 1:]
    edge[:-1, :] |= bands[:-1, :] != bands[1:, :]
    canvas[edge] = _BLUE

    def to_pixels(points):
        points = np.array(points, dtype=float).reshape(-1, 2)
        points = points[np.all(np.isfinite(points), axis=1)]
        span0, span1 = w0_values[-1] - w0_values[0], w1_values[-1] - w1_values[0]
        return ((w1_values[-1] - points[:, 1]) / span1 * (size - 1),
                (points[:, 0] - w0_values[0]) / span0 * (size - 1))

    if minimum is not None:
        r, c = to_pixels(np.asarray(minimum, dtype=float)[:2])
        _paint(canvas, r, c, (0, 0, 0), half=5)
        _paint(canvas, r, c, _YELLOW, half=4)
    r, c = to_pixels(path)
    _polyline(canvas, r, c, _ORANGE, half=1)
    _paint(canvas, r, c, _ORANGE, half=2)
    _paint(canvas, r[:1], c[:1], _ORANGE, half=5)
    return canvas


def loss_history_picture(losses, size=(160, 260), min_steps=10):
    """`plot_loss_history` as a picture: the loss after each step, on a logarithmic scale.

    Parameters
    ----------
    losses : (steps + 1,) array_like
        Values that are not finite and positive are left out.
    size : (int, int)
        ``(height, width)`` in pixels. Step 0 is at the left edge; the highest
        loss at the top, the lowest at the bottom (8 pixels from the edges).
    min_steps : int
        The horizontal axis shows at least this many steps, so that a short
        history is not stretched over the whole width.

    Returns
    -------
    (height, width, 3) uint8 ndarray

    Examples
    --------
    >>> picture = loss_history_picture([100.0, 10.0, 1.0], size=(41, 61), min_steps=2)
    >>> [picture[8, 8].tolist(), picture[20, 30].tolist(), picture[32, 52].tolist()]
    [[30, 136, 229], [30, 136, 229], [30, 136, 229]]
    """
    height, width = size
    losses = np.array(losses, dtype=float).ravel()
    steps = np.flatnonzero(np.isfinite(losses) & (losses > 0))
    canvas = np.full((height, width, 3), 255, np.uint8)
    canvas[[0, -1], :] = _GREY
    canvas[:, [0, -1]] = _GREY
    if steps.size == 0:
        return canvas
    logs = np.log10(losses[steps])
    low, high = float(logs.min()), float(logs.max())
    margin = 8
    rows = margin + (high - logs) / ((high - low) or 1.0) * (height - 1 - 2 * margin)
    if high == low:
        rows = np.full(logs.shape, (height - 1) / 2)
    cols = margin + steps / max(min_steps, int(steps[-1]), 1) * (width - 1 - 2 * margin)
    _polyline(canvas, rows, cols, _BLUE)
    _paint(canvas, rows, cols, _BLUE, half=1)
    return canvas
