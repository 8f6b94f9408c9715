"""Tests for cifar_helpers.drawing: the widgets' pictures, checked against references."""

import html
import io
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from cifar_helpers.convolution import conv2d
from cifar_helpers.drawing import (
    CELL_MARKS,
    activation_picture,
    convolution_step_html,
    enlarge,
    figure_png,
    format_number,
    heatmap,
    histogram_picture,
    number_table,
    png_bytes,
    pooling_picture,
    pooling_step_html,
    probability_bars,
    stride_windows_picture,
    tile_maps,
    to_uint8,
)
from cifar_helpers.examples import SEED_IMAGE, SEED_KERNEL, STRIDE_GRID
from cifar_helpers.pooling import pool2d
from cifar_helpers.windows import output_size, pad_amounts

RNG = np.random.default_rng(0)


def decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def cells(table):
    """The texts of a table's cells, row by row."""
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in table.split("<tr>")[1:]]


def product_sum(arithmetic):
    """Add up the products ``a×b + (−c)×d …`` written in the arithmetic line."""
    terms = arithmetic.split("<br>")[1].split(" = ")[0].split(" + ")
    return sum(float(a.strip("()")) * float(b.strip("()"))
               for a, b in (term.split("×") for term in terms))


# -- numbers and raster pictures ---------------------------------------------------------------
@pytest.mark.parametrize("value, text", [(4.0, "4"), (-0.0, "0"), (0.12345, "0.123"),
                                         (np.float32(2.5), "2.5"), (-3, "-3"), (1e12, "1e+12"),
                                         (np.nan, "nan")])
def test_format_number(value, text):
    assert format_number(value) == text


def test_to_uint8_scales_floats_and_keeps_uint8():
    pixels = RNG.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    assert to_uint8(pixels) is pixels
    np.testing.assert_array_equal(to_uint8(pixels / 255.0), pixels)
    np.testing.assert_array_equal(to_uint8(pixels.astype(float)), pixels)
    values = np.array([-5.0, 0.2, 300.0])
    np.testing.assert_array_equal(to_uint8(values), [0, 0, 255])
    np.testing.assert_array_equal(values, [-5.0, 0.2, 300.0])  # the input is unchanged


@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 3)])
@pytest.mark.parametrize("scale", [1, 2, 5])
def test_enlarge_is_a_kronecker_product(shape, scale):
    array = RNG.integers(0, 256, size=shape, dtype=np.uint8)
    block = np.ones((scale, scale) + (1,) * (len(shape) - 2), dtype=np.uint8)
    np.testing.assert_array_equal(enlarge(array, scale), np.kron(array, block))


@pytest.mark.parametrize("shape", [(6, 7), (6, 7, 3)])
def test_png_bytes_round_trip(shape):
    array = RNG.integers(0, 256, size=shape, dtype=np.uint8)
    np.testing.assert_array_equal(decode(png_bytes(array)), array)
    np.testing.assert_array_equal(decode(png_bytes(array, scale=3)), enlarge(array, 3))


@pytest.mark.parametrize("cmap", ["viridis", "gray", "RdBu_r"])
def test_heatmap_matches_the_colormap(cmap):
    values = RNG.normal(size=(5, 6))
    scaled = (values - values.min()) / (values.max() - values.min())
    expected = matplotlib.colormaps[cmap](scaled, bytes=True)[..., :3]
    np.testing.assert_array_equal(heatmap(values, cmap=cmap), expected)


def test_heatmap_range_and_constant_maps():
    first = matplotlib.colormaps["viridis"](0.0, bytes=True)[:3]
    last = matplotlib.colormaps["viridis"](1.0, bytes=True)[:3]
    assert heatmap(np.full((2, 2), 7.0)).reshape(-1, 3).tolist() == [list(first)] * 4
    clipped = heatmap([[-10.0, 0.0, 10.0]], vmin=0.0, vmax=1.0)[0]
    assert clipped.tolist() == [list(first), list(first), list(last)]


@pytest.mark.parametrize("count, columns", [(1, 8), (8, 8), (10, 4), (3, 2)])
def test_tile_maps_places_each_map(count, columns):
    maps = RNG.normal(size=(5, 6, count))
    scale, gap = 3, 2
    picture = tile_maps(maps, columns=columns, scale=scale, gap=gap)
    rows = -(-count // columns)
    assert picture.shape == (rows * (5 * scale + gap), columns * (6 * scale + gap), 3)
    for k in range(count):
        r, c = divmod(k, columns)
        top, left = r * (5 * scale + gap), c * (6 * scale + gap)
        tile = picture[top:top + 5 * scale, left:left + 6 * scale]
        np.testing.assert_array_equal(tile, enlarge(heatmap(maps[..., k]), scale))


@pytest.mark.parametrize("mode", ["max", "average", "sum"])
def test_pooling_picture_shows_both_maps(mode):
    feature_map = RNG.normal(size=(40, 40))
    pooled = pool2d(feature_map, mode=mode)
    picture = pooling_picture(feature_map, pooled, shared_range=mode != "sum")
    scale = 256 // 40
    left = enlarge(heatmap(feature_map), scale)
    np.testing.assert_array_equal(picture[:240, :240], left)
    assert (picture[:, 240:252] == 255).all()
    low, high = (None, None) if mode == "sum" else (feature_map.min(), feature_map.max())
    np.testing.assert_array_equal(picture[:240, 252:], enlarge(heatmap(pooled, low, high), 12))


def test_figure_png_is_a_png_of_the_figure():
    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [0, 1])
    small, large = decode(figure_png(fig, dpi=50)), decode(figure_png(fig, dpi=100))
    assert small.ndim == 3 and small.shape[2] in (3, 4)
    assert large.shape[0] == pytest.approx(2 * small.shape[0], abs=2)
    assert (small[0] == 255).all()  # cropped to the drawing, on a white background


# -- HTML --------------------------------------------------------------------------------------
def test_number_table_cells_marks_and_blanks():
    values = np.array([[1.0, None], [-2.5, 1e-4]], dtype=object)
    table = number_table(values, {(0, 0): "current", (1, 1): "pad"}, title="a <b>")
    assert cells(table) == [["1", ""], ["-2.5", "0.0001"]]
    assert table.count(CELL_MARKS["current"]) == 1 and table.count(CELL_MARKS["pad"]) == 1
    assert "a &lt;b&gt;" in table


def test_number_table_unknown_mark():
    with pytest.raises(ValueError, match="`mark` must be one of 'pad', 'window', 'done'"):
        number_table([[1]], {(0, 0): "bogus"})


def test_convolution_step_html_known_answer():
    tables, arithmetic = convolution_step_html(SEED_IMAGE, SEED_KERNEL, conv2d(SEED_IMAGE,
                                               SEED_KERNEL), step=1)
    assert "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = <b>4</b>" in arithmetic
    assert "window rows 0–2, columns 0–2" in arithmetic
    assert tables.count(CELL_MARKS["window"]) == 9
    assert CELL_MARKS["pad"] not in tables


@pytest.mark.parametrize("strides", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same", 1, 2])
def test_convolution_step_html_every_step(strides, padding):
    kernel = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0], [-1.0, 0.0, 2.0]])
    output = conv2d(STRIDE_GRID, kernel, strides=strides, padding=padding)
    (top, bottom), (left, right) = pad_amounts(STRIDE_GRID.shape, 3, strides, padding)
    padded_cells = (8 + top + bottom) * (7 + left + right) - 8 * 7
    for step in range(1, output.size + 1):
        tables, arithmetic = convolution_step_html(STRIDE_GRID, kernel, output, step,
                                                   strides, padding)
        i, j = divmod(step - 1, output.shape[1])
        assert product_sum(arithmetic) == pytest.approx(output[i, j])
        assert arithmetic.endswith(f"<b>{format_number(output[i, j])}</b></div>")
        assert tables.count(CELL_MARKS["done"]) == step - 1
        assert tables.count(CELL_MARKS["current"]) == 1
        window_pads = tables.count(CELL_MARKS["pad"])
        assert padded_cells - 9 <= window_pads <= padded_cells
        shown = cells(tables.split("<table")[3])  # the output table, filled up to `step`
        filled = [text for row in shown for text in row if text]
        assert filled == [format_number(v) for v in output.ravel()[:step]]


def test_pooling_step_html_marks_the_window():
    x = np.arange(16.0).reshape(4, 4)
    pooled = pool2d(x, mode="average")
    tables, arithmetic = pooling_step_html(x, pooled, (1, 0), (slice(2, 4), slice(0, 2)),
                                           "average")
    assert "mean(8, 9, 12, 13) = <b>10.5</b>" in arithmetic
    assert tables.count(CELL_MARKS["window"]) == 4
    assert tables.count(CELL_MARKS["current"]) == 1
    assert "average pooled 2×2" in tables


def test_pooling_step_html_unknown_mode():
    with pytest.raises(ValueError, match="`mode` must be one of 'max', 'average', 'sum'"):
        pooling_step_html([[1]], [[1]], (0, 0), (slice(0, 1), slice(0, 1)), "median")


def test_probability_bars():
    bars = probability_bars([("<cat>", 0.875), ("dog", 0.0)])
    assert bars.count("<tr>") == 2
    assert html.escape("<cat>") in bars and "<cat>" not in bars
    assert "width:87.5%" in bars and ">87.5%</td>" in bars
    assert "width:0.5%" in bars  # a zero probability still shows a sliver


# -- pictures drawn with NumPy -----------------------------------------------------------------
YELLOWISH = (255, 230, 149)  # the chosen window over a white cell
PAD = (191, 191, 191)


@pytest.mark.parametrize("size, kernel_size, strides, padding",
                         [(7, 3, 2, "valid"), (8, 3, 2, "same"), (5, 2, 1, "same"),
                          (12, 7, 4, 3)])
def test_stride_windows_picture(size, kernel_size, strides, padding):
    out = output_size(size, kernel_size, strides, padding)
    (before, after), _ = pad_amounts((size, size), kernel_size, strides, padding)
    padded, cell = size + before + after, 20
    picture = stride_windows_picture(size, kernel_size, strides, padding,
                                     highlight=(out - 1, 0), cell=cell)
    assert picture.shape == (padded * cell + 1, padded * cell + 1, 3)
    assert (out - 1) * strides + kernel_size <= padded  # the last window fits

    def centre(row, col):
        return tuple(picture[row * cell + cell // 2, col * cell + cell // 2])

    top = (out - 1) * strides  # the chosen window: rows top.., columns 0..
    for r in range(top, top + kernel_size):
        for c in range(kernel_size):
            inside = before <= r < before + size and before <= c < before + size
            assert centre(r, c) == (YELLOWISH if inside else (229, 204, 124)), (r, c)
    # every cell out of the chosen window: white inside the image, grey in the padding
    for r in range(padded):
        for c in range(padded):
            if not (top <= r < top + kernel_size and c < kernel_size):
                inside = before <= r < before + size and before <= c < before + size
                assert centre(r, c) == ((255, 255, 255) if inside else PAD), (r, c)
    # every window's frame is drawn in translucent blue (probed on its top edge)
    rgb = picture.astype(int)
    chosen_rows = range(top * cell, (top + kernel_size) * cell + 1)
    for a in range(out):
        for b in range(out):
            row, col = a * strides * cell + 3, b * strides * cell + cell // 2
            if not (row in chosen_rows and col <= kernel_size * cell):
                assert rgb[row, col, 2] > rgb[row, col, 0] + 60, (a, b)


def test_stride_windows_picture_errors():
    with pytest.raises(ValueError, match="kernel is larger than the padded input"):
        stride_windows_picture(4, 6, strides=2)


def test_histogram_picture_counts_like_numpy():
    values = RNG.normal(size=500)
    picture = histogram_picture(values, bins=25, size=(101, 250))
    counts, _ = np.histogram(values, bins=25)
    bars = (picture[:-1, :, 2] == 229) & (picture[:-1, :, 0] == 30)  # blue bar pixels
    heights = bars[:, ::10].sum(axis=0)
    np.testing.assert_allclose(heights, np.maximum(np.rint(counts / counts.max() * 100),
                                                   counts > 0), atol=0)
    zero_column = int(-values.min() / (values.max() - values.min()) * 249)
    assert (picture[:, zero_column] != 255).all()  # the grey line at 0 runs top to bottom
    assert histogram_picture(np.ones(7)).shape == (96, 256, 3)  # a constant still draws


def test_activation_picture_colours_and_histogram():
    values = np.array([[-2.0, 0.0], [1.0, 2.0]])
    picture = activation_picture(values, width=20, histogram_rows=30, gap=4)
    assert picture.shape == (20 + 4 + 30, 20, 3)
    expected = enlarge(heatmap(values, -2, 2, cmap="RdBu_r"), 10)
    np.testing.assert_array_equal(picture[:20], expected)
    assert (picture[20:24] == 255).all()
    np.testing.assert_array_equal(picture[24:], histogram_picture(values, size=(30, 20)))


def test_drawing_imports_no_widget_toolkit():
    code = ("import sys, cifar_helpers.drawing; "
            "print(sorted(m for m in ('ipywidgets', 'keras', 'tensorflow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
