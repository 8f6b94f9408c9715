"""The convolution stepper: a kernel stepping across a small image, one output value at a time."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..drawing import convolution_step_html
from ._frame import (
    PADDING_OPTIONS,
    _as_grid,
    _assemble,
    _check_finite,
    _Counter,
    _fmt,
    _guarded,
    _kernel_text,
    _message,
    _observe,
    _readout,
    _row,
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

    Notes
    -----
    A bad kernel (a typo, a kernel larger than the padded image, values so
    large that the sums overflow) shows a message and leaves the last valid
    drawing in place.
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
                               continuous_update=False, layout=widgets.Layout(width="24em"))
    strides = widgets.IntSlider(value=1, min=1, max=3, description="strides")
    padding = widgets.Dropdown(options=PADDING_OPTIONS, value="valid", description="padding")
    previous = widgets.Button(description="◀ Previous")
    following = widgets.Button(description="Next ▶")
    last = widgets.Button(description="Last ▶▶")
    grids = widgets.HTML()
    arithmetic = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    controls = {}
    syncing = _Syncing()

    def recompute():
        """Everything about the current image, kernel, strides and padding, or an error."""
        image = images[image_choice.value]
        if kernel_choice.value in named:
            kernel_values = named[kernel_choice.value]
        else:
            kernel_values = parse_kernel(kernel_text.value)
        s, pad = strides.value, padding.value
        pads = pad_amounts(image.shape, kernel_values.shape, s, pad)  # checks that it fits
        output = np.asarray(conv2d(image, kernel_values, strides=s, padding=pad))
        _check_finite(output, "output")
        return dict(
            image=image, kernel=kernel_values, pads=pads, output=output, strides=s, padding=pad,
            padded=pad_image(image, kernel_values.shape, s, pad),
            windows=list(window_positions(image.shape, kernel_values.shape, s, pad)),
            output_shape=output_size(image.shape, kernel_values.shape, s, pad),
        )

    def draw(state):
        """Show step `step.value` of `state` (from `recompute`); change nothing on error."""
        output, kernel_values = state["output"], state["kernel"]
        t = step.set_count(output.size) - 1
        i, j, rows, cols = state["windows"][t]
        tables, line = convolution_step_html(
            state["image"], kernel_values, output, t + 1, state["strides"], state["padding"])
        value = output[i, j]
        grids.value, arithmetic.value = tables, line
        result.clear()
        result.update(state, step=t + 1, cell=(i, j), value=float(value),
                      products=state["padded"][rows, cols] * kernel_values)
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

    def full():  # recomputed for every step too (tiny arrays), so a bad input's message stays
        draw(recompute())

    full_update = _guarded(message, full)
    step = _Counter("step", full_update, controls, "step", "cifar-step")
    kernel_choice.observe(on_kernel_choice, names="value")
    kernel_text.observe(on_kernel_text, names="value")
    _observe(full_update, image_choice, strides, padding)

    def move(delta):
        def click(_button):
            slider = step.slider
            slider.value = min(max(slider.value + delta, slider.min), slider.max)
        return click

    previous.on_click(move(-1))
    following.on_click(move(+1))
    last.on_click(lambda _button: setattr(step.slider, "value", step.slider.max))
    full_update()
    step.ready()

    controls.update(image=image_choice, kernel=kernel_choice, kernel_values=kernel_text,
                    strides=strides, padding=padding, previous=previous, next=following,
                    last=last)
    return _assemble(
        [
            _title("Convolution, step by step",
                   "Each output value is the sum of the window times the kernel."),
            _row(kernel_choice, kernel_text),
            _row(image_choice, strides, padding),
            _row(step.box, previous, following, last),
            grids, arithmetic, readout, message,
        ],
        controls, readout, message, result,
    )
