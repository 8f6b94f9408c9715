"""The activation explorer: ReLU, tanh or sigmoid of a feature map, with histograms."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._validation import as_real_array
from ..drawing import activation_picture, png_bytes
from ._frame import _assemble, _fixed, _fmt, _guarded, _message, _readout, _row, _title

__all__ = ["activation_explorer"]

#: Sobel's kernel for vertical edges (Sobel and Feldman, 1968): positive where the
#: image gets darker from left to right, negative where it gets brighter.
SOBEL_COLUMNS = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


def _default_feature_map():
    """A signed feature map: a vertical-edge kernel over a small grey photo of a cat."""
    from ..convolution import conv2d
    from ..data import scale_pixels
    from ..photos import load_image, photo_path

    photo = load_image(photo_path("cat_2.png"), size=None, max_side=96)
    grey = scale_pixels(photo).mean(axis=2, dtype=float)
    return np.asarray(conv2d(grey, SOBEL_COLUMNS), dtype=float)


def activation_explorer(feature_map=None):
    """ReLU, tanh or sigmoid applied to a feature map, with histograms before and after.

    Parameters
    ----------
    feature_map : (H, W) or (H, W, 1) array_like, optional
        Default: a vertical-edge (Sobel) response of a grey photo of a cat,
        with positive and negative values.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["after"]`` is the chosen activation of the map.

    Raises
    ------
    ValueError
        If `feature_map` is not an (H, W) array of finite numbers.
    """
    from .. import activations

    source = _default_feature_map() if feature_map is None else feature_map
    data = as_real_array(source, "feature_map", (2, 3), "(H, W)").astype(float)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[..., 0]
    if data.ndim != 2:
        raise ValueError(f"`feature_map` must have shape (H, W) or (H, W, 1). "
                         f"Received feature_map.shape={data.shape}.")
    functions = {"relu": activations.relu, "tanh": activations.tanh,
                 "sigmoid": activations.sigmoid}
    choice = widgets.ToggleButtons(options=list(functions), value="relu",
                                   description="activation")
    before_picture, after_picture = widgets.Image(format="png"), widgets.Image(format="png")
    before_caption, after_caption, after_title = widgets.HTML(), widgets.HTML(), widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    drawn = {}  # activation name -> (values, PNG): each is computed once, then shown at once

    def histogram_caption(values):
        return (f"<small>map above, histogram of its values below: from {_fmt(values.min())} "
                f"to {_fmt(values.max())}; grey line: 0</small>")

    def redraw():
        name = choice.value
        if name not in drawn:
            after = np.asarray(functions[name](data), dtype=float)
            drawn[name] = after, png_bytes(activation_picture(after))
        after, picture = drawn[name]
        after_picture.value = picture
        after_title.value = f"<b>after {name}</b>"
        after_caption.value = histogram_caption(after)
        zeroed = float(np.mean((after == 0) & (data != 0)) * 100)
        result.update(before=data, after=after)
        readout.value = (
            f"before: min {_fmt(data.min())}, max {_fmt(data.max())}, mean {_fmt(data.mean())}"
            f" · after {name}: min {_fmt(after.min())}, max {_fmt(after.max())}, "
            f"mean {_fmt(after.mean())} · {zeroed:.1f}% of the values set to 0"
        )

    before_picture.value = png_bytes(activation_picture(data))
    before_caption.value = histogram_caption(data)
    update = _guarded(message, redraw)
    choice.observe(update, names="value")
    update()
    return _assemble(
        [_title("Activations", "Red: positive, blue: negative values (white: 0)."), choice,
         _row(_fixed(widgets.VBox([widgets.HTML("<b>before</b>"), before_picture,
                                   before_caption])),
              _fixed(widgets.VBox([after_title, after_picture, after_caption]))),
         readout, message],
        dict(activation=choice), readout, message, result,
    )
