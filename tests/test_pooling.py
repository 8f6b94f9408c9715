"""Tests for cifar_helpers.pooling: Keras layers and a loop as references, laws, errors."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cifar_helpers.pooling import MODES, pool2d
from cifar_helpers.windows import output_size, pad_amounts

KERAS_LAYERS = {"max": "MaxPooling2D", "average": "AveragePooling2D"}


@pytest.fixture(scope="module")
def keras():
    from cifar_helpers.notebook import quiet_tensorflow

    return quiet_tensorflow()


def keras_pool(keras, x, mode, pool_size, strides, padding):
    """The Keras layer's answer for one (H, W) or (H, W, C) map, as float64."""
    layer = getattr(keras.layers, KERAS_LAYERS[mode])(
        pool_size=pool_size, strides=strides, padding=padding
    )
    batch = x.reshape(1, *x.shape[:2], -1).astype(np.float32)
    out = np.asarray(layer(batch))[0].astype(np.float64)
    return out[:, :, 0] if x.ndim == 2 else out


def loop_pool(x, pool_size, strides, padding, mode):
    """Plain-loop pooling written independently of the package: the teaching version."""
    kh, kw = pool_size
    sh, sw = strides
    rows, cols = x.shape[:2]
    if padding == "valid":
        out_rows, out_cols, top, left = (rows - kh) // sh + 1, (cols - kw) // sw + 1, 0, 0
    else:
        out_rows, out_cols = math.ceil(rows / sh), math.ceil(cols / sw)
        top = max((out_rows - 1) * sh + kh - rows, 0) // 2
        left = max((out_cols - 1) * sw + kw - cols, 0) // 2
    x3 = x.reshape(rows, cols, -1)
    out = np.zeros((out_rows, out_cols, x3.shape[2]))
    for i in range(out_rows):
        for j in range(out_cols):
            r0, c0 = i * sh - top, j * sw - left
            window = x3[max(r0, 0) : r0 + kh, max(c0, 0) : c0 + kw]  # real cells only
            flat = window.reshape(-1, x3.shape[2])
            out[i, j] = {"max": flat.max, "average": flat.mean, "sum": flat.sum}[mode](axis=0)
    return out[:, :, 0] if x.ndim == 2 else out


FEATURE_MAP = np.array([[1, 3, 2, 0], [5, 6, 1, 2], [0, 2, 9, 4], [1, 1, 3, 8]])


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("max", [[6, 2], [2, 9]]),
        ("average", [[3.75, 1.25], [1.0, 6.0]]),
        ("sum", [[15, 5], [4, 24]]),
    ],
)
def test_hand_worked_2x2(mode, expected):
    np.testing.assert_array_equal(pool2d(FEATURE_MAP, mode=mode), expected)


def test_overlapping_windows_stride_1():
    np.testing.assert_array_equal(
        pool2d(FEATURE_MAP, pool_size=2, strides=1),
        [[6, 6, 2], [6, 9, 9], [2, 9, 9]],
    )


def test_same_padding_known_answer():
    x = np.arange(1, 26).reshape(5, 5)
    np.testing.assert_array_equal(
        pool2d(x, padding="same"), [[7, 9, 10], [17, 19, 20], [22, 24, 25]]
    )
    np.testing.assert_array_equal(
        pool2d(x, padding="same", mode="average"),
        [[4, 6, 7.5], [14, 16, 17.5], [21.5, 23.5, 25]],
    )
    np.testing.assert_array_equal(
        pool2d(x, padding="same", mode="sum"), [[16, 24, 15], [56, 64, 35], [43, 47, 25]]
    )


def test_same_padding_ignores_padding_for_negative_maps_and_constants():
    x = -np.arange(1, 10, dtype=float).reshape(3, 3)
    assert pool2d(x, padding="same").max() < 0  # never a padding zero
    np.testing.assert_array_equal(
        pool2d(np.full((5, 4), 7.0), pool_size=3, strides=2, padding="same", mode="average"),
        np.full((3, 2), 7.0),
    )


@pytest.mark.parametrize(
    "n, k, s, padding, before, after, size",
    [
        (32, 2, 2, "valid", 0, 0, 16),
        (7, 3, 2, "valid", 0, 0, 3),
        (7, 2, 2, "same", 0, 1, 4),
        (6, 3, 1, "same", 1, 1, 6),
        (6, 4, 1, "same", 1, 2, 6),
        (3, 5, 5, "same", 1, 1, 1),
        (8, 1, 3, "same", 0, 0, 3),
    ],
)
def test_pooling_window_rule(n, k, s, padding, before, after, size):
    # Pooling shares convolution's window geometry (cifar_helpers.windows).
    assert pad_amounts((n, n), k, s, padding) == ((before, after), (before, after))
    assert output_size(n, k, s, padding) == size


@pytest.mark.parametrize("mode", MODES)
def test_channels_pooled_independently(mode):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5, 3))
    out = pool2d(x, pool_size=(2, 3), strides=(2, 1), padding="same", mode=mode)
    for c in range(3):
        np.testing.assert_allclose(
            out[:, :, c], pool2d(x[:, :, c], (2, 3), (2, 1), "same", mode), rtol=1e-14
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_dtype_kept_and_input_not_mutated(mode, dtype):
    x = np.arange(16, dtype=dtype).reshape(4, 4)
    before = x.copy()
    assert pool2d(x, mode=mode, padding="same", strides=1).dtype == dtype
    np.testing.assert_array_equal(x, before)


def test_integer_input_gives_float64():
    assert pool2d(np.arange(16, dtype=np.uint8).reshape(4, 4), mode="sum").dtype == np.float64


def test_pool_size_one_is_identity_and_strides_default_to_pool_size():
    x = np.random.default_rng(2).normal(size=(5, 6, 2))
    np.testing.assert_array_equal(pool2d(x, pool_size=1), x)
    np.testing.assert_array_equal(pool2d(x, 3), pool2d(x, 3, strides=3))
    assert pool2d(x, (2, 3)).shape == (2, 2, 2)


# ---------------------------------------------------------------- Keras reference

CASES = [
    # shape, pool_size, strides, padding
    ((4, 4), 2, None, "valid"),
    ((5, 5), 2, None, "valid"),
    ((5, 5), 2, None, "same"),
    ((6, 7, 3), 3, 2, "valid"),
    ((6, 7, 3), 3, 2, "same"),
    ((7, 6, 2), (2, 3), (1, 2), "same"),
    ((8, 8, 4), 2, 1, "same"),
    ((3, 3), 4, 3, "same"),
    ((9, 5, 1), (4, 2), 3, "same"),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("shape, pool_size, strides, padding", CASES)
def test_matches_keras_layers(keras, shape, pool_size, strides, padding, mode):
    x = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    expected = keras_pool(keras, x, mode, pool_size, strides, padding)
    ours = pool2d(x, pool_size, strides, padding, mode)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape, pool_size, strides, padding", CASES)
def test_sum_is_average_times_real_cells(keras, shape, pool_size, strides, padding):
    x = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    average = keras_pool(keras, x, "average", pool_size, strides, padding)
    cells = loop_pool(np.ones(shape), _pair(pool_size), _pair(strides or pool_size), padding, "sum")
    if padding == "valid":
        assert np.all(cells == np.prod(_pair(pool_size)))
    np.testing.assert_allclose(
        pool2d(x, pool_size, strides, padding, "sum"), average * cells, rtol=1e-5, atol=1e-5
    )


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


@st.composite
def pooling_problems(draw):
    rows, cols = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    channels = draw(st.sampled_from([None, 1, 2, 3]))
    pool_size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = draw(st.sampled_from(["valid", "same"]))
    if padding == "valid":
        assume(pool_size[0] <= rows and pool_size[1] <= cols)
    shape = (rows, cols) if channels is None else (rows, cols, channels)
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return x, pool_size, strides, padding


@settings(max_examples=25, deadline=None)
@given(problem=pooling_problems())
def test_matches_keras_on_generated_problems(keras, problem):
    x, pool_size, strides, padding = problem
    for mode in ("max", "average"):
        expected = keras_pool(keras, x, mode, pool_size, strides, padding)
        np.testing.assert_allclose(
            pool2d(x, pool_size, strides, padding, mode), expected, rtol=1e-5, atol=1e-6
        )


@settings(max_examples=50, deadline=None)
@given(problem=pooling_problems())
def test_matches_loops_and_laws(problem):
    x, pool_size, strides, padding = problem
    x = x.astype(np.float64)
    results = {}
    for mode in MODES:
        results[mode] = pool2d(x, pool_size, strides, padding, mode)
        expected = loop_pool(x, pool_size, strides or pool_size, padding, mode)
        np.testing.assert_allclose(results[mode], expected, rtol=1e-12, atol=1e-12)
    # max-pool >= average-pool, and the output shape follows the rule
    assert np.all(results["max"] >= results["average"] - 1e-12)
    steps = strides or pool_size
    for axis in (0, 1):
        assert results["max"].shape[axis] == output_size(
            x.shape[axis], pool_size[axis], steps[axis], padding
        )
    assert results["max"].shape[2:] == x.shape[2:]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros(5), r"shape \(H, W\) or \(H, W, C\) .* Received an array of shape \(5,\)"),
        (np.zeros((1, 4, 4, 1)), r"\(no batch axis\). Received .* \(1, 4, 4, 1\) \(ndim=4\)"),
        (np.zeros((0, 4)), r"must not be empty. Received shape \(0, 4\)"),
        (np.array([["a", "b"], ["c", "d"]]), r"real numbers .* Received an array of dtype <U1"),
        (np.ones((2, 2), dtype=complex), r"real numbers .* dtype complex128"),
        ([[1.0, 2.0], [3.0]], r"numeric array .* Received list"),
        (np.array([[1.0, np.nan], [3.0, 4.0]]), r"must not contain NaN. Received 1 NaN"),
    ],
)
def test_bad_feature_map(x, match):
    with pytest.raises(ValueError, match=match):
        pool2d(x)


@pytest.mark.parametrize("pool_size", [0, -2, (2, 0), (2,), (2, 2, 2), 1.5, "2", True, None])
def test_bad_pool_size(pool_size):
    with pytest.raises(ValueError, match=r"`pool_size` must be a positive integer or a pair"):
        pool2d(np.zeros((4, 4)), pool_size=pool_size)


@pytest.mark.parametrize("strides", [0, -1, (1, 0), (1, 2, 3), 2.0])
def test_bad_strides(strides):
    with pytest.raises(
        ValueError, match=r"`strides` must be a positive integer .* Received strides="
    ):
        pool2d(np.zeros((4, 4)), strides=strides)


@pytest.mark.parametrize("padding", ["full", "SAME", 1, None])
def test_bad_padding(padding):
    with pytest.raises(
        ValueError, match=r"`padding` must be one of 'valid', 'same'. Received padding="
    ):
        pool2d(np.zeros((4, 4)), padding=padding)


@pytest.mark.parametrize("mode", ["min", "avg", "Max", None])
def test_bad_mode_no_silent_fallback(mode):
    with pytest.raises(
        ValueError, match=r"`mode` must be one of 'max', 'average', 'sum'. Received mode="
    ):
        pool2d(np.zeros((4, 4)), mode=mode)


def test_pool_larger_than_input_with_valid():
    with pytest.raises(
        ValueError,
        match=r"`pool_size` \(3, 5\) must fit inside the feature map \(4, 4\) with "
        r"padding='valid'",
    ):
        pool2d(np.zeros((4, 4, 2)), pool_size=(3, 5))
    assert pool2d(np.zeros((4, 4, 2)), pool_size=(3, 5), padding="same").shape == (2, 1, 2)


# ---------------------------------------------------------------- SciPy reference


def _scipy_pool(x, pool_size, strides, mode):
    """Valid pooling from scipy.ndimage's sliding filters, sampled at each window."""
    from scipy import ndimage

    (ph, pw), (sh, sw) = pool_size, strides
    size = (ph, pw) + (1,) * (x.ndim - 2)
    if mode == "max":
        filtered = ndimage.maximum_filter(x, size=size, mode="nearest")
    else:
        filtered = ndimage.uniform_filter(x, size=size, mode="nearest")
        if mode == "sum":
            filtered = filtered * (ph * pw)
    rows = ph // 2 + sh * np.arange((x.shape[0] - ph) // sh + 1)
    cols = pw // 2 + sw * np.arange((x.shape[1] - pw) // sw + 1)
    return filtered[np.ix_(rows, cols)]


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    channels=st.sampled_from([None, 1, 3]),
    pool_size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    mode=st.sampled_from(["max", "average", "sum"]),
    seed=st.integers(0, 2**16),
)
def test_valid_pooling_matches_scipy_ndimage(height, width, channels, pool_size, strides, mode,
                                            seed):
    assume(pool_size[0] <= height and pool_size[1] <= width)
    shape = (height, width) if channels is None else (height, width, channels)
    x = np.random.default_rng(seed).normal(size=shape)
    expected = _scipy_pool(x, pool_size, strides, mode)
    result = pool2d(x, pool_size=pool_size, strides=strides, padding="valid", mode=mode)
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-12)


# --- bounded cost ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_huge_padded_map_is_refused_before_allocating(mode):
    with pytest.raises(ValueError, match=r"`pool2d's padded feature map` must fit in 2\.1 GB "
                       r".*\(52000, 52000\) of 8-byte values: 21\.6 GB"):
        pool2d(np.ones((32, 32)), 52_000, padding="same", mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_pool2d_backward_refuses_a_huge_padded_gradient(mode):
    from cifar_helpers.backprop import pool2d_backward

    with pytest.raises(ValueError, match=r"pool2d_backward's padded gradient.*21\.6 GB"):
        pool2d_backward(np.ones((32, 32)), np.ones((1, 1)), 52_000, padding="same", mode=mode)


def test_conv2d_backward_refuses_a_huge_padded_input():
    from cifar_helpers.backprop import conv2d_backward, conv2d_backward_loops

    for backward in (conv2d_backward, conv2d_backward_loops):
        with pytest.raises(ValueError, match=r"conv2d_backward's padded input.*21\.7 GB"):
            backward(np.ones((32, 32)), np.ones((3, 3)), np.ones((4, 4)), padding=26_000)
