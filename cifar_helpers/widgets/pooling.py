"""The pooling explorer: max, average or sum pooling over a feature map, one window at a time."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._validation import as_real_array
from ..drawing import png_bytes, pooling_picture, pooling_step_html
from ..windows import pad_amounts, window_positions
from ._frame import (
    MAX_TABLE_SIDE,
    _assemble,
    _Counter,
    _fmt,
    _guarded,
    _message,
    _observe,
    _readout,
    _row,
    _title,
)

__all__ = ["POOLING_EXAMPLE", "pooling_explorer"]

#: A small feature map for the pooling explorer (rows/cols are easy to follow by eye).
POOLING_EXAMPLE = np.array(
    [
        [1, 3, 2, 1, 0, 4],
        [4, 6, 5, 0, 2, 1],
        [3, 1, 1, 0, 7, 3],
        [1, 2, 2, 4, 5, 8],
        [0, 5, 3, 1, 2, 2],
        [6, 1, 0, 2, 9, 1],
    ],
    dtype=float,
)


def _pool_window(shape, pool_size, strides, padding, step):
    """Output cell `step` (1-based, row-major) and its window inside a map of `shape`.

    With ``padding="same"`` a window may stick out over the border; the slices
    keep only the cells that exist, as pooling does.

    Examples
    --------
    >>> _pool_window((5, 5), 2, 2, "same", step=9)
    ((2, 2), (slice(4, 5, None), slice(4, 5, None)))
    """
    (top, _), (left, _) = pad_amounts(shape, pool_size, strides, padding)
    positions = window_positions(shape, pool_size, strides, padding)
    for _ in range(step):
        i, j, rows, cols = next(positions)
    rows = slice(max(rows.start - top, 0), min(rows.stop - top, shape[0]))
    cols = slice(max(cols.start - left, 0), min(cols.stop - left, shape[1]))
    return (i, j), (rows, cols)


def pooling_explorer(feature_map=None):
    """Max, average or sum pooling over a feature map, one window at a time.

    Parameters
    ----------
    feature_map : (H, W) or (H, W, C) array_like, optional
        Default: a 6×6 example map (``POOLING_EXAMPLE``). Maps up to 20×20 are
        shown number by number, bigger ones as pictures.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["output"]`` is ``pool2d(feature_map, pool_size, strides, padding, mode)``.

    Raises
    ------
    ValueError
        If `feature_map` is not an (H, W) or (H, W, C) array of finite numbers.
    """
    from ..pooling import pool2d

    source = POOLING_EXAMPLE if feature_map is None else feature_map
    data = as_real_array(source, "feature_map", (2, 3), "(H, W) or (H, W, C)").astype(float)
    if data.ndim == 2:
        data = data[..., np.newaxis]
    channels = data.shape[2]
    as_table = max(data.shape[:2]) <= MAX_TABLE_SIDE

    mode = widgets.ToggleButtons(options=["max", "average", "sum"], value="max",
                                 description="mode")
    pool_size = widgets.IntSlider(value=2, min=1, max=4, description="pool_size")
    # 0 stands for strides=None (Keras' default: the pool size); a None value would show blank
    strides = widgets.Dropdown(options=[("= pool_size", 0), ("1", 1), ("2", 2), ("3", 3)],
                               value=0, description="strides")
    padding = widgets.Dropdown(options=["valid", "same"], value="valid", description="padding")
    channel = widgets.IntSlider(value=0, min=0, max=channels - 1, description="channel",
                                layout=widgets.Layout(display="" if channels > 1 else "none"))
    grids = widgets.HTML()
    pictures = widgets.Image(format="png", layout=widgets.Layout(
        width="37em", display="none" if as_table else ""))
    arithmetic = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    controls = {}

    def redraw():  # everything is computed before anything shown changes
        p, s, pad, m = pool_size.value, strides.value or None, padding.value, mode.value
        x = data[..., channel.value]
        output = np.asarray(pool2d(x, pool_size=p, strides=s, padding=pad, mode=m))
        t = window.set_count(output.size) - 1
        (i, j), (rows, cols) = _pool_window(x.shape, p, s or p, pad, t + 1)
        if as_table:
            grids.value, arithmetic.value = pooling_step_html(x, output, (i, j), (rows, cols), m)
        else:
            pictures.value = png_bytes(pooling_picture(x, output, shared_range=m != "sum"))
        result.clear()
        result.update(output=output, cell=(i, j), value=float(output[i, j]),
                      window=list(x[rows, cols].ravel()))
        readout.value = (f"{m} pooling, pool_size {p}, strides {s or p}, padding {pad!r}: "
                         f"{x.shape[0]}×{x.shape[1]} → {output.shape[0]}×{output.shape[1]}; "
                         f"output[{i}, {j}] = {_fmt(output[i, j])}")

    update = _guarded(message, redraw)
    window = _Counter("window", update, controls, "window")
    _observe(update, mode, pool_size, strides, padding, channel)
    update()
    window.ready()
    controls.update(mode=mode, pool_size=pool_size, strides=strides, padding=padding,
                    channel=channel)
    return _assemble(
        [
            _title("Pooling", "Each output value summarises one window of the feature map."),
            mode,
            _row(pool_size, strides, padding),
            _row(window.box, channel),
            grids, pictures, arithmetic, readout, message,
        ],
        controls, readout, message, result,
    )
