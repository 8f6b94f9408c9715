"""Pictures for the instructor widgets: PNG bytes, heatmaps, tables of numbers.

The widgets in `cifar_helpers.widgets` only wire controls to these functions;
everything they *show* is built here, from plain arrays, so it can be tested
without a browser. Two kinds of output:

- raster pictures as ``(H, W, 3)`` uint8 arrays (`heatmap`, `tile_maps`,
  `pooling_picture`, `stride_windows_picture`, `histogram_picture`,
  `activation_picture`), drawn with NumPy (a few milliseconds, so a widget
  redraws at once on every click), enlarged with `enlarge` and encoded with
  `png_bytes`;
- HTML snippets (`number_table`, `convolution_step_html`, `pooling_step_html`,
  `probability_bars`): a small grid of numbers with some cells marked, sized in
  ``em`` and coloured with JupyterLab's theme variables.

This module imports NumPy only; Matplotlib (for its colormaps) and Pillow are
imported inside the functions that need them, and there is no ipywidgets here.
"""

from __future__ import annotations

import html
import io
import math

import numpy as np

from ._validation import check_choice
from .windows import output_size, pad_amounts, pad_image, window_positions

__all__ = [
    "CELL_MARKS",
    "activation_picture",
    "convolution_step_html",
    "enlarge",
    "figure_png",
    "format_number",
    "heatmap",
    "histogram_picture",
    "number_table",
    "png_bytes",
    "pooling_picture",
    "pooling_step_html",
    "probability_bars",
    "stride_windows_picture",
    "tile_maps",
    "to_uint8",
]

# Sizes in em, so that they follow the page's text size (zoom, Presentation Mode); colours
# from JupyterLab's theme variables, with fallbacks for pages without them.
_CELL = (
    "border:1px solid var(--jp-border-color1,#9e9e9e);min-width:2.1em;height:2.1em;"
    "padding:0 .3em;text-align:center;font-family:monospace;font-size:1em;"
)
_TABLE = "border-collapse:collapse;margin:.3em .9em .3em 0;"
_ARITHMETIC = "font-family:monospace;font-size:1em"
_CAPTION = "font-size:.93em;color:var(--jp-content-font-color1,rgba(0,0,0,.87))"

#: Extra CSS of a marked cell in `number_table`: zero padding, the current window,
#: the output cells already computed, and the one being computed now. A cell with a
#: background of its own sets its own text colour too, so that it reads (contrast
#: at least 4.5:1) in the light and the dark theme.
CELL_MARKS = {
    "pad": "background:var(--jp-layout-color2,#eee);color:var(--jp-ui-font-color1,#212121);"
           "font-style:italic;",
    "window": "background:#ffd54f;color:#000;font-weight:bold;",
    "done": "background:#c8e6c9;color:#1b1b1b;",
    "current": "background:#2e7d32;color:#fff;font-weight:bold;",
}


# -- numbers -----------------------------------------------------------------------------------
def format_number(value):
    """A number as short text: integers without a decimal point, else 3 significant digits.

    Examples
    --------
    >>> format_number(4.0), format_number(-0.0), format_number(0.12345)
    ('4', '0', '0.123')
    >>> format_number(np.float32(2.5)), format_number(float("inf"))
    ('2.5', 'inf')
    """
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.3g}"


def _factor(value):
    """A number as a factor of a product: negative numbers in brackets."""
    text = format_number(value)
    return f"({text})" if text.startswith("-") else text


# -- raster pictures ---------------------------------------------------------------------------
def to_uint8(image):
    """Display version of an image: uint8 as is; floats in [0, 1] (or 0..255) scaled and clipped.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like

    Returns
    -------
    uint8 ndarray of the same shape

    Examples
    --------
    >>> to_uint8(np.array([0.0, 0.5, 1.0]))
    array([  0, 128, 255], dtype=uint8)
    >>> to_uint8(np.array([-20.0, 100.4, 300.0]))
    array([  0, 100, 255], dtype=uint8)
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    image = image.astype(float)
    if image.size and image.max() <= 1.0 + 1e-6:
        image = image * 255.0
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def enlarge(array, scale):
    """Repeat every pixel `scale` times along rows and columns (nearest-neighbour zoom).

    Examples
    --------
    >>> enlarge(np.array([[1, 2]]), 2)
    array([[1, 1, 2, 2],
           [1, 1, 2, 2]])
    """
    array = np.asarray(array)
    if scale <= 1:
        return array
    return array.repeat(scale, axis=0).repeat(scale, axis=1)


def png_bytes(array, scale=1):
    """Encode an (H, W) or (H, W, 3) uint8 array as PNG bytes, enlarged `scale` times.

    Examples
    --------
    >>> data = png_bytes(np.zeros((2, 3), np.uint8), scale=4)
    >>> data[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    >>> from PIL import Image
    >>> Image.open(io.BytesIO(data)).size   # (width, height)
    (12, 8)
    """
    from PIL import Image

    buffer = io.BytesIO()
    picture = np.ascontiguousarray(enlarge(array, scale))
    Image.fromarray(picture).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def heatmap(values, vmin=None, vmax=None, cmap="viridis"):
    """Colour a 2-D array with a Matplotlib colormap.

    Parameters
    ----------
    values : (H, W) array_like
    vmin, vmax : float, optional
        The values shown with the colormap's first and last colour (default:
        the array's min and max). A constant array gets the first colour.
    cmap : str

    Returns
    -------
    (H, W, 3) uint8 ndarray

    Examples
    --------
    >>> heatmap([[0, 5, 10]], cmap="gray")[0].tolist()
    [[0, 0, 0], [128, 128, 128], [255, 255, 255]]
    >>> heatmap([[0, 5, 10]], vmin=0, vmax=5, cmap="gray")[0, :, 0].tolist()
    [0, 255, 255]
    """
    import matplotlib

    values = np.asarray(values, dtype=float)
    vmin = float(np.min(values)) if vmin is None else vmin
    vmax = float(np.max(values)) if vmax is None else vmax
    scaled = (values - vmin) / (vmax - vmin) if vmax > vmin else np.zeros_like(values)
    rgba = matplotlib.colormaps[cmap](np.clip(scaled, 0, 1), bytes=True)
    return rgba[..., :3]


def tile_maps(maps, columns=8, scale=4, gap=2):
    """Tile (H, W, C) feature maps into one picture, each map coloured on its own range.

    Parameters
    ----------
    maps : (H, W, C) ndarray
    columns : int
        Maps per row of tiles.
    scale : int
        Each map is enlarged `scale` times.
    gap : int
        White pixels after each tile.

    Returns
    -------
    (rows * (H * scale + gap), columns * (W * scale + gap), 3) uint8 ndarray
        With ``rows = ceil(C / columns)``; map ``k`` sits in row ``k // columns``,
        column ``k % columns``.

    Examples
    --------
    >>> picture = tile_maps(np.zeros((4, 4, 10)), columns=8, scale=2, gap=1)
    >>> picture.shape
    (18, 72, 3)
    >>> picture[-1, -1].tolist()   # the empty end of the last row stays white
    [255, 255, 255]
    """
    maps = np.asarray(maps)
    h, w, count = maps.shape
    rows = -(-count // columns)
    canvas = np.full((rows * (h * scale + gap), columns * (w * scale + gap), 3), 255, np.uint8)
    for k in range(count):
        r, c = divmod(k, columns)
        top, left = r * (h * scale + gap), c * (w * scale + gap)
        canvas[top:top + h * scale, left:left + w * scale] = enlarge(heatmap(maps[..., k]), scale)
    return canvas


def pooling_picture(feature_map, pooled, shared_range=True, gap=12):
    """A feature map and its pooled version side by side, as heatmaps of the same height.

    The map is enlarged to about 256 pixels a side, and the pooled map by the
    factor that makes both the same height.

    Parameters
    ----------
    feature_map : (H, W) ndarray
    pooled : (H', W') ndarray
    shared_range : bool
        Colour `pooled` on the range of `feature_map` (right for max and
        average pooling); False colours it on its own range (sum pooling).
    gap : int
        White columns between the two pictures.

    Returns
    -------
    (rows, cols, 3) uint8 ndarray

    Examples
    --------
    >>> picture = pooling_picture(np.arange(64.0).reshape(8, 8), np.ones((4, 4)))
    >>> picture.shape   # 8 * 32 rows; 256 + 12 + 4 * 64 columns
    (256, 524, 3)
    >>> picture[:, 256:268].min().tolist()   # the gap is white
    255
    """
    feature_map, pooled = np.asarray(feature_map, float), np.asarray(pooled, float)
    scale = max(1, 256 // max(feature_map.shape))
    left = enlarge(heatmap(feature_map), scale)
    low, high = (feature_map.min(), feature_map.max()) if shared_range else (None, None)
    factor = left.shape[0] // pooled.shape[0] if pooled.shape[0] else 1
    right = enlarge(heatmap(pooled, low, high), max(factor, 1))
    canvas = np.full((max(left.shape[0], right.shape[0]), left.shape[1] + gap + right.shape[1],
                      3), 255, np.uint8)
    canvas[:left.shape[0], :left.shape[1]] = left
    canvas[:right.shape[0], left.shape[1] + gap:] = right
    return canvas


def figure_png(fig, dpi=80):
    """PNG bytes of a Matplotlib figure, cropped to what was drawn.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


# -- HTML tables -------------------------------------------------------------------------------
def number_table(values, marks=None, title=""):
    """An HTML table of numbers, some cells marked (see `CELL_MARKS`).

    Parameters
    ----------
    values : (rows, cols) array_like
        Numbers; ``None`` entries (in an object array) are left blank.
    marks : dict of (int, int) -> str, optional
        ``{(row, col): mark}`` with a mark from `CELL_MARKS`.
    title : str
        Caption above the table (escaped).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For a mark that is not in `CELL_MARKS`.

    Examples
    --------
    >>> table = number_table([[1, 0.5]], marks={(0, 1): "window"}, title="x")
    >>> table.count("<td"), ">0.5</td>" in table, CELL_MARKS["window"] in table
    (2, True, True)
    >>> number_table(np.array([[None, 2]], dtype=object)).count("></td>")
    1
    """
    marks = marks or {}
    for mark in set(marks.values()):
        check_choice(mark, "mark", tuple(CELL_MARKS))
    values = np.asarray(values)
    rows = []
    for r in range(values.shape[0]):
        cells = "".join(
            f'<td style="{_CELL}{CELL_MARKS[marks[(r, c)]] if (r, c) in marks else ""}">'
            f'{"" if values[r, c] is None else format_number(values[r, c])}</td>'
            for c in range(values.shape[1])
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f'<div class="cifar-caption" style="{_CAPTION}">{html.escape(title)}</div>'
    return (f'<div style="display:inline-block;vertical-align:top">{caption}'
            f'<table style="{_TABLE}">{"".join(rows)}</table></div>')


def convolution_step_html(image, kernel, output, step, strides=1, padding="valid"):
    """One step of a convolution as HTML: the three tables, then the arithmetic.

    Parameters
    ----------
    image : (H, W) ndarray
    kernel : (kh, kw) ndarray
    output : (H', W') ndarray
        ``conv2d(image, kernel, strides, padding)``.
    step : int
        1-based: the output cell being computed, in row-major order.
    strides, padding
        As in ``cifar_helpers.convolution.conv2d``.

    Returns
    -------
    (str, str)
        The tables (padded input with the window marked, kernel, output filled
        up to `step`) and the line ``a×b + … = <b>value</b>``.

    Examples
    --------
    >>> image, kernel = np.eye(3), np.ones((2, 2))
    >>> tables, arithmetic = convolution_step_html(image, kernel, [[2, 1], [1, 2]], step=2)
    >>> arithmetic.split("<br>")[1]
    '0×1 + 0×1 + 1×1 + 0×1 = <b>1</b></div>'
    >>> tables.count(CELL_MARKS["done"]), tables.count(CELL_MARKS["current"])
    (1, 1)
    """
    image, kernel, output = np.asarray(image), np.asarray(kernel), np.asarray(output)
    (top, _), (left, _) = pad_amounts(image.shape, kernel.shape, strides, padding)
    padded = pad_image(image, kernel.shape, strides, padding)
    positions = list(window_positions(image.shape, kernel.shape, strides, padding))[:step]
    i, j, rows, cols = positions[-1]
    marks = {}
    for r in range(padded.shape[0]):
        for c in range(padded.shape[1]):
            if not (top <= r < top + image.shape[0] and left <= c < left + image.shape[1]):
                marks[(r, c)] = "pad"
            if rows.start <= r < rows.stop and cols.start <= c < cols.stop:
                marks[(r, c)] = "window"
    filled = np.full(output.shape, None, dtype=object)
    out_marks = {}
    for a, b, _, _ in positions:
        filled[a, b] = output[a, b]
        out_marks[(a, b)] = "done"
    out_marks[(i, j)] = "current"
    padded_note = " (grey: zero padding)" if padded.shape != image.shape else ""
    kh, kw = kernel.shape
    tables = (number_table(padded, marks, f"input{padded_note}")
              + number_table(kernel, {}, f"kernel {kh}×{kw}")
              + number_table(filled, out_marks, f"output {output.shape[0]}×{output.shape[1]}"))
    products = " + ".join(f"{_factor(a)}×{_factor(b)}" for a, b in
                          zip(padded[rows, cols].ravel(), kernel.ravel(), strict=True))
    arithmetic = (
        f"<div style='{_ARITHMETIC}'>window rows {rows.start}–{rows.stop - 1}, "
        f"columns {cols.start}–{cols.stop - 1}:<br>{products} = "
        f"<b>{format_number(output[i, j])}</b></div>"
    )
    return tables, arithmetic


#: How `pooling_step_html` names each pooling mode's reduction.
_REDUCTION_WORDS = {"max": "max", "average": "mean", "sum": "sum"}


def pooling_step_html(feature_map, pooled, cell, window, mode="max"):
    """One pooling window as HTML: the map and the pooled map as tables, then the arithmetic.

    Parameters
    ----------
    feature_map : (H, W) ndarray
    pooled : (H', W') ndarray
    cell : (int, int)
        The output cell shown.
    window : (slice, slice)
        Its window's rows and columns *inside* `feature_map` (padding left out).
    mode : {"max", "average", "sum"}

    Returns
    -------
    (str, str)

    Examples
    --------
    >>> x = np.array([[1, 3], [4, 6]])
    >>> _, arithmetic = pooling_step_html(x, [[14]], (0, 0), (slice(0, 2), slice(0, 2)), "sum")
    >>> arithmetic
    "<div style='font-family:monospace;font-size:1em'>sum(1, 3, 4, 6) = <b>14</b></div>"
    """
    feature_map, pooled = np.asarray(feature_map), np.asarray(pooled)
    word = _REDUCTION_WORDS[check_choice(mode, "mode", tuple(_REDUCTION_WORDS))]
    rows, cols = window
    marks = {(r, c): "window" for r in range(rows.start, rows.stop)
             for c in range(cols.start, cols.stop)}
    tables = (number_table(feature_map, marks,
                           f"feature map {feature_map.shape[0]}×{feature_map.shape[1]}")
              + number_table(pooled, {tuple(cell): "current"},
                             f"{mode} pooled {pooled.shape[0]}×{pooled.shape[1]}"))
    values = ", ".join(format_number(v) for v in feature_map[rows, cols].ravel())
    arithmetic = (f"<div style='{_ARITHMETIC}'>{word}({values}) = "
                  f"<b>{format_number(pooled[tuple(cell)])}</b></div>")
    return tables, arithmetic


def probability_bars(pairs):
    """HTML bars for ``[(class_name, probability), ...]``, as `predict_image` returns.

    Examples
    --------
    >>> bars = probability_bars([("cat", 0.75), ("dog", 0.25)])
    >>> bars.count("<tr>"), "width:75.0%" in bars, ">25.0%</td>" in bars
    (2, True, True)
    """
    rows = []
    for name, probability in pairs:
        width = max(probability * 100, 0.5)
        rows.append(
            "<tr>"
            f"<td style='padding:1px 8px;text-align:right'>{html.escape(name)}</td>"
            f"<td style='width:16em'><div style='background:var(--jp-brand-color1,#1976d2);"
            f"height:1em;"
            f"width:{width:.1f}%'></div></td>"
            f"<td style='padding:1px 8px;font-family:monospace'>{probability * 100:.1f}%</td>"
            "</tr>"
        )
    return f"<table>{''.join(rows)}</table>"


# -- pictures drawn with NumPy (fast enough for every click) ----------------------------------
#: Colours of the NumPy-drawn pictures (RGB): bars and window frames, the chosen window and
#: its frame, zero padding, grid lines and axes.
_BLUE, _YELLOW, _ORANGE = (30, 136, 229), (255, 213, 79), (230, 81, 0)
_PAD_GREY, _LINE_GREY = (191, 191, 191), (158, 158, 158)


def _blend(canvas, rows, cols, colour, alpha):
    """Paint `colour` over ``canvas[rows, cols]`` with opacity `alpha`, in place."""
    patch = canvas[rows, cols].astype(float)
    canvas[rows, cols] = np.rint(patch * (1 - alpha) + np.asarray(colour) * alpha)


def _frame(canvas, top, left, height, width, colour, alpha=1.0, thickness=1):
    """Draw the outline of a rectangle on `canvas`, in place."""
    bottom, right, t = top + height, left + width, thickness
    for rows, cols in ((slice(top, top + t), slice(left, right)),
                       (slice(bottom - t, bottom), slice(left, right)),
                       (slice(top + t, bottom - t), slice(left, left + t)),
                       (slice(top + t, bottom - t), slice(right - t, right))):
        _blend(canvas, rows, cols, colour, alpha)


def stride_windows_picture(size, kernel_size, strides=1, padding="valid", highlight=(0, 0),
                           cell=24):
    """Every window of a square kernel sliding over a square grid, one of them highlighted.

    The grid's cells are white, the zero padding around them grey; every
    window is outlined in translucent blue (overlaps look darker) and the
    `highlight`-ed one is filled yellow with an orange frame.

    Parameters
    ----------
    size : int
        The input is ``size × size``.
    kernel_size, strides : int
    padding : {"valid", "same"} or int
    highlight : (int, int)
        Output cell ``(row, col)`` whose window is highlighted.
    cell : int
        Pixels per grid cell.

    Returns
    -------
    (P * cell + 1, P * cell + 1, 3) uint8 ndarray
        ``P`` is the padded size; grid cell ``(r, c)`` starts at pixel ``(r * cell, c * cell)``.

    Raises
    ------
    ValueError
        From ``cifar_helpers.windows.output_size``, e.g. for a kernel larger
        than the padded input.

    Examples
    --------
    >>> picture = stride_windows_picture(3, 2, padding=1, highlight=(0, 0), cell=10)
    >>> picture.shape, picture[45, 45].tolist(), picture[15, 15].tolist()   # pad, chosen window
    ((51, 51, 3), [191, 191, 191], [255, 230, 149])
    """
    out = output_size(size, kernel_size, strides, padding)
    (before, after), _ = pad_amounts((size, size), kernel_size, strides, padding)
    padded = size + before + after
    side = padded * cell + 1
    canvas = np.full((side, side, 3), _PAD_GREY, np.uint8)
    inside = slice(before * cell, (before + size) * cell)
    canvas[inside, inside] = 255
    canvas[::cell, :] = _LINE_GREY
    canvas[:, ::cell] = _LINE_GREY
    s, span = strides, kernel_size * cell
    for a in range(out):
        for b in range(out):
            _frame(canvas, a * s * cell + 3, b * s * cell + 3, span - 5, span - 5, _BLUE, 0.45,
                   thickness=2)
    top, left = highlight[0] * s * cell, highlight[1] * s * cell
    _blend(canvas, slice(top, top + span + 1), slice(left, left + span + 1), _YELLOW, 0.6)
    _frame(canvas, top, left, span + 1, span + 1, _ORANGE, thickness=3)
    return canvas


def histogram_picture(values, bins=40, size=(96, 256)):
    """A histogram of `values` as a picture: blue bars on white, a grey line at the value 0.

    Parameters
    ----------
    values : array_like
        Any shape; all values are counted.
    bins : int
        Equal-width bins from the smallest to the largest value.
    size : (int, int)
        ``(rows, cols)`` of the picture; the tallest bar fills the height.

    Returns
    -------
    (rows, cols, 3) uint8 ndarray

    Examples
    --------
    >>> picture = histogram_picture([0, 1, 1, 1], bins=2, size=(4, 4))
    >>> (picture[:, :, 0] != 255).astype(int)   # 1 value in the first bin, 3 in the second
    array([[0, 0, 1, 0],
           [0, 0, 1, 0],
           [1, 0, 1, 0],
           [1, 1, 1, 1]])
    """
    values = np.asarray(values, dtype=float).ravel()
    low, high = float(values.min()), float(values.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    counts, _ = np.histogram(values, bins=bins, range=(low, high))
    rows, cols = size
    canvas = np.full((rows, cols, 3), 255, np.uint8)
    if low < 0 < high:
        canvas[:, int((0 - low) / (high - low) * (cols - 1))] = _LINE_GREY
    heights = np.where(counts > 0, np.maximum(np.rint(counts / counts.max() * (rows - 1)), 1), 0)
    edges = np.linspace(0, cols, bins + 1).round().astype(int)
    for k, height in enumerate(heights.astype(int)):
        if height:
            canvas[rows - 1 - height:rows - 1, edges[k]:max(edges[k + 1] - 1, edges[k] + 1)] = _BLUE
    canvas[-1] = _LINE_GREY
    return canvas


def activation_picture(values, width=256, histogram_rows=96, gap=8):
    """A feature map as a red (+) / blue (−) heatmap centred on 0, with its histogram below.

    Parameters
    ----------
    values : (H, W) array_like
    width : int
        About how many pixels wide the map is drawn (it is enlarged by a whole factor).
    histogram_rows, gap : int
        Height of the histogram (`histogram_picture`) and of the white gap above it.

    Returns
    -------
    (rows, cols, 3) uint8 ndarray

    Examples
    --------
    >>> picture = activation_picture([[-1.0, 0.0, 1.0]], width=30, histogram_rows=10, gap=2)
    >>> picture.shape   # 1 * 10 rows of map, 2 of gap, 10 of histogram; 3 * 10 columns
    (22, 30, 3)
    >>> picture[0, 0].tolist(), picture[0, 29].tolist()   # blue for -1, red for +1
    ([5, 48, 97], [103, 0, 31])
    """
    values = np.asarray(values, dtype=float)
    limit = float(np.max(np.abs(values))) or 1.0
    top = enlarge(heatmap(values, -limit, limit, cmap="RdBu_r"), -(-width // max(values.shape)))
    canvas = np.full((top.shape[0] + gap + histogram_rows, top.shape[1], 3), 255, np.uint8)
    canvas[:top.shape[0]] = top
    canvas[top.shape[0] + gap:] = histogram_picture(values, size=(histogram_rows, top.shape[1]))
    return canvas
