"""The activation explorer: ReLU, tanh or sigmoid of a feature map, with histograms."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._validation import as_real_array
from ..drawing import figure_png, plot_activation
from ._frame import _assemble, _fmt, _guarded, _message, _readout, _title

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
    picture = widgets.Image(format="png", layout=widgets.Layout(max_width="640px"))
    readout, message = _readout(), _message()
    result = {}

    def redraw():
        after = np.asarray(functions[choice.value](data), dtype=float)
        picture.value = figure_png(plot_activation(data, after, choice.value))
        zeroed = float(np.mean((after == 0) & (data != 0)) * 100)
        result.update(before=data, after=after)
        readout.value = (
            f"before: min {_fmt(data.min())}, max {_fmt(data.max())}, mean {_fmt(data.mean())}"
            f" · after {choice.value}: min {_fmt(after.min())}, max {_fmt(after.max())}, "
            f"mean {_fmt(after.mean())} · {zeroed:.1f}% of the values set to 0"
        )

    update = _guarded(message, redraw)
    choice.observe(update, names="value")
    update()
    return _assemble(
        [_title("Activations", "Red: positive, blue: negative values."), choice, picture,
         readout, message],
        dict(activation=choice), readout, message, result,
    )
