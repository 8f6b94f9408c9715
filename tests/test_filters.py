"""Tests for cifar_helpers.filters: the named kernels and apply_filter."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.signal import correlate2d

from cifar_helpers.convolution import conv2d
from cifar_helpers.filters import (
    BOX_BLUR,
    DISPLAY_PERCENTILE,
    EDGE_DIAGONAL,
    EDGE_LAPLACE4,
    EDGE_LAPLACE8,
    FILTER_DESCRIPTIONS,
    FILTERS,
    GAUSSIAN_BLUR,
    IDENTITY,
    NORMALIZE_MODES,
    SHARPEN,
    apply_filter,
)

BRIGHTNESS_KEEPING = ["identity", "sharpen", "box_blur", "gaussian_blur"]
EDGE_DETECTORS = ["edge_diagonal", "edge_laplace4", "edge_laplace8"]


def photo_like(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


# --------------------------------------------------------------------------- #
# The kernels
# --------------------------------------------------------------------------- #
def test_kernels_are_the_tutorials_table():
    np.testing.assert_array_equal(IDENTITY, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(EDGE_DIAGONAL, [[1, 0, -1], [0, 0, 0], [-1, 0, 1]])
    np.testing.assert_array_equal(EDGE_LAPLACE4, [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(EDGE_LAPLACE8, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(SHARPEN, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_allclose(BOX_BLUR, np.ones((3, 3)) / 9)
    np.testing.assert_allclose(GAUSSIAN_BLUR, np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)


def test_filters_mapping_names_every_kernel_in_order():
    assert list(FILTERS) == [
        "identity",
        "edge_diagonal",
        "edge_laplace4",
        "edge_laplace8",
        "sharpen",
        "box_blur",
        "gaussian_blur",
    ]
    assert FILTERS["sharpen"] is SHARPEN
    assert set(FILTER_DESCRIPTIONS) == set(FILTERS)
    with pytest.raises(TypeError):
        FILTERS["mine"] = IDENTITY  # read-only mapping


@pytest.mark.parametrize("name", list(FILTERS))
def test_kernels_are_read_only_3x3_float(name):
    kernel = FILTERS[name]
    assert kernel.shape == (3, 3)
    assert kernel.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        kernel[0, 0] = 1.0


@pytest.mark.parametrize("name", BRIGHTNESS_KEEPING)
def test_brightness_keeping_kernels_sum_to_one(name):
    assert FILTERS[name].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", EDGE_DETECTORS)
def test_edge_detectors_sum_to_zero_and_ignore_flat_areas(name):
    assert FILTERS[name].sum() == pytest.approx(0.0)
    flat = np.full((6, 6), 77.0)
    response = apply_filter(flat, name, normalize=None)
    np.testing.assert_allclose(response[1:-1, 1:-1], 0.0)  # away from the zero border


# --------------------------------------------------------------------------- #
# apply_filter: raw response
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("shape", [(9, 11), (8, 7, 3), (5, 6, 1)])
def test_raw_response_is_same_padded_conv2d_per_channel(name, shape):
    image = photo_like(shape)
    result = apply_filter(image, name, normalize=None)
    assert result.shape == image.shape
    assert result.dtype == np.float64
    channels = [image] if image.ndim == 2 else [image[:, :, c] for c in range(shape[2])]
    expected = [conv2d(channel, FILTERS[name], padding="same") for channel in channels]
    expected = expected[0] if image.ndim == 2 else np.stack(expected, axis=-1)
    np.testing.assert_allclose(result, expected, atol=1e-9)


@pytest.mark.parametrize("name", list(FILTERS))
def test_raw_response_matches_scipy_same_mode(name):
    image = photo_like((10, 12)).astype(float)
    np.testing.assert_allclose(
        apply_filter(image, name, normalize=None),
        correlate2d(image, FILTERS[name], mode="same"),
        atol=1e-9,
    )


@settings(max_examples=40, deadline=None)
@given(
    image=hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3])),
    ),
    kernel=hnp.arrays(
        np.int64,
        st.tuples(st.integers(1, 4), st.integers(1, 4)),
        elements=st.integers(-3, 3),
    ),
)
def test_any_kernel_even_sizes_follows_keras_same_placement(image, kernel):
    result = apply_filter(image, kernel, normalize=None)
    expected = np.stack(
        [conv2d(image[:, :, c], kernel, padding="same") for c in range(image.shape[2])], axis=-1
    )
    np.testing.assert_allclose(result, expected, atol=1e-9)


def test_name_and_array_give_the_same_result():
    image = photo_like((7, 7, 3))
    np.testing.assert_array_equal(
        apply_filter(image, "gaussian_blur"), apply_filter(image, GAUSSIAN_BLUR.tolist())
    )


# --------------------------------------------------------------------------- #
# apply_filter: display-ready output
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 3)])
def test_identity_returns_the_input(shape):
    image = photo_like(shape)
    result = apply_filter(image, "identity")
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, image)
    floats = image / 255.0
    np.testing.assert_allclose(apply_filter(floats, IDENTITY), floats)


@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("mode", ["auto", "clip", "abs", "minmax"])
def test_display_output_is_in_range(name, mode):
    image = photo_like((12, 10, 3))
    shown = apply_filter(image, name, normalize=mode)
    assert shown.dtype == np.uint8 and shown.shape == image.shape
    shown_float = apply_filter(image / 255.0, name, normalize=mode)
    assert shown_float.dtype == np.float64
    assert shown_float.min() >= 0.0 and shown_float.max() <= 1.0


def test_auto_clips_brightness_keeping_kernels_and_scales_edges():
    image = photo_like((12, 10, 3))
    for name in BRIGHTNESS_KEEPING:
        np.testing.assert_array_equal(
            apply_filter(image, name), apply_filter(image, name, normalize="clip")
        )
    for name in EDGE_DETECTORS:
        shown = apply_filter(image, name)
        np.testing.assert_array_equal(shown, apply_filter(image, name, normalize="abs"))
        assert shown.max() == 255


def test_clip_abs_and_minmax_known_values():
    image = np.zeros((3, 7), dtype=np.uint8)
    image[1, 1] = image[1, 5] = 100
    # Laplacian response: -400 at the two dots, +100 at their 4 neighbours, 0 elsewhere.
    raw = apply_filter(image, "edge_laplace4", normalize=None)
    row = [100, -400, 100, 0, 100, -400, 100]
    np.testing.assert_array_equal(raw[1], row)
    np.testing.assert_array_equal(raw[0], [0, 100, 0, 0, 0, 100, 0])
    np.testing.assert_array_equal(
        apply_filter(image, "edge_laplace4", normalize="clip")[1], [100, 0, 100, 0, 100, 0, 100]
    )
    np.testing.assert_array_equal(
        apply_filter(image, "edge_laplace4", normalize="abs")[1],
        [64, 255, 64, 0, 64, 255, 64],  # 100/400*255 = 63.75
    )
    np.testing.assert_array_equal(
        apply_filter(image, "edge_laplace4", normalize="minmax")[1],
        [255, 0, 255, 204, 255, 0, 255],  # (0+400)/500*255 = 204
    )


def test_a_few_extreme_pixels_do_not_darken_the_display():
    image = photo_like((60, 60), seed=3) // 8  # faint texture, values 0-31
    image[30, 30] = 255  # one very bright dot
    shown = apply_filter(image, "edge_laplace8", normalize="abs")
    raw = np.abs(apply_filter(image, "edge_laplace8", normalize=None))
    by_maximum = raw / raw.max() * 255
    assert shown.max() == 255
    assert (shown == 255).mean() <= 0.01
    assert np.median(shown) > 2 * np.median(by_maximum)
    stretched = apply_filter(image, "edge_laplace8", normalize="minmax")
    assert stretched.min() == 0 and stretched.max() == 255


@pytest.mark.parametrize("mode", ["abs", "minmax"])
def test_constant_response_does_not_divide_by_zero(mode):
    zeros = np.zeros((4, 4, 3), dtype=np.uint8)
    with np.errstate(all="raise"):
        shown = apply_filter(zeros, "edge_laplace8", normalize=mode)
    np.testing.assert_array_equal(shown, 0)


def test_other_integer_and_bool_images_are_treated_like_uint8():
    image = photo_like((5, 5)).astype(np.int64)
    np.testing.assert_array_equal(
        apply_filter(image, "box_blur"), apply_filter(image.astype(np.uint8), "box_blur")
    )
    assert apply_filter(np.eye(3, dtype=bool), "identity").dtype == np.uint8


def test_input_is_not_modified():
    image = photo_like((6, 6, 3))
    before = image.copy()
    for mode in ["clip", "abs", "minmax", None]:
        apply_filter(image, "sharpen", normalize=mode)
    np.testing.assert_array_equal(image, before)


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "match"),
    [
        (np.ones((4, 4)), "emboss", {}, r"Unknown filter 'emboss'.*'identity'.*'gaussian_blur'"),
        (np.ones((4, 4)), "sharpen", {"normalize": "stretch"}, r"'auto', 'clip'.*'stretch'"),
        (np.ones((4, 4)), np.ones((3, 3, 3)), {}, r"`kernel` must have shape \(kh, kw\)"),
        (np.ones((4, 4)), [[np.nan]], {}, r"`kernel` .*NaN"),
        (np.ones(4), "identity", {}, r"`image` must have shape \(H, W\) or \(H, W, C\)"),
        (np.ones((1, 4, 4, 3)), "identity", {}, r"`image` must have shape.*4-D"),
        (np.full((3, 3), np.nan), "identity", {}, r"`image` .*9 NaN"),
        (np.full((3, 3), "x"), "identity", {}, r"`image` must be an array of real numbers"),
        (np.zeros((0, 3)), "identity", {}, r"`image` must not be empty"),
        (np.full((3, 3), 300), "identity", {}, r"0-255.*from 300 to 300"),
        (np.full((3, 3), -1), "identity", {}, r"0-255.*from -1"),
    ],
)
def test_errors(image, kernel, kwargs, match):
    with pytest.raises(ValueError, match=match):
        apply_filter(image, kernel, **kwargs)


def test_normalize_modes_listed():
    assert NORMALIZE_MODES == ("auto", "clip", "abs", "minmax", None)
    assert 50 < DISPLAY_PERCENTILE <= 100
