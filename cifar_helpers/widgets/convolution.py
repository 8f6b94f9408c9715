"""The convolution stepper: a kernel stepping across a small image, one output value at a time."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..drawing import convolution_step_html
from ._frame import (
    PADDING_OPTIONS,
    _as_grid,
    _assemble,
    _fmt,
    _guarded,
    _kernel_text,
    _message,
    _observe,
    _readout,
    _Syncing,
    _title,
    parse_kernel,
)

__all__ = ["convolution_stepper"]


def convolution_stepper(image=None, kernel=None):
    """Step a kernel across a small image, one output value at a time.

    Shows the (padded) input with the current window highlighted, the kernel,
    the element-wise products and their sum, and the output filling up.
    Controls: kernel (named or typed), strides, padding, the step slider and
    Previous / Next / Last buttons.

    Parameters
    ----------
    image : (H, W) array_like, optional
        At most 20×20, offered first. The tutorial's 5×5 binary image
        (``SEED_IMAGE``, the default) and its 8×7 stride example (``STRIDE_GRID``)
        are always offered.
    kernel : (kh, kw) array_like, optional
        Default: the tutorial's 3×3 kernel (``SEED_KERNEL``).

    Returns
    -------
    ipywidgets.VBox
        ``box.readout`` reads e.g. ``step 1 of 9: output[0, 0] = 4``.

    Raises
    ------
    ValueError
        If `image` or `kernel` is not a 2-D array of finite numbers of at most 20×20.
    """
    from ..convolution import conv2d
    from ..examples import SEED_IMAGE, SEED_KERNEL, STRIDE_GRID
    from ..filters import FILTERS
    from ..windows import output_size, pad_amounts, pad_image, window_positions

    images = {"tutorial 5×5 image": _as_grid(SEED_IMAGE, "image"),
              "stride example 8×7": _as_grid(STRIDE_GRID, "image")}
    if image is not None:
        images = {"your image": _as_grid(image, "image"), **images}
    named = {"tutorial kernel": np.asarray(SEED_KERNEL, dtype=float)}
    if kernel is not None:
        named = {"your kernel": _as_grid(kernel, "kernel"), **named}
    named.update({name: np.asarray(k, dtype=float) for name, k in FILTERS.items()})
    first = next(iter(named))

    image_choice = widgets.Dropdown(options=list(images), description="image")
    kernel_choice = widgets.Dropdown(options=[*named, "custom"], value=first,
                                     description="kernel")
    kernel_text = widgets.Text(value=_kernel_text(named[first]), description="values",
                               continuous_update=False,
                               layout=widgets.Layout(width="320px"))
    strides = widgets.IntSlider(value=1, min=1, max=3, description="strides")
    padding = widgets.Dropdown(options=PADDING_OPTIONS, value="valid", description="padding")
    step = widgets.IntSlider(value=1, min=1, max=1, description="step").add_class("cifar-step")
    previous = widgets.Button(description="◀ Previous", layout=widgets.Layout(width="110px"))
    following = widgets.Button(description="Next ▶", layout=widgets.Layout(width="110px"))
    last = widgets.Button(description="Last ▶▶", layout=widgets.Layout(width="110px"))
    grids = widgets.HTML()
    arithmetic = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    syncing = _Syncing()

    def recompute():
        image = images[image_choice.value]
        if kernel_choice.value in named:
            kernel_values = named[kernel_choice.value]
        else:
            kernel_values = parse_kernel(kernel_text.value)
        s, pad = strides.value, padding.value
        pads = pad_amounts(image.shape, kernel_values.shape, s, pad)  # checks that it fits
        output = np.asarray(conv2d(image, kernel_values, strides=s, padding=pad))
        result.clear()
        result.update(
            image=image, kernel=kernel_values, pads=pads, output=output, strides=s, padding=pad,
            padded=pad_image(image, kernel_values.shape, s, pad),
            windows=list(window_positions(image.shape, kernel_values.shape, s, pad)),
            output_shape=output_size(image.shape, kernel_values.shape, s, pad),
        )
        step.max = output.size
        if step.value > output.size:
            step.value = output.size

    def draw():
        if not result:
            return
        output, kernel_values = result["output"], result["kernel"]
        t = min(step.value, output.size) - 1
        i, j, rows, cols = result["windows"][t]
        grids.value, arithmetic.value = convolution_step_html(
            result["image"], kernel_values, output, t + 1, result["strides"], result["padding"])
        value = output[i, j]
        result.update(step=t + 1, cell=(i, j), value=float(value),
                      products=result["padded"][rows, cols] * kernel_values)
        readout.value = (f"step {t + 1} of {output.size}: output[{i}, {j}] = {_fmt(value)}"
                         f" &nbsp;·&nbsp; output size {output.shape[0]}×{output.shape[1]}")

    def on_kernel_choice(change):
        if syncing.on or change["new"] == "custom":
            return
        with syncing:
            kernel_text.value = _kernel_text(named[change["new"]])
        full_update()

    def on_kernel_text(_change):
        if not syncing.on:
            try:
                typed = parse_kernel(kernel_text.value)
            except ValueError:
                typed = None
            chosen = named.get(kernel_choice.value)
            if typed is None or chosen is None or typed.shape != chosen.shape or \
                    not np.array_equal(typed, chosen):
                with syncing:
                    kernel_choice.value = "custom"
        full_update()

    def full():
        result.clear()
        grids.value = arithmetic.value = readout.value = ""
        recompute()
        draw()

    full_update = _guarded(message, full)
    draw_update = _guarded(message, draw)
    kernel_choice.observe(on_kernel_choice, names="value")
    kernel_text.observe(on_kernel_text, names="value")
    _observe(full_update, image_choice, strides, padding)
    step.observe(draw_update, names="value")

    def move(delta):
        def click(_button):
            step.value = min(max(step.value + delta, step.min), step.max)
        return click

    previous.on_click(move(-1))
    following.on_click(move(+1))
    last.on_click(lambda _button: setattr(step, "value", step.max))
    full_update()

    controls = dict(image=image_choice, kernel=kernel_choice, kernel_values=kernel_text,
                    strides=strides, padding=padding, step=step, previous=previous,
                    next=following, last=last)
    return _assemble(
        [
            _title("Convolution, step by step",
                   "Each output value is the sum of the window times the kernel."),
            widgets.HBox([kernel_choice, kernel_text]),
            widgets.HBox([image_choice, strides, padding]),
            widgets.HBox([step, previous, following, last]),
            grids, arithmetic, readout, message,
        ],
        controls, readout, message, result,
    )
