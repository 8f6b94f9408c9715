"""The strides and padding explorer: every window of a kernel, and the output-size formula."""

from __future__ import annotations

import ipywidgets as widgets

from ..drawing import png_bytes, stride_windows_picture
from ..windows import output_size, pad_amounts
from ._frame import (
    PADDING_OPTIONS,
    _assemble,
    _Counter,
    _guarded,
    _message,
    _observe,
    _readout,
    _row,
    _title,
)

__all__ = ["stride_padding_explorer"]


def _size_formula(size, kernel_size, strides, padding):
    """The output-size arithmetic as the text students see; the result from `output_size`.

    Examples
    --------
    >>> _size_formula(7, 3, 2, "valid"), _size_formula(7, 3, 2, "same")
    ('⌊(7 + 2·0 − 3) / 2⌋ + 1 = 3', '⌈7 / 2⌉ = 4')
    """
    out = output_size(size, kernel_size, strides, padding)
    if padding == "same":
        return f"⌈{size} / {strides}⌉ = {out}"
    p = 0 if padding == "valid" else int(padding)
    return f"⌊({size} + 2·{p} − {kernel_size}) / {strides}⌋ + 1 = {out}"


def stride_padding_explorer():
    """Draw every window of a kernel sliding over a grid, with the output-size formula.

    Controls: input size, kernel size, strides, padding, and the window to
    highlight. The readout gives the output size by the formula
    ⌊(n + 2p − f) / s⌋ + 1 (or ⌈n / s⌉ for "same") and the value of
    ``cifar_helpers.windows.output_size``. A kernel that does not fit shows a
    message and leaves the last valid drawing in place.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["output_size"]`` is ``output_size(n, f, s, padding)``.
    """
    size = widgets.IntSlider(value=7, min=3, max=12, description="input size")
    kernel_size = widgets.IntSlider(value=3, min=1, max=7, description="kernel_size")
    strides = widgets.IntSlider(value=2, min=1, max=4, description="strides")
    padding = widgets.Dropdown(options=[*PADDING_OPTIONS, ("3", 3)], value="valid",
                               description="padding")
    picture = widgets.Image(format="png", layout=widgets.Layout(width="24em"))
    caption = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    controls = {}

    def redraw():
        n, k, s, pad = size.value, kernel_size.value, strides.value, padding.value
        (before, after), _ = pad_amounts((n, n), k, s, pad)  # raises if the kernel does not fit
        out = output_size(n, k, s, pad)
        count = out * out
        t = window.set_count(count) - 1
        i, j = divmod(t, out)
        cell = max(8, 336 // (n + before + after))  # about 336 pixels a side, as the 24em
        picture.value = png_bytes(stride_windows_picture(n, k, s, pad, (i, j), cell))
        caption.value = f"{n}×{n} input, {k}×{k} kernel, strides {s}, padding {pad!r}"
        formula = _size_formula(n, k, s, pad)
        result.clear()
        result.update(output_size=out, formula=formula, pads=(before, after), window=(i, j))
        readout.value = (f"output size: {formula} → {out}×{out} "
                         f"(output_size gives {out}); window {t + 1} of {count} covers rows "
                         f"{i * s}–{i * s + k - 1}, columns {j * s}–{j * s + k - 1}")

    update = _guarded(message, redraw)
    window = _Counter("window", update, controls, "window")
    _observe(update, size, kernel_size, strides, padding)
    update()
    window.ready()
    controls.update(size=size, kernel_size=kernel_size, strides=strides, padding=padding)
    return _assemble(
        [
            _title("Strides and padding",
                   "Blue: every window; yellow: the chosen one; grey: zero padding."),
            _row(widgets.VBox([size, kernel_size, strides, padding, window.box]),
                 widgets.VBox([picture, caption])),
            readout, message,
        ],
        controls, readout, message, result,
    )
