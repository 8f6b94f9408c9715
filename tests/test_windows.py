"""Tests for cifar_helpers.windows: the one home of window geometry (conv, pooling, widgets)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cifar_helpers.convolution import conv2d
from cifar_helpers.examples import SEED_IMAGE, STRIDE_GRID
from cifar_helpers.pooling import pool2d
from cifar_helpers.windows import (
    PADDING_MODES,
    output_size,
    pad_amounts,
    pad_image,
    window_positions,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((5, 3), 3),
        ((8, 3, 2), 3),
        ((7, 3, 2), 3),
        ((32, 3, 1, "same"), 32),
        ((32, 3, 2, "same"), 16),
        ((7, 2, 2, "same"), 4),
        ((5, 3, 1, 1), 5),
        ((5, 5, 2, 2), 3),
        (((8, 7), 3, 2), (3, 3)),
        (((8, 7), (3, 2), (2, 1), "same"), (4, 7)),
        (((8, 7), 3, 1, (1, 0)), (8, 5)),
        ((5, (3, 1)), (3, 5)),
    ],
)
def test_output_size_known_values(args, expected):
    assert output_size(*args) == expected


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 40), f=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 3))
def test_output_size_formula(n, f, s, p):
    if n + 2 * p >= f:
        assert output_size(n, f, s, p) == (n + 2 * p - f) // s + 1
    assert output_size(n, f, s, "same") == -(-n // s)  # ceil(n / s)
    (top, bottom), _ = pad_amounts((n, n), f, s, "same")
    assert bottom - top in (0, 1)  # any extra row goes at the bottom


@pytest.mark.parametrize(
    ("shape", "kernel_size", "strides", "expected"),
    [
        ((5, 5), 3, 1, ((1, 1), (1, 1))),
        ((5, 5), 2, 1, ((0, 1), (0, 1))),
        ((5, 5), 4, 1, ((1, 2), (1, 2))),
        ((8, 7), 3, 2, ((0, 1), (1, 1))),
        ((6, 6), 1, 2, ((0, 0), (0, 0))),
        ((4, 4, 3), (3, 2), (1, 2), ((1, 1), (0, 0))),
    ],
)
def test_pad_amounts_same_places_extra_zeros_bottom_right(shape, kernel_size, strides, expected):
    assert pad_amounts(shape, kernel_size, strides, "same") == expected


def test_pad_image_puts_zeros_around():
    padded = pad_image(SEED_IMAGE, 2, padding="same")
    assert padded.shape == (6, 6)
    np.testing.assert_array_equal(padded[:5, :5], SEED_IMAGE)
    assert padded[5].sum() == 0 and padded[:, 5].sum() == 0
    assert padded.dtype == SEED_IMAGE.dtype
    rgb = pad_image(np.ones((2, 3, 3)), 3, padding=(1, 2))
    assert rgb.shape == (4, 7, 3)


@pytest.mark.parametrize(("strides", "padding"), [(1, "valid"), (2, "same"), ((1, 2), 1)])
def test_window_positions_cover_every_output_cell(strides, padding):
    positions = list(window_positions(STRIDE_GRID.shape, (3, 2), strides, padding))
    rows, cols = output_size(STRIDE_GRID.shape, (3, 2), strides, padding)
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    assert [(r, c) for r, c, _, _ in positions] == cells
    padded = pad_image(STRIDE_GRID, (3, 2), strides, padding)
    kernel = np.arange(6).reshape(3, 2)
    expected = conv2d(STRIDE_GRID, kernel, strides, padding)
    for out_row, out_col, row_slice, col_slice in positions:
        window = padded[row_slice, col_slice]
        assert window.shape == (3, 2)
        assert (window * kernel).sum() == expected[out_row, out_col]



@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 3), r"`input_size` must be a positive .*input_size=0"),
        ((5, 0), r"`kernel_size` must be a positive"),
        ((5, 2.0), r"kernel_size=2\.0"),
        ((5, 3, 0), r"`strides` must be a positive"),
        ((5, 3, 1, "causal"), r"'valid', 'same'.*'causal'"),
        ((2, 3), r"kernel is larger than the padded input.*kernel size 3 > padded input size 2"),
        (((5, 5), 3, 1, (1, 2, 3)), r"`padding`"),
    ],
)
def test_output_size_errors(args, match):
    with pytest.raises(ValueError, match=match):
        output_size(*args)


def test_padding_error_lists_allowed_values():
    assert PADDING_MODES == ("valid", "same")
    with pytest.raises(ValueError, match="one of 'valid', 'same'"):
        output_size(5, 3, padding="SAME ")


def test_padding_strings_ignore_case():
    assert output_size(5, 3, padding="SAME") == 5



# The acceptance list of the renovation: every window helper and pool2d refuse a zero
# stride, a zero window and an unknown padding, and the message lists the allowed values.
WINDOW_HELPERS = {
    "output_size": lambda **kw: output_size(5, kw.pop("size", 3), **kw),
    "pad_amounts": lambda **kw: pad_amounts((5, 5), kw.pop("size", 3), **kw),
    "pad_image": lambda **kw: pad_image(np.ones((5, 5)), kw.pop("size", 3), **kw),
    "window_positions": lambda **kw: window_positions((5, 5), kw.pop("size", 3), **kw),
    "pool2d": lambda **kw: pool2d(np.ones((5, 5)), kw.pop("size", 2), **kw),
}


@pytest.mark.parametrize("name", sorted(WINDOW_HELPERS))
@pytest.mark.parametrize("strides", [0, (1, 0), -1])
def test_zero_or_negative_strides_are_refused(name, strides):
    with pytest.raises(ValueError, match=r"`strides` must be a positive integer or a pair of them. "
                       r"Received strides="):
        WINDOW_HELPERS[name](strides=strides)


@pytest.mark.parametrize("name", sorted(WINDOW_HELPERS))
@pytest.mark.parametrize("size", [0, (2, 0)])
def test_zero_window_is_refused(name, size):
    argument = "pool_size" if name == "pool2d" else "kernel_size"
    with pytest.raises(ValueError, match=rf"`{argument}` must be a positive integer"):
        WINDOW_HELPERS[name](size=size)


@pytest.mark.parametrize("name", sorted(WINDOW_HELPERS))
@pytest.mark.parametrize("padding", ["bogus", "full", None, 1.5])
def test_unknown_padding_is_refused_with_the_allowed_values(name, padding):
    with pytest.raises(ValueError, match=r"`padding` must be one of 'valid', 'same'.*"
                       r"Received padding="):
        WINDOW_HELPERS[name](padding=padding)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 30), f=st.integers(1, 5), s=st.integers(1, 4),
       padding=st.sampled_from(PADDING_MODES))
def test_windows_tile_the_padded_input(n, f, s, padding):
    # Every window lies inside the padded input, and they start s apart.
    if padding == "valid" and f > n:
        return
    (top, bottom), (left, right) = pad_amounts((n, n), f, s, padding)
    padded = n + top + bottom
    starts = [rows.start for _, c, rows, _ in window_positions((n, n), f, s, padding) if c == 0]
    assert starts == list(range(0, s * len(starts), s))
    assert starts[-1] + f <= padded
    assert len(starts) == output_size(n, f, s, padding)
