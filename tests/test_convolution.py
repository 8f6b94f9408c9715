"""Tests for cifar_helpers.convolution.

References: ``scipy.signal.correlate2d`` / ``convolve2d`` on each channel, and
``keras.layers.Conv2D`` with its weights set (``use_bias=False``), over
parametrized and hypothesis-generated shapes, strides, paddings and channels.
"""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.signal import convolve2d as scipy_convolve2d
from scipy.signal import correlate2d

from cifar_helpers.convolution import conv2d, conv2d_loops, convolve2d, flip_kernel
from cifar_helpers.examples import SEED_IMAGE, SEED_KERNEL, STRIDE_GRID
from cifar_helpers.windows import (
    pad_amounts,
    pad_image,
    window_positions,
)

SEED_ANSWER = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
STRIDE_ANSWER = [[108, 126, 144], [288, 306, 324], [468, 486, 504]]
IMPLEMENTATIONS = [conv2d, conv2d_loops]
PADDINGS = ["valid", "same", 0, 1, 2, (0, 1), (2, 1)]


# --------------------------------------------------------------------------- #
# Independent references
# --------------------------------------------------------------------------- #
def _as_pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def reference_pads(shape, kernel_size, strides, padding):
    """Padding per TensorFlow's documented "SAME" rule, or p zeros per side."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        pads = []
        for n, f, s in zip(shape[:2], kernel_size, strides, strict=True):
            out = -(-n // s)
            total = max((out - 1) * s + f - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    pr, pc = _as_pair(padding)
    return ((pr, pr), (pc, pc))


def _kernel4(kernel, channels):
    return kernel.reshape(kernel.shape[:2] + (channels, -1))


def scipy_reference(image, kernel, strides=1, padding="valid"):
    """Sum over channels of scipy's 2-D cross-correlation, then subsample."""
    image3 = image[:, :, None] if image.ndim == 2 else image
    channels = image3.shape[2]
    kernel4 = _kernel4(kernel, channels)
    sr, sc = _as_pair(strides)
    pads = reference_pads(image3.shape, kernel4.shape[:2], (sr, sc), padding)
    padded = np.pad(image3, pads + ((0, 0),))
    maps = [
        sum(correlate2d(padded[:, :, c], kernel4[:, :, c, f], "valid") for c in range(channels))
        for f in range(kernel4.shape[3])
    ]
    out = np.stack(maps, axis=-1)[::sr, ::sc]
    return out if kernel.ndim == 4 else out[:, :, 0]


@pytest.fixture(scope="module")
def keras():
    from cifar_helpers.notebook import quiet_tensorflow

    return quiet_tensorflow()


def keras_reference(keras, image, kernel, strides=1, padding="valid"):
    """Run the image through a keras.layers.Conv2D holding `kernel` as its weights."""
    image3 = image[:, :, None] if image.ndim == 2 else image
    kernel4 = _kernel4(kernel, image3.shape[2])
    batch = image3[None].astype("float32")
    if not isinstance(padding, str):  # Keras pads only "valid"/"same": pad explicitly
        pr, pc = _as_pair(padding)
        batch = np.pad(batch, ((0, 0), (pr, pr), (pc, pc), (0, 0)))
        padding = "valid"
    layer = keras.layers.Conv2D(
        kernel4.shape[3], kernel4.shape[:2], strides=strides, padding=padding, use_bias=False
    )
    layer.build(batch.shape)
    layer.set_weights([kernel4.astype("float32")])
    out = np.asarray(layer(batch))[0]
    return out if kernel.ndim == 4 else out[:, :, 0]


@st.composite
def conv_cases(draw, max_side=9, max_kernel=4, paddings=PADDINGS):
    """(image, kernel, strides, padding) with small integer values (exact sums)."""
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    strides = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = draw(st.sampled_from(paddings))
    pr, pc = (0, 0) if isinstance(padding, str) else _as_pair(padding)
    low_h = 1 if padding == "same" else max(1, kh - 2 * pr)
    low_w = 1 if padding == "same" else max(1, kw - 2 * pc)
    rows, cols = draw(st.integers(low_h, max_side)), draw(st.integers(low_w, max_side))
    layout = draw(st.sampled_from(["2d", "3d", "4d"]))
    channels = 1 if layout == "2d" else draw(st.integers(1, 3))
    filters = draw(st.integers(1, 3))
    image_shape = (rows, cols, channels)
    if channels == 1 and draw(st.booleans()):
        image_shape = (rows, cols)
    kernel_shape = {"2d": (kh, kw), "3d": (kh, kw, channels), "4d": (kh, kw, channels, filters)}
    image = draw(hnp.arrays(np.int64, image_shape, elements=st.integers(-9, 9)))
    kernel = draw(hnp.arrays(np.int64, kernel_shape[layout], elements=st.integers(-3, 3)))
    return image, kernel, strides, padding


def random_case(image_shape, kernel_shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=image_shape), rng.normal(size=kernel_shape)


# Parametrized shapes: (image shape, kernel shape, strides, padding)
CASES = [
    ((5, 5), (3, 3), 1, "valid"),
    ((5, 5), (3, 3), 1, "same"),
    ((6, 7), (2, 2), 1, "same"),  # even kernel: extra zero row/column at bottom/right
    ((6, 7), (4, 2), 2, "same"),  # even kernel, stride 2
    ((7, 8), (3, 3), 2, "same"),
    ((8, 7), (3, 3), 2, "valid"),
    ((9, 9), (3, 2), (2, 3), "same"),
    ((5, 6), (3, 3), 1, 1),
    ((5, 6), (3, 3), 2, (2, 1)),
    ((4, 4), (4, 4), 1, "valid"),  # kernel as big as the image
    ((1, 1), (3, 3), 1, "same"),
    ((6, 6, 3), (3, 3, 3), 1, "valid"),
    ((6, 6, 3), (3, 3, 3, 4), 1, "same"),
    ((7, 5, 2), (2, 3, 2, 3), 2, "same"),
    ((8, 8, 4), (3, 3, 4, 2), (1, 2), 1),
    ((5, 5), (3, 3, 1, 2), 1, "valid"),  # 2-D image, several filters
    ((5, 5, 1), (3, 3), 1, "valid"),  # one-channel image, 2-D kernel
]


# --------------------------------------------------------------------------- #
# Known answers
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("function", IMPLEMENTATIONS + [convolve2d])
def test_seed_example(function):
    result = function(SEED_IMAGE, SEED_KERNEL)
    np.testing.assert_array_equal(result, SEED_ANSWER)
    assert result.dtype == np.int64


@pytest.mark.parametrize("function", IMPLEMENTATIONS)
def test_stride_example_full_result(function):
    result = function(STRIDE_GRID, np.ones((3, 3), dtype=int), strides=2)
    np.testing.assert_array_equal(result, STRIDE_ANSWER)
    np.testing.assert_array_equal(result[:2, :2], [[108, 126], [288, 306]])  # tutorial figure


def test_seed_example_first_window_by_hand():
    _, _, rows, cols = next(window_positions(SEED_IMAGE.shape, 3))
    products = SEED_IMAGE[rows, cols] * SEED_KERNEL
    np.testing.assert_array_equal(products, [[1, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert products.sum() == 4


@pytest.mark.parametrize("function", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64, bool])
def test_integer_inputs_give_exact_int64(function, dtype):
    image = (SEED_IMAGE * (1 if dtype is bool else 200)).astype(dtype)
    result = function(image, SEED_KERNEL)
    assert result.dtype == np.int64
    scale = 1 if dtype is bool else 200
    np.testing.assert_array_equal(result, np.array(SEED_ANSWER) * scale)


@pytest.mark.parametrize("function", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_inputs_give_float64(function, dtype):
    result = function(SEED_IMAGE.astype(dtype), SEED_KERNEL)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, SEED_ANSWER)


@pytest.mark.parametrize("function", IMPLEMENTATIONS)
def test_huge_integers_stay_exact(function):
    # 4 products of 2**40 * 2**12 add up to 2**54: beyond float64's exact integers.
    image = np.full((3, 3), 2**40 + 1, dtype=np.int64)
    kernel = np.full((2, 2), 2**12, dtype=np.int64)
    result = function(image, kernel)
    assert result.dtype == np.int64
    assert (result == 4 * (2**40 + 1) * 2**12).all()


@pytest.mark.parametrize("function", IMPLEMENTATIONS)
def test_huge_integers_stay_exact_with_channels_and_filters(function):
    image = np.full((3, 3, 2), 2**40 + 1, dtype=np.int64)
    kernel = np.full((2, 2, 2, 3), 2**12, dtype=np.int64)
    result = function(image, kernel)
    assert result.shape == (2, 2, 3) and result.dtype == np.int64
    assert (result == 8 * (2**40 + 1) * 2**12).all()


def test_list_inputs_are_accepted():
    np.testing.assert_array_equal(conv2d(SEED_IMAGE.tolist(), SEED_KERNEL.tolist()), SEED_ANSWER)


@pytest.mark.parametrize("function", IMPLEMENTATIONS)
def test_inputs_are_not_modified(function):
    image, kernel = random_case((6, 6, 2), (3, 3, 2, 2))
    image_before, kernel_before = image.copy(), kernel.copy()
    function(image, kernel, strides=2, padding="same")
    np.testing.assert_array_equal(image, image_before)
    np.testing.assert_array_equal(kernel, kernel_before)


# --------------------------------------------------------------------------- #
# Against SciPy
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("function", IMPLEMENTATIONS)
@pytest.mark.parametrize(("image_shape", "kernel_shape", "strides", "padding"), CASES)
def test_matches_scipy_parametrized(function, image_shape, kernel_shape, strides, padding):
    image, kernel = random_case(image_shape, kernel_shape)
    expected = scipy_reference(image, kernel, strides, padding)
    result = function(image, kernel, strides=strides, padding=padding)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(conv_cases())
def test_matches_scipy_hypothesis(case):
    image, kernel, strides, padding = case
    expected = scipy_reference(image, kernel, strides, padding)
    np.testing.assert_array_equal(conv2d(image, kernel, strides, padding), expected)
    np.testing.assert_array_equal(conv2d_loops(image, kernel, strides, padding), expected)


@pytest.mark.parametrize("kernel_shape", [(3, 3), (5, 5), (3, 5)])
def test_same_padding_matches_scipy_same_mode_for_odd_kernels(kernel_shape):
    image, kernel = random_case((9, 8), kernel_shape)
    np.testing.assert_allclose(
        conv2d(image, kernel, padding="same"), correlate2d(image, kernel, mode="same")
    )


# --------------------------------------------------------------------------- #
# Against keras.layers.Conv2D
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("image_shape", "kernel_shape", "strides", "padding"), CASES)
def test_matches_keras_conv2d_parametrized(keras, image_shape, kernel_shape, strides, padding):
    image, kernel = random_case(image_shape, kernel_shape, seed=1)
    expected = keras_reference(keras, image, kernel, strides, padding)
    result = conv2d(image, kernel, strides=strides, padding=padding)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(case=conv_cases(max_side=8, paddings=["valid", "same", 1]))
def test_matches_keras_conv2d_hypothesis(keras, case):
    image, kernel, strides, padding = case
    expected = keras_reference(keras, image, kernel, strides, padding)
    np.testing.assert_allclose(conv2d(image, kernel, strides, padding), expected, atol=1e-4)


# --------------------------------------------------------------------------- #
# Sizes, padding and window positions
# --------------------------------------------------------------------------- #
# --------------------------------------------------------------------------- #
# Laws: identity, linearity, flipping
# --------------------------------------------------------------------------- #
@settings(max_examples=30, deadline=None)
@given(
    image=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
        elements=st.floats(-100, 100),
    )
)
def test_identity_kernel_returns_the_input(image):
    identity = np.zeros((3, 3))
    identity[1, 1] = 1
    np.testing.assert_array_equal(conv2d(image, identity, padding="same"), image)
    np.testing.assert_array_equal(conv2d_loops(image, identity, padding="same"), image)


@pytest.mark.parametrize("channels", [1, 3])
def test_identity_filters_return_every_channel(channels):
    image, _ = random_case((5, 6, channels), (1,))
    kernel = np.zeros((3, 3, channels, channels))
    kernel[1, 1] = np.eye(channels)
    np.testing.assert_array_equal(conv2d(image, kernel, padding="same"), image)


@settings(max_examples=40, deadline=None)
@given(case=conv_cases(), a=st.integers(-4, 4), b=st.integers(-4, 4), seed=st.integers(0, 99))
def test_linearity(case, a, b, seed):
    image, kernel, strides, padding = case
    other = np.random.default_rng(seed).integers(-9, 10, size=image.shape)
    np.testing.assert_array_equal(
        conv2d(a * image + b * other, kernel, strides, padding),
        a * conv2d(image, kernel, strides, padding) + b * conv2d(other, kernel, strides, padding),
    )
    other_kernel = np.random.default_rng(seed).integers(-3, 4, size=kernel.shape)
    np.testing.assert_array_equal(
        conv2d(image, a * kernel + b * other_kernel, strides, padding),
        a * conv2d(image, kernel, strides, padding)
        + b * conv2d(image, other_kernel, strides, padding),
    )


@pytest.mark.parametrize("kernel_shape", [(3, 3), (2, 3), (1, 4)])
def test_convolve2d_matches_scipy_convolve2d(kernel_shape):
    image, kernel = random_case((6, 7), kernel_shape)
    np.testing.assert_allclose(convolve2d(image, kernel), scipy_convolve2d(image, kernel, "valid"))
    np.testing.assert_allclose(convolve2d(image, kernel), conv2d(image, flip_kernel(kernel)))


def test_flip_kernel_flips_rows_and_columns_only():
    kernel = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    flipped = flip_kernel(kernel)
    np.testing.assert_array_equal(flipped[0, 0], kernel[1, 2])
    np.testing.assert_array_equal(flip_kernel(flipped), kernel)
    assert not np.shares_memory(flipped, kernel)


def test_symmetric_kernel_convolution_equals_correlation():
    np.testing.assert_array_equal(
        convolve2d(SEED_IMAGE, SEED_KERNEL), conv2d(SEED_IMAGE, SEED_KERNEL)
    )


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("function", IMPLEMENTATIONS + [convolve2d])
@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "match"),
    [
        (np.ones((5, 5)), np.ones((3, 3)), {"strides": 0}, r"`strides` must be a positive .*=0"),
        (np.ones((5, 5)), np.ones((3, 3)), {"strides": -1}, r"Received strides=-1"),
        (np.ones((5, 5)), np.ones((3, 3)), {"strides": 1.5}, r"Received strides=1\.5"),
        (np.ones((5, 5)), np.ones((3, 3)), {"strides": (1, 0)}, r"Received strides=\(1, 0\)"),
        (np.ones((5, 5)), np.ones((3, 3)), {"strides": (1, 2, 3)}, r"pair of them"),
        (np.ones((5, 5)), np.ones((3, 3)), {"strides": True}, r"Received strides=True"),
        (np.ones((5, 5)), np.ones((3, 3)), {"padding": "full"}, r"'valid', 'same'.*'full'"),
        (np.ones((5, 5)), np.ones((3, 3)), {"padding": -1}, r"non-negative .*padding=-1"),
        (np.ones((5, 5)), np.ones((3, 3)), {"padding": (1, -2)}, r"padding=\(1, -2\)"),
        (np.ones((5, 5)), np.ones((3, 3)), {"padding": 0.5}, r"padding=0\.5"),
        (np.ones((5, 5)), np.ones((3, 3)), {"padding": None}, r"padding=None"),
        (np.ones((2, 4)), np.ones((3, 3)), {}, r"kernel is larger than the padded input"),
        (np.ones((4, 2)), np.ones((3, 3)), {}, r"along the columns: kernel size 3 > padded"),
        (np.ones((1, 1)), np.ones((4, 4)), {"padding": 1}, r"padded input size 3"),
        (np.ones((5, 5, 3)), np.ones((3, 3)), {}, r"Channel mismatch: a 2-D kernel"),
        (np.ones((5, 5, 3)), np.ones((3, 3, 2)), {}, r"Channel mismatch.*3 channel\(s\).* 2"),
        (np.ones((5, 5)), np.ones((3, 3, 2, 4)), {}, r"Channel mismatch"),
        ([["a", "b"], ["c", "d"]], np.ones((1, 1)), {}, r"`image` must be an array of real"),
        (np.ones((3, 3)), np.full((1, 1), None), {}, r"`kernel` .*real numbers.*object"),
        (np.ones((3, 3), dtype=complex), np.ones((1, 1)), {}, r"real numbers.*complex"),
        ([[1.0, np.nan], [0.0, 1.0]], np.ones((1, 1)), {}, r"`image` .*finite.* 1 NaN"),
        (np.ones((3, 3)), [[np.inf]], {}, r"`kernel` .*finite.*1 infinite"),
        (np.ones(5), np.ones((3, 3)), {}, r"`image` must have shape .*\(5,\) \(1-D\)"),
        (np.ones((1, 5, 5, 3)), np.ones((3, 3, 3)), {}, r"`image` must have shape.*4-D"),
        (np.ones((5, 5)), np.ones(3), {}, r"`kernel` must have shape .*\(3,\)"),
        (np.ones((5, 5)), np.ones((1, 1, 1, 1, 1)), {}, r"`kernel` must have shape.*5-D"),
        (np.ones((0, 5)), np.ones((1, 1)), {}, r"`image` must not be empty"),
        (np.ones((5, 5)), np.ones((3, 0)), {}, r"`kernel` must not be empty"),
    ],
)
def test_errors(function, image, kernel, kwargs, match):
    with pytest.raises(ValueError, match=match):
        function(image, kernel, **kwargs)


@pytest.mark.parametrize(
    ("function", "args", "match"),
    [
        (pad_amounts, ((5,), 3), r"`input_shape` must be a shape .*\(5,\)"),
        (pad_amounts, ((5, 0), 3), r"`input_shape`.*\(5, 0\)"),
        (pad_amounts, ((5, 5), 6), r"kernel is larger"),
        (pad_image, (np.ones(4), 3), r"`image` must have shape"),
        (pad_image, (np.ones((4, 4)), 3, 0), r"`strides`"),
        (window_positions, ("5x5", 3), r"`input_shape` must be a shape"),
        (window_positions, ((5, 5), 3, 1, "full"), r"'valid', 'same'"),
        (window_positions, ((2, 2), 3), r"kernel is larger"),
        (flip_kernel, (np.ones(3),), r"`kernel` must have shape"),
        (flip_kernel, ([[np.nan]],), r"NaN"),
    ],
)
def test_helper_errors_are_raised_at_call_time(function, args, match):
    with pytest.raises(ValueError, match=match):
        function(*args)  # window_positions raises before the first window is asked for


# --------------------------------------------------------------------------- #
# Import hygiene
# --------------------------------------------------------------------------- #
def test_numpy_modules_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "import cifar_helpers.convolution, cifar_helpers.filters, cifar_helpers.examples\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


# --- bounded cost and exact integers -------------------------------------------------------


@pytest.mark.parametrize("conv", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "image, kernel, padding, message",
    [
        (np.ones((32, 32)), np.ones((3, 3)), 26_000,
         r"`conv2d's padded image` must fit in 2\.1 GB .* \(52032, 52032, 1\) .*: 21\.7 GB"),
        (np.ones((32, 32, 1)), np.ones((3, 3, 1, 300_000), np.float32), "valid",
         r"`conv2d's output` must fit in 2\.1 GB .* \(30, 30, 300000\) .*: 2\.2 GB"),
    ],
    ids=["padding=26000", "300,000 filters"],
)
def test_huge_requests_are_refused_before_allocating(conv, image, kernel, padding, message):
    with pytest.raises(ValueError, match=message):
        conv(image, kernel, padding=padding)


def test_the_size_limit_is_exact(monkeypatch):
    from cifar_helpers import _validation

    monkeypatch.setattr(_validation, "MAX_OUTPUT_BYTES", 6 * 6 * 8)  # the padded 6x6 image
    assert conv2d(np.ones((4, 4)), np.ones((3, 3)), padding=1).shape == (4, 4)
    with pytest.raises(ValueError, match=r"\(8, 8, 1\) of 8-byte values"):
        conv2d(np.ones((4, 4)), np.ones((3, 3)), padding=2)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "value, weight",
    [(2**60, 4), (-(2**62), 2), (2**63 - 1, 1), (np.iinfo(np.uint64).max, 1)],
)
def test_integers_that_could_overflow_int64_are_refused(conv, value, weight):
    dtype = np.uint64 if value > np.iinfo(np.int64).max else np.int64
    image = np.full((3, 3), value, dtype=dtype)
    kernel = np.full((2, 2), weight, dtype=np.int64)
    with pytest.raises(ValueError, match=r"exact int64 arithmetic.*below 2\*\*63"):
        conv(image, kernel)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS)
def test_large_integers_that_fit_are_exact(conv):
    rng = np.random.default_rng(0)
    image = rng.integers(-(2**58), 2**58, size=(5, 5), dtype=np.int64)
    kernel = rng.integers(-3, 4, size=(2, 2))  # sum|kernel| <= 12 < 2**63 / 2**58
    result = conv(image, kernel)
    assert result.dtype == np.int64
    exact = [[sum(int(image[r + i, c + j]) * int(kernel[i, j]) for i in range(2) for j in range(2))
              for c in range(4)] for r in range(4)]
    assert result.tolist() == exact  # Python ints: no rounding, no wrap-around
