"""The gradient-descent explorer: step by step down a two-weight loss, at a chosen learning rate.

The loss is notebook 08's: fit a kernel of two weights ``[[w0, w1]]`` so that
``conv2d(image, [[w0, w1]])`` matches ``conv2d(image, target_kernel)``, by the
mean squared error. Its gradient comes from `cifar_helpers.backprop`
(`conv2d_backward`) and each step is `sgd_momentum_step`, Keras' SGD.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._validation import as_real_array
from ..backprop import conv2d_backward, sgd_momentum_step
from ..convolution import conv2d
from ..drawing import png_bytes
from ..drawing_learning import descent_picture, loss_history_picture, loss_surface
from ._frame import _assemble, _fixed, _fmt, _guarded, _message, _observe, _readout, _row, _title

__all__ = ["DIFFERENCE_KERNEL", "gradient_descent_explorer"]

#: The kernel the default problem learns: a pixel minus its right-hand neighbour, the
#: simplest edge detector along a row (notebook 08, section 2).
DIFFERENCE_KERNEL = np.array([[1.0, -1.0]])
#: Where the default descent starts, ``[w0, w1]``.
DEFAULT_START = (-1.5, 0.5)
#: Weights farther than this from 0 count as diverged: the walk stops with a message.
DIVERGED = 1e6
#: Points per side of the grid on which the loss surface is drawn.
GRID_POINTS = 51


def _default_image():
    """Notebook 08's picture: a grey 24×24 crop of the cat photo, standardized (mean 0, std 1)."""
    from ..data import scale_pixels
    from ..photos import load_image, photo_path

    grey = scale_pixels(load_image(photo_path("cat_2.png"), size=None, max_side=64)).mean(
        axis=2, dtype=float)
    top, left = grey.shape[0] // 2 - 12, grey.shape[1] // 2 - 12
    crop = grey[top:top + 24, left:left + 24]
    return (crop - crop.mean()) / crop.std()


def kernel_fit(image, target_kernel):
    """The loss of a two-weight kernel and its gradient, for the gradient-descent explorer.

    Parameters
    ----------
    image : (H, W) array_like
    target_kernel : (1, 2) or (2, 1) array_like
        The kernel to recover; its filtered image is the target.

    Returns
    -------
    loss_and_gradient : callable
        ``loss_and_gradient(weights)`` for ``weights = [w0, w1]`` returns
        ``(loss, gradient)``: the mean squared error between
        ``conv2d(image, kernel)`` and ``conv2d(image, target_kernel)``, with
        ``kernel`` the weights in `target_kernel`'s shape, and its ``(2,)``
        gradient (from `conv2d_backward`, the chain rule).

    Raises
    ------
    ValueError
        If `image` is not a 2-D array of finite numbers or `target_kernel`
        does not hold exactly two weights in a row or a column.

    Examples
    --------
    >>> loss_and_gradient = kernel_fit([[0.0, 1.0, 3.0]], [[1.0, -1.0]])
    >>> loss, gradient = loss_and_gradient(np.array([0.0, 0.0]))  # target: [[-1, -2]]
    >>> float(loss)                                                # (1 + 4) / 2
    2.5
    >>> gradient   # 2 * residual / 2 = [1, 2]; w0 saw pixels [0, 1], w1 saw [1, 3]
    array([2., 7.])
    """
    image = as_real_array(image, "image", (2,), "(H, W)").astype(float)
    target_kernel = as_real_array(target_kernel, "target_kernel", (2,), "(1, 2) or (2, 1)")
    if target_kernel.shape not in ((1, 2), (2, 1)):
        raise ValueError("`target_kernel` must hold two weights, shape (1, 2) or (2, 1). "
                         f"Received target_kernel.shape={target_kernel.shape}.")
    if image.shape[0] < target_kernel.shape[0] or image.shape[1] < target_kernel.shape[1]:
        raise ValueError(f"`image` {image.shape} is smaller than the kernel "
                         f"{target_kernel.shape}.")
    shape = target_kernel.shape
    target = conv2d(image, target_kernel.astype(float))

    def loss_and_gradient(weights):
        kernel = np.asarray(weights, dtype=float).reshape(shape)
        residual = conv2d(image, kernel) - target
        loss = float(np.mean(residual**2))
        # dL/d(output) = 2 * residual / N, sent back through the convolution
        _, grad_kernel = conv2d_backward(image, kernel, 2 * residual / residual.size)
        return loss, grad_kernel.ravel()

    return loss_and_gradient


def _pair(value, name):
    pair = as_real_array(value, name, (1,), "(2,)").astype(float)
    if pair.shape != (2,):
        raise ValueError(f"`{name}` must be two numbers [w0, w1]. Received shape {pair.shape}.")
    return pair


def gradient_descent_explorer(image=None, target_kernel=DIFFERENCE_KERNEL, start=DEFAULT_START,
                              learning_rate=0.3, momentum=0.0):
    """Gradient descent on a two-weight loss, one click per step, at a chosen learning rate.

    The loss surface is drawn as contour lines (the star is the minimum, the
    target kernel's weights); every click on **Step** takes one step of SGD
    (`sgd_momentum_step`) from the last point, with the learning rate and
    momentum set on the sliders at that moment. **Reset** goes back to the start.

    Parameters
    ----------
    image : (H, W) array_like, optional
        Default: the standardized grey crop of the cat photo used in notebook 08.
    target_kernel : (1, 2) or (2, 1) array_like
        The kernel to recover (default `DIFFERENCE_KERNEL`, ``[[1, -1]]``).
    start : (2,) array_like
        The weights ``[w0, w1]`` the descent starts from.
    learning_rate, momentum : float
        The sliders' first values.

    Returns
    -------
    ipywidgets.VBox
        ``box.result`` holds ``weights`` (the current point), ``path`` (every
        point so far, ``(steps + 1, 2)``), ``losses``, ``gradient`` (at the
        current point), ``velocity`` and ``step``.

    Raises
    ------
    ValueError
        Bad `image`, `target_kernel` or `start` (see `kernel_fit`).
    """
    image = _default_image() if image is None else image
    loss_and_gradient = kernel_fit(image, target_kernel)
    minimum = np.asarray(target_kernel, dtype=float).ravel()
    start = _pair(start, "start")
    half = 1.2 * float(np.abs(start - minimum).max()) or 1.0
    w0_values = np.linspace(minimum[0] - half, minimum[0] + half, GRID_POINTS)
    w1_values = np.linspace(minimum[1] - half, minimum[1] + half, GRID_POINTS)
    surface = loss_surface(lambda w: loss_and_gradient(w)[0], w0_values, w1_values)

    rate = widgets.FloatLogSlider(value=learning_rate, base=10, min=-3, max=0.5, step=0.05,
                                  description="learning rate", readout_format=".3g",
                                  style={"description_width": "initial"})
    push = widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01,
                               description="momentum", readout_format=".2f")
    step_button = widgets.Button(description="Step ▶")
    ten_button = widgets.Button(description="10 steps ▶▶")
    reset_button = widgets.Button(description="Reset ↺")
    surface_picture, history_picture = (widgets.Image(format="png", layout=widgets.Layout(
        width=width)) for width in ("18em", "19.5em"))
    surface_caption, history_caption = widgets.HTML(), widgets.HTML()
    readout, message = _readout(), _message()
    state = {}
    result = {}

    def restart():
        loss, gradient = loss_and_gradient(start)
        state.update(path=[start.copy()], losses=[loss], gradient=gradient, velocity=None)

    def redraw():
        path, losses = np.array(state["path"]), np.array(state["losses"])
        surface_picture.value = png_bytes(descent_picture(w0_values, w1_values, surface, path,
                                                          minimum=minimum))
        history_picture.value = png_bytes(loss_history_picture(losses))
        surface_caption.value = (
            f"<small>w0 from {_fmt(w0_values[0])} to {_fmt(w0_values[-1])} (to the right), "
            f"w1 from {_fmt(w1_values[0])} to {_fmt(w1_values[-1])} (upwards)</small>")
        history_caption.value = (
            f"<small>from {_fmt(losses.max())} (top) to {_fmt(losses.min())} (bottom), "
            "log scale</small>")
        weights, gradient = path[-1], state["gradient"]
        result.update(weights=weights, path=path, losses=losses, gradient=gradient,
                      velocity=state["velocity"], step=len(path) - 1)
        readout.value = (
            f"step {len(path) - 1}: weights [{_fmt(weights[0])}, {_fmt(weights[1])}], "
            f"loss {_fmt(losses[-1])}, gradient [{_fmt(gradient[0])}, {_fmt(gradient[1])}] "
            f"· next step: learning rate {_fmt(rate.value)}, momentum {_fmt(push.value)}"
        )

    def take_steps(count):
        for _ in range(count):
            weights, velocity = sgd_momentum_step(state["path"][-1], state["gradient"],
                                                  state["velocity"], rate.value, push.value)
            if not np.all(np.abs(weights) < DIVERGED):
                redraw()
                raise ValueError(
                    f"The weights ran away (beyond {DIVERGED:.0e}): the learning rate "
                    f"{_fmt(rate.value)} is too large for this loss. Press Reset."
                )
            loss, gradient = loss_and_gradient(weights)
            state["path"].append(weights)
            state["losses"].append(loss)
            state.update(gradient=gradient, velocity=velocity)
        redraw()

    def reset():
        restart()
        redraw()

    step_button.on_click(_guarded(message, lambda: take_steps(1)))
    ten_button.on_click(_guarded(message, lambda: take_steps(10)))
    reset_button.on_click(_guarded(message, reset))
    _observe(_guarded(message, redraw), rate, push)
    restart()
    _guarded(message, redraw)()
    return _assemble(
        [_title("Gradient descent, step by step",
                "Contours: the loss of the kernel [[w0, w1]]; yellow: its minimum; orange: the "
                "steps. Each step moves against the gradient, scaled by the learning rate."),
         _row(rate, push), _row(step_button, ten_button, reset_button),
         _row(_fixed(widgets.VBox([widgets.HTML("<b>loss surface and path</b>"),
                                   surface_picture, surface_caption])),
              _fixed(widgets.VBox([widgets.HTML("<b>loss after each step</b>"),
                                   history_picture, history_caption]))),
         readout, message],
        dict(learning_rate=rate, momentum=push, step=step_button, ten_steps=ten_button,
             reset=reset_button),
        readout, message, result,
    )
