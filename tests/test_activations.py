"""Tests for cifar_helpers.activations: Keras as the reference, laws, error paths."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from cifar_helpers.activations import (
    ACTIVATIONS,
    get_activation,
    linear,
    relu,
    sigmoid,
    softmax,
    tanh,
)

ELEMENTWISE = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}

finite_floats = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=64)
float_arrays = arrays(
    np.float64, array_shapes(min_dims=1, max_dims=3, max_side=6), elements=finite_floats
)


@pytest.fixture(scope="module")
def keras():
    from cifar_helpers.notebook import quiet_tensorflow

    return quiet_tensorflow()


def keras_value(tensor):
    return np.asarray(tensor)


# ---------------------------------------------------------------- known answers


def test_relu_known_answer():
    np.testing.assert_array_equal(relu([-3.0, -0.0, 0.0, 2.5]), [0.0, 0.0, 0.0, 2.5])


def test_sigmoid_and_tanh_known_answers():
    np.testing.assert_allclose(sigmoid([0.0, np.log(3.0)]), [0.5, 0.75])
    np.testing.assert_allclose(tanh([0.0, np.log(2.0)]), [0.0, 0.6])


def test_softmax_known_answer():
    np.testing.assert_allclose(softmax([0.0, np.log(2.0), np.log(5.0)]), [0.125, 0.25, 0.625])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_float_dtype_kept(name, dtype):
    out = ACTIVATIONS[name](np.array([[-1.0, 0.5, 2.0]], dtype=dtype))
    assert out.dtype == dtype


def test_integer_and_bool_input_become_float64():
    assert relu(np.array([-1, 2], dtype=np.int8)).dtype == np.float64
    np.testing.assert_array_equal(relu(np.array([True, False])), [1.0, 0.0])


def test_inputs_not_mutated():
    x = np.array([-1.0, 2.0])
    for function in (relu, sigmoid, tanh, softmax, linear):
        function(x)
    np.testing.assert_array_equal(x, [-1.0, 2.0])
    assert linear(x) is not x


# ---------------------------------------------------------------- Keras reference


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 5, 5, 3)])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax"])
def test_matches_keras_activations(keras, name, shape):
    x = np.random.default_rng(0).normal(scale=4.0, size=shape)
    expected = keras_value(getattr(keras.activations, name)(x))
    np.testing.assert_allclose(ACTIVATIONS[name](x), expected, rtol=1e-6, atol=1e-12)


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
@settings(max_examples=25, deadline=None)
@given(x=float_arrays)
def test_matches_keras_on_generated_arrays(keras, x):
    for name, function in ELEMENTWISE.items():
        expected = keras_value(getattr(keras.activations, name)(x))
        np.testing.assert_allclose(function(x), expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(softmax(x), keras_value(keras.ops.softmax(x)), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_softmax_axis_matches_keras(keras, axis):
    x = np.random.default_rng(1).normal(size=(3, 4))
    expected = keras_value(keras.ops.softmax(x, axis=axis))
    np.testing.assert_allclose(softmax(x, axis=axis), expected, rtol=1e-6)


# ---------------------------------------------------------------- numerical stability


def test_no_overflow_warnings_for_large_inputs():
    x = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(x)
        t = tanh(x)
        p = softmax(x)
    np.testing.assert_allclose(s[[0, 1, -2, -1]], [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(t[[0, -1]], [-1.0, 1.0])
    np.testing.assert_allclose(p, [0, 0, 0, 0, 0, 0, 1], atol=1e-300)


def test_sigmoid_float32_no_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-200.0, 200.0], dtype=np.float32))
    np.testing.assert_array_equal(out, np.array([0.0, 1.0], dtype=np.float32))


def test_softmax_of_huge_equal_scores():
    np.testing.assert_allclose(softmax(np.full((2, 3), 1e300)), np.full((2, 3), 1 / 3))


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(x=float_arrays, shift=finite_floats)
def test_softmax_sums_to_one_and_is_shift_invariant(x, shift):
    p = softmax(x)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(x + shift), p, rtol=1e-9, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(x=float_arrays)
def test_relu_idempotent_and_non_negative(x):
    once = relu(x)
    np.testing.assert_array_equal(relu(once), once)
    assert np.all(once >= 0)
    np.testing.assert_array_equal(once - relu(-x), x)  # x = relu(x) - relu(-x)


@settings(max_examples=40, deadline=None)
@given(x=float_arrays)
def test_sigmoid_tanh_laws(x):
    s = sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + sigmoid(-x), 1.0, rtol=1e-12)
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-12)
    np.testing.assert_allclose(tanh(-x), -tanh(x))


def test_softmax_preserves_order():
    x = np.array([0.3, -1.0, 2.0, 0.5])
    np.testing.assert_array_equal(np.argsort(softmax(x)), np.argsort(x))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("function", [relu, sigmoid, tanh, softmax, linear])
def test_nan_rejected(function):
    with pytest.raises(ValueError, match=r"must not contain NaN. Received 1 NaN"):
        function(np.array([1.0, np.nan, 2.0]))


@pytest.mark.parametrize("function", [relu, sigmoid, tanh, softmax, linear])
@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array(["a", "b"]), r"array of real numbers .* Received an array of dtype <U1"),
        (np.array([1 + 2j]), r"must be an array of real numbers .* dtype complex128"),
        ([1.0, "two"], r"must be an array of real numbers"),
        ([[1.0, 2.0], [3.0]], r"must be a numeric array .* Received list"),
    ],
)
def test_non_numeric_rejected(function, bad, match):
    with pytest.raises(ValueError, match=match):
        function(bad)


def test_softmax_scalar_rejected():
    with pytest.raises(ValueError, match=r"at least one axis .* Received a scalar"):
        softmax(3.0)


def test_softmax_infinity_rejected():
    with pytest.raises(ValueError, match=r"only finite scores. Received 1 infinite"):
        softmax([0.0, np.inf])


@pytest.mark.parametrize("axis", [2, -3, 1.0, None, True])
def test_softmax_bad_axis(axis):
    with pytest.raises(ValueError, match=r"`axis` must be an int in \[-2, 1\] .* Received axis="):
        softmax(np.zeros((2, 3)), axis=axis)


def test_get_activation():
    assert get_activation(None) is linear
    assert get_activation("tanh") is tanh
    with pytest.raises(ValueError, match=r"Unknown activation. Expected one of \['linear'"):
        get_activation("gelu")
    with pytest.raises(ValueError, match=r"Received <built-in function max>"):
        get_activation(max)
