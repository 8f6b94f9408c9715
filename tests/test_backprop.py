"""Tests for cifar_helpers.backprop.

References: central differences (`numerical_gradient`) over hypothesis-drawn
shapes, strides, paddings and modes; ``tf.GradientTape`` over ``tf.nn`` ops on
seeded random cases (60 per layer); ``keras.optimizers.SGD`` for the update.
"""

import importlib.util
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cifar_helpers.backprop import (
    conv2d_backward,
    conv2d_backward_loops,
    dense_backward,
    numerical_gradient,
    pool2d_backward,
    relu_backward,
    sgd_momentum_step,
    softmax_cross_entropy,
)
from cifar_helpers.convolution import conv2d
from cifar_helpers.pooling import MODES as POOL_MODES
from cifar_helpers.pooling import pool2d
from cifar_helpers.windows import output_size, pad_amounts, window_positions

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "backprop_speed.py"
STRIDES = [1, 2, (1, 2), (2, 1), 3]
CONV_PADDINGS = ["valid", "same", 1, (0, 2)]
TF_CASES = 60


@pytest.fixture(scope="module")
def tf():
    from cifar_helpers.notebook import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow

    return tensorflow


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def distinct_values(rng, shape):
    """Random values at least 0.5 apart: no ties, and no change of argmax within eps."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 3.0


def check_against_numerical(forward, backward_value, x, atol=1e-6):
    """`backward_value` must be the gradient of ``sum(forward(x) * G)`` for the G used."""
    np.testing.assert_allclose(backward_value, numerical_gradient(forward, x), atol=atol)


# --------------------------------------------------------------------------- #
# Known answers beyond the doctests
# --------------------------------------------------------------------------- #
def test_softmax_cross_entropy_of_zero_logits_is_log_k():
    for k in (2, 10):
        loss, grad = softmax_cross_entropy(np.zeros((3, k)), np.arange(3) % k)
        assert loss == pytest.approx(np.log(k))
        np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-15)


def test_softmax_cross_entropy_is_stable_at_1000():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    loss, grad = softmax_cross_entropy(logits, np.array([0, 1]))
    assert loss == pytest.approx(1000.0)  # (0 + 2000) / 2
    np.testing.assert_allclose(grad, [[0, 0, 0], [0, -0.5, 0.5]], atol=1e-300)
    one_hot_loss, one_hot_grad = softmax_cross_entropy(logits, np.eye(3)[[0, 1]])
    assert one_hot_loss == loss
    np.testing.assert_array_equal(one_hot_grad, grad)


def test_pool_overlapping_windows_accumulate():
    x = np.array([[1.0, 2.0, 1.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])
    grad_x = pool2d_backward(x, np.ones((2, 2)), pool_size=2, strides=1)
    np.testing.assert_array_equal(grad_x, [[0, 0, 0], [0, 4, 0], [0, 0, 0]])
    sums = pool2d_backward(x, np.ones((2, 2)), pool_size=2, strides=1, mode="sum")
    np.testing.assert_array_equal(sums, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_max_pool_tie_goes_to_first_in_row_major_order():
    x = np.array([[7.0, 7.0], [7.0, 7.0]])
    np.testing.assert_array_equal(pool2d_backward(x, [[1.0]]), [[1, 0], [0, 0]])
    x = np.array([[0.0, 5.0], [5.0, 5.0]])
    np.testing.assert_array_equal(pool2d_backward(x, [[1.0]]), [[0, 1], [0, 0]])


def test_max_pool_same_padding_never_picks_padding():
    x = -np.arange(1.0, 10.0).reshape(3, 3)  # all negative: padding (0) would win if counted
    grad_x = pool2d_backward(x, np.ones((2, 2)), padding="same")
    np.testing.assert_array_equal(grad_x, [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


def test_conv_stride_leaves_uncovered_pixels_at_zero():
    x = np.arange(1.0, 6.0).reshape(1, 5)  # windows of 2 with stride 2 skip the last pixel
    grad_x, grad_kernel = conv2d_backward(x, [[1.0, 10.0]], [[1.0, 1.0]], strides=2)
    np.testing.assert_array_equal(grad_x, [[1, 10, 1, 10, 0]])
    np.testing.assert_array_equal(grad_kernel, [[1 + 3, 2 + 4]])


def test_integer_inputs_give_float64_gradients():
    grad_x, grad_kernel = conv2d_backward(np.ones((3, 3), dtype=int), np.ones((2, 2), int),
                                          np.ones((2, 2), int))
    assert grad_x.dtype == grad_kernel.dtype == np.float64
    np.testing.assert_array_equal(grad_x, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_functions_do_not_mutate_inputs():
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in [(5, 5, 2), (3, 3, 2, 4), (5, 5, 4), (4, 3), (2, 3)]]
    x, kernel, grad, dense_x, dense_grad = arrays
    copies = [a.copy() for a in arrays]
    conv2d_backward(x, kernel, grad, padding="same")
    conv2d_backward_loops(x, kernel, grad, padding="same")
    pool2d_backward(x, rng.normal(size=(3, 3, 2)), padding="same")
    dense_backward(dense_x, dense_grad.T, dense_x @ dense_grad.T)
    relu_backward(x, x)
    sgd_momentum_step(dense_x, dense_x, dense_x, 0.1, 0.9)
    numerical_gradient(lambda v: float(np.sum(v)), x)
    for array, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(array, copy)


def test_numerical_gradient_hands_f_copies():
    x = np.array([1.0, 2.0])

    def vandal(v):
        value = float(np.sum(v**3))
        v[:] = 100.0  # must not disturb x or the next evaluation
        return value

    np.testing.assert_allclose(numerical_gradient(vandal, x), [3.0, 12.0], rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    assert numerical_gradient(lambda v: float(v) ** 2, 3.0) == pytest.approx(6.0)


# --------------------------------------------------------------------------- #
# Every gradient against central differences (hypothesis)
# --------------------------------------------------------------------------- #
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), k=st.integers(1, 5), one_hot=st.booleans(), seed=st.integers(0, 999))
def test_softmax_cross_entropy_numerically(n, k, one_hot, seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(size=(n, k)) * 3, rng.integers(0, k, size=n)
    targets = np.eye(k)[labels] if one_hot else labels
    _, grad = softmax_cross_entropy(logits, targets)
    check_against_numerical(lambda z: softmax_cross_entropy(z, targets)[0], grad, logits)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), d=st.integers(1, 5), units=st.integers(1, 4),
       vector=st.booleans(), seed=st.integers(0, 999))
def test_dense_backward_numerically(n, d, units, vector, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(d,) if vector else (n, d))
    kernel, bias = rng.normal(size=(d, units)), rng.normal(size=units)
    grad = rng.normal(size=x.shape[:-1] + (units,))
    grad_x, grad_kernel, grad_bias = dense_backward(x, kernel, grad)
    assert grad_x.shape == x.shape
    check_against_numerical(lambda v: np.sum((v @ kernel + bias) * grad), grad_x, x)
    check_against_numerical(lambda w: np.sum((x @ w + bias) * grad), grad_kernel, kernel)
    check_against_numerical(lambda b: np.sum((x @ kernel + b) * grad), grad_bias, bias)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 999))
def test_relu_backward_numerically(shape, seed):
    rng = np.random.default_rng(seed)
    x = distinct_values(rng, shape) + 0.25  # no value within 0.25 of the kink
    grad = rng.normal(size=shape)
    check_against_numerical(
        lambda v: np.sum(np.maximum(v, 0) * grad), relu_backward(x, grad), x
    )


pool_cases = st.fixed_dictionaries({
    "rows": st.integers(1, 6), "cols": st.integers(1, 6), "channels": st.integers(0, 3),
    "pool_size": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "strides": st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "padding": st.sampled_from(["valid", "same"]), "mode": st.sampled_from(POOL_MODES),
    "seed": st.integers(0, 999),
})


@settings(max_examples=40, deadline=None)
@given(case=pool_cases)
def test_pool2d_backward_numerically(case):
    rows, cols, channels = case["rows"], case["cols"], case["channels"]
    options = {key: case[key] for key in ("pool_size", "strides", "padding", "mode")}
    pool = case["pool_size"]
    assume(case["padding"] == "same" or (pool[0] <= rows and pool[1] <= cols))
    rng = np.random.default_rng(case["seed"])
    x = distinct_values(rng, (rows, cols, channels) if channels else (rows, cols))
    grad = rng.normal(size=pool2d(x, **options).shape)
    grad_x = pool2d_backward(x, grad, **options)
    assert grad_x.shape == x.shape
    check_against_numerical(lambda v: np.sum(pool2d(v, **options) * grad), grad_x, x)


conv_cases = st.fixed_dictionaries({
    "rows": st.integers(1, 6), "cols": st.integers(1, 6), "channels": st.integers(1, 3),
    "filters": st.integers(1, 3), "kernel_ndim": st.sampled_from([2, 3, 4]),
    "kernel_size": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "strides": st.sampled_from(STRIDES) | st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "padding": st.sampled_from(["valid", "same", 0, 1, 2, (0, 1), (2, 1)]),
    "seed": st.integers(0, 999),
})


def make_conv_case(case):
    """x, kernel and an upstream gradient for a hypothesis-drawn case (or assume it away)."""
    rows, cols, kh, kw = case["rows"], case["cols"], *case["kernel_size"]
    try:
        output_size((rows, cols), (kh, kw), case["strides"], case["padding"])
    except ValueError:
        assume(False)  # the kernel does not fit: conv2d refuses it too
    rng = np.random.default_rng(case["seed"])
    channels = 1 if case["kernel_ndim"] == 2 else case["channels"]
    x = rng.normal(size=(rows, cols) if channels == 1 and case["seed"] % 2 else
                   (rows, cols, channels))
    kernel_shape = {2: (kh, kw), 3: (kh, kw, channels), 4: (kh, kw, channels, case["filters"])}
    kernel = rng.normal(size=kernel_shape[case["kernel_ndim"]])
    options = {"strides": case["strides"], "padding": case["padding"]}
    grad = rng.normal(size=conv2d(x, kernel, **options).shape)
    return x, kernel, grad, options


@settings(max_examples=40, deadline=None)
@given(case=conv_cases)
def test_conv2d_backward_numerically(case):
    x, kernel, grad, options = make_conv_case(case)
    grad_x, grad_kernel = conv2d_backward(x, kernel, grad, **options)
    assert grad_x.shape == x.shape and grad_kernel.shape == kernel.shape
    check_against_numerical(lambda v: np.sum(conv2d(v, kernel, **options) * grad), grad_x, x)
    check_against_numerical(
        lambda w: np.sum(conv2d(x, w, **options) * grad), grad_kernel, kernel
    )


@settings(max_examples=30, deadline=None)
@given(case=conv_cases)
def test_conv2d_backward_loops_agrees(case):
    x, kernel, grad, options = make_conv_case(case)
    for fast, slow in zip(conv2d_backward(x, kernel, grad, **options),
                          conv2d_backward_loops(x, kernel, grad, **options), strict=True):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- #
# Against tf.GradientTape: 60 seeded random cases per layer
# --------------------------------------------------------------------------- #
def tape_gradients(tf, forward, inputs, grad):
    """Gradients of ``sum(forward(*inputs) * grad)`` with respect to each input (float64)."""
    tensors = [tf.constant(a, dtype=tf.float64) for a in inputs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = forward(*tensors)
    return out.numpy(), [g.numpy() for g in tape.gradient(out, tensors, output_gradients=grad)]


def tf_padding(padding):
    if isinstance(padding, str):
        return padding.upper()
    rows, cols = pair(padding)
    return [[0, 0], [rows, rows], [cols, cols], [0, 0]]


def test_conv2d_backward_matches_tensorflow(tf):
    rng = np.random.default_rng(15)
    uneven_same = 0
    for case in range(TF_CASES):
        strides = STRIDES[case % len(STRIDES)]
        padding = CONV_PADDINGS[(case // len(STRIDES)) % len(CONV_PADDINGS)]
        rows, cols = (int(v) for v in rng.integers(3, 10, size=2))
        channels, filters = (int(v) for v in rng.integers(1, 5, size=2))
        kh, kw = (int(rng.integers(1, min(size, 4) + 1)) for size in (rows, cols))  # fits
        x = rng.normal(size=(rows, cols, channels))
        kernel = rng.normal(size=(kh, kw, channels, filters))
        out_shape = output_size((rows, cols), (kh, kw), strides, padding)
        grad = rng.normal(size=(*out_shape, filters))
        if padding == "same":
            pads = pad_amounts((rows, cols), (kh, kw), strides, padding)
            uneven_same += any(before != after for before, after in pads)
        sr, sc = pair(strides)
        out, (tf_x, tf_kernel) = tape_gradients(
            tf, partial(tf.nn.conv2d, strides=[1, sr, sc, 1], padding=tf_padding(padding)),
            [x[None], kernel], grad[None])
        message = f"case {case}: x {x.shape}, kernel {kernel.shape}, {strides=}, {padding=}"
        np.testing.assert_allclose(out[0], conv2d(x, kernel, strides, padding), atol=1e-10,
                                   err_msg=message)
        grad_x, grad_kernel = conv2d_backward(x, kernel, grad, strides, padding)
        np.testing.assert_allclose(grad_x, tf_x[0], atol=1e-10, err_msg=message)
        np.testing.assert_allclose(grad_kernel, tf_kernel, atol=1e-10, err_msg=message)
    assert uneven_same >= 3  # "same" with more padding at the bottom/right was exercised


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool2d_backward_matches_tensorflow(tf, mode):
    """Half the max cases use small integers, so windows often hold tied maxima."""
    rng = np.random.default_rng(16)
    ops = {"max": tf.nn.max_pool2d, "average": tf.nn.avg_pool2d}
    ties = 0
    for case in range(TF_CASES):
        strides = STRIDES[case % len(STRIDES)]
        padding = ["valid", "same"][(case // len(STRIDES)) % 2]
        rows, cols = (int(v) for v in rng.integers(3, 9, size=2))
        pool = tuple(int(v) for v in rng.integers(1, 4, size=2))
        shape = (rows, cols, int(rng.integers(1, 4)))
        x = rng.integers(0, 3, size=shape).astype(float) if case % 2 else rng.normal(size=shape)
        out_shape = output_size((rows, cols), pool, strides, padding)
        grad = rng.normal(size=(*out_shape, shape[2]))
        out, (tf_x,) = tape_gradients(
            tf, partial(ops[mode], ksize=pool, strides=pair(strides), padding=padding.upper()),
            [x[None]], grad[None])
        message = f"case {case}: x {x.shape}, {pool=}, {strides=}, {padding=}"
        np.testing.assert_allclose(out[0], pool2d(x, pool, strides, padding, mode), atol=1e-12,
                                   err_msg=message)
        grad_x = pool2d_backward(x, grad, pool, strides, padding, mode)
        np.testing.assert_allclose(grad_x, tf_x[0], atol=1e-12, err_msg=message)
        if mode == "max":
            ties += count_tied_windows(x, pool, strides, padding)
    assert mode == "average" or ties >= 50


def count_tied_windows(x, pool, strides, padding):
    """How many (window, channel) pairs hold their maximum more than once."""
    pads = pad_amounts(x.shape, pool, strides, padding)
    padded = np.pad(x, (*pads, (0, 0)), constant_values=-np.inf)
    return sum(
        int(np.sum(padded[rows, cols, ch] == padded[rows, cols, ch].max()) > 1)
        for _, _, rows, cols in window_positions(x.shape, pool, strides, padding)
        for ch in range(x.shape[2])
    )


def test_dense_relu_and_loss_match_tensorflow(tf):
    rng = np.random.default_rng(17)
    for case in range(TF_CASES):
        n, d, units = (int(v) for v in rng.integers(1, 6, size=3))
        x, kernel, bias = rng.normal(size=(n, d)), rng.normal(size=(d, units)), rng.normal(
            size=units)
        grad = rng.normal(size=(n, units))
        _, (tf_x, tf_kernel, tf_bias) = tape_gradients(
            tf, lambda a, k, b: a @ k + b, [x, kernel, bias], grad)
        for ours, theirs in zip(dense_backward(x, kernel, grad), [tf_x, tf_kernel, tf_bias],
                                strict=True):
            np.testing.assert_allclose(ours, theirs, atol=1e-12, err_msg=f"dense case {case}")

        z = rng.integers(-2, 3, size=(n, units)).astype(float)  # many exact zeros
        _, (tf_z,) = tape_gradients(tf, tf.nn.relu, [z], grad)
        np.testing.assert_array_equal(relu_backward(z, grad), tf_z, err_msg=f"relu case {case}")

        scale = 1000.0 if case % 5 == 0 else 3.0
        logits, labels = rng.normal(size=(n, units)) * scale, rng.integers(0, units, size=n)
        with tf.GradientTape() as tape:
            tensor = tf.constant(logits)
            tape.watch(tensor)
            tf_loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tensor))
        loss, grad_logits = softmax_cross_entropy(logits, labels)
        assert loss == pytest.approx(float(tf_loss), rel=1e-12, abs=1e-12), case
        np.testing.assert_allclose(grad_logits, tape.gradient(tf_loss, tensor).numpy(),
                                   atol=1e-12, err_msg=f"loss case {case}")


def test_relu_gradient_at_zero_is_zero_like_tensorflow(tf):
    _, (tf_grad,) = tape_gradients(tf, tf.nn.relu, [np.array([-1.0, 0.0, 1.0])], np.ones(3))
    np.testing.assert_array_equal(tf_grad, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(relu_backward([-1.0, 0.0, 1.0], np.ones(3)), tf_grad)


def test_max_pool_tie_rule_matches_tensorflow(tf):
    x = np.array([[1.0, 5.0, 5.0, 0.0], [5.0, 2.0, 3.0, 3.0], [0, 0, 7, 7], [0, 0, 7, 7]])
    _, (tf_grad,) = tape_gradients(
        tf, lambda a: tf.nn.max_pool2d(a, 2, 2, "VALID"), [x[None, :, :, None]],
        np.ones((1, 2, 2, 1)))
    expected = [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]  # first in row-major
    np.testing.assert_array_equal(tf_grad[0, :, :, 0], expected)
    np.testing.assert_array_equal(pool2d_backward(x, np.ones((2, 2))), expected)


# --------------------------------------------------------------------------- #
# SGD against keras.optimizers.SGD
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("momentum", [0.0, 0.875, 0.9])
@pytest.mark.parametrize("steps", [1, 5])
def test_sgd_momentum_step_matches_keras(tf, momentum, steps):
    import keras

    rng = np.random.default_rng(steps)
    weights = rng.normal(size=(3, 4))
    variable = keras.Variable(weights, dtype="float64")
    # Keras turns the learning rate and the momentum into float32 tensors before casting
    # them to the variable's dtype: 0.125 and 0.875 are exact in float32, 0.9 is not.
    optimizer = keras.optimizers.SGD(learning_rate=0.125, momentum=momentum)
    velocity = None
    for _ in range(steps):
        grad = rng.normal(size=weights.shape)
        optimizer.apply([grad], [variable])
        weights, velocity = sgd_momentum_step(weights, grad, velocity, 0.125, momentum)
    rtol = 1e-12 if float(np.float32(momentum)) == momentum else 1e-6
    np.testing.assert_allclose(weights, variable.numpy(), rtol=rtol, atol=1e-14)
    if momentum:
        np.testing.assert_allclose(velocity, optimizer.momentums[0].numpy(), rtol=rtol)


def _numpy_cnn_step(params, images, labels, learning_rate):
    """One SGD step of conv(3x3, same) -> ReLU -> max-pool 2 -> flatten -> dense -> softmax."""
    from cifar_helpers.activations import relu
    from cifar_helpers.backprop import (
        conv2d_backward,
        dense_backward,
        pool2d_backward,
        relu_backward,
    )

    kernel, bias, dense_kernel, dense_bias = params
    grads = [np.zeros_like(p) for p in params]
    features, caches = [], []
    for image in images:
        z = conv2d(image, kernel, padding="same") + bias
        a = relu(z)
        pooled = pool2d(a, 2)
        caches.append((image, z, a))
        features.append(pooled.reshape(-1))
    features = np.array(features)
    logits = features @ dense_kernel + dense_bias
    loss, grad_logits = softmax_cross_entropy(logits, labels)
    grad_features, grads[2], grads[3] = dense_backward(features, dense_kernel, grad_logits)
    for (image, z, a), grad_flat in zip(caches, grad_features, strict=True):
        grad_pooled = grad_flat.reshape(pool2d(a, 2).shape)
        grad_z = relu_backward(z, pool2d_backward(a, grad_pooled, 2))
        _, grad_kernel = conv2d_backward(image, kernel, grad_z, padding="same")
        grads[0] += grad_kernel
        grads[1] += grad_z.sum(axis=(0, 1))
    new = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
    return new, loss


def test_numpy_training_loop_matches_keras_step_by_step(tf):
    # The whole loop of notebook 08, section 6, on random images: same start, same batches.
    import keras

    rng = np.random.default_rng(0)
    images = rng.random((12, 8, 8, 3))
    labels = rng.integers(0, 5, 12)
    model = keras.Sequential([
        keras.Input((8, 8, 3), dtype="float64"),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", dtype="float64"),
        keras.layers.MaxPooling2D(2, dtype="float64"),
        keras.layers.Flatten(dtype="float64"),
        keras.layers.Dense(5, activation="softmax", dtype="float64"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                  loss=keras.losses.SparseCategoricalCrossentropy())
    params = [w.astype(np.float64) for w in model.get_weights()]
    start = [p.copy() for p in params]
    for step in range(6):
        batch = slice(4 * (step % 3), 4 * (step % 3) + 4)
        params, numpy_loss = _numpy_cnn_step(params, images[batch], labels[batch], 0.5)
        keras_loss = float(model.train_on_batch(images[batch], labels[batch]))
        assert numpy_loss == pytest.approx(keras_loss, rel=1e-4)
    for ours, theirs in zip(params, model.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(params[0], start[0])  # the kernel did move


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
X, KERNEL, GRAD = np.ones((4, 4, 2)), np.ones((3, 3, 2, 5)), np.ones((2, 2, 5))
ERRORS = [
    (lambda: softmax_cross_entropy(np.zeros(3), [0]), r"`logits` must have shape \(N, K\)"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), [0.0, 1.0]), "integer class indices"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), [0, 1, 2]), r"shape \(2,\)"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), [0, 3]), r"in \[0, 2\]"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), [[0], [1]]), r"labels\.ravel\(\)"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.full((2, 3), 0.5)), "summing to 1"),
    (lambda: softmax_cross_entropy([[np.inf, 0.0]], [0]), "finite numbers"),
    (lambda: dense_backward(np.ones((2, 3)), np.ones((4, 5)), np.ones((2, 5))),
     "`x` has 3 inputs but `kernel` expects 4"),
    (lambda: dense_backward(np.ones((2, 3)), np.ones(3), np.ones(2)),
     r"`kernel` must have shape \(D, units\)"),
    (lambda: dense_backward(np.ones((2, 3)), np.ones((3, 5)), np.ones((2, 4))),
     r"dense layer's output, \(2, 5\)\. Received grad_output.shape=\(2, 4\)"),
    (lambda: relu_backward(np.ones(3), np.ones(4)), r"ReLU's output, \(3,\)"),
    (lambda: relu_backward(np.array(["a"]), np.ones(1)), "real numbers"),
    (lambda: pool2d_backward(np.ones(4), np.ones(2)), r"\(H, W\) or \(H, W, C\)"),
    (lambda: pool2d_backward(X, np.ones((2, 2, 2)), pool_size=0), "`pool_size` must be a pos"),
    (lambda: pool2d_backward(X, np.ones((2, 2, 2)), strides=0), "`strides` must be a positive"),
    (lambda: pool2d_backward(X, np.ones((2, 2, 2)), padding="full"),
     "`padding` must be one of 'valid', 'same'. Received padding='full'"),
    (lambda: pool2d_backward(X, np.ones((2, 2, 2)), mode="median"),
     "`mode` must be one of 'max', 'average', 'sum'. Received mode='median'"),
    (lambda: pool2d_backward(X, np.ones((1, 1, 2)), pool_size=5), "must fit inside"),
    (lambda: pool2d_backward(X, np.ones((2, 2))),
     r"pooling output, \(2, 2, 2\)\. Received grad_output.shape=\(2, 2\)"),
    (lambda: conv2d_backward(np.ones(4), KERNEL, GRAD), r"`x` must have shape \(H, W\)"),
    (lambda: conv2d_backward(X, np.ones(3), GRAD), r"`kernel` must have shape \(kh, kw\)"),
    (lambda: conv2d_backward(X, np.ones((3, 3)), np.ones((2, 2))), "Channel mismatch"),
    (lambda: conv2d_backward(X, np.ones((3, 3, 3, 5)), GRAD), r"kernel.shape\[2\] == 2"),
    (lambda: conv2d_backward(X, KERNEL, GRAD, strides=0), "`strides` must be a positive"),
    (lambda: conv2d_backward(X, KERNEL, GRAD, strides=(1, 2, 3)), "`strides` must be"),
    (lambda: conv2d_backward(X, KERNEL, GRAD, padding="full"),
     "`padding` must be one of 'valid', 'same', a non-negative integer"),
    (lambda: conv2d_backward(X, KERNEL, GRAD, padding=-1), "`padding` must be one of"),
    (lambda: conv2d_backward(X, np.ones((5, 5, 2, 5)), GRAD), "kernel is larger than"),
    (lambda: conv2d_backward(X, KERNEL, np.ones((2, 2))),
     r"convolution's output, \(2, 2, 5\)\. Received grad_output.shape=\(2, 2\)"),
    (lambda: conv2d_backward(X, KERNEL, GRAD, padding="same"),
     r"convolution's output, \(4, 4, 5\)"),
    (lambda: conv2d_backward(X, KERNEL, np.full((2, 2, 5), np.nan)), "finite numbers"),
    (lambda: conv2d_backward_loops(X, KERNEL, GRAD, strides=0), "`strides` must be a positive"),
    (lambda: conv2d_backward_loops(X, KERNEL, np.ones((3, 3, 5))), "convolution's output"),
    (lambda: sgd_momentum_step(np.ones(3), np.ones(2), None, 0.1), r"`grad` must have the shape"),
    (lambda: sgd_momentum_step(np.ones(3), np.ones(3), np.ones(2), 0.1),
     r"`velocity` must have the shape of `weights`, \(3,\)"),
    (lambda: sgd_momentum_step(np.ones(3), np.ones(3), None, -0.1),
     r"`learning_rate` must be a number >= 0\. Received learning_rate=-0\.1"),
    (lambda: sgd_momentum_step(np.ones(3), np.ones(3), None, "fast"), "`learning_rate` must"),
    (lambda: sgd_momentum_step(np.ones(3), np.ones(3), None, 0.1, momentum=1.5),
     r"`momentum` must be a number in \[0, 1\]\. Received momentum=1\.5"),
    (lambda: numerical_gradient("loss", np.ones(2)), "`f` must be a function"),
    (lambda: numerical_gradient(lambda v: v, np.ones(2)), "`f` must return one real number"),
    (lambda: numerical_gradient(np.sum, np.ones(2), eps=0.0), "`eps` must be a positive"),
    (lambda: numerical_gradient(np.sum, np.ones(2), eps=True), "`eps` must be a positive"),
    (lambda: numerical_gradient(np.sum, []), "`x` must not be empty"),
]


@pytest.mark.parametrize("call, match", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_errors_say_what_was_expected_and_received(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- #
# Import hygiene and the benchmark
# --------------------------------------------------------------------------- #
def test_import_loads_no_tensorflow_or_keras():
    code = (
        "import sys, cifar_helpers.backprop\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_benchmark_prints_its_lines(tf, capsys):
    spec = importlib.util.spec_from_file_location("backprop_speed", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--size", "6", "--repeats", "1"])
    out = capsys.readouterr().out
    for expected in ("cpu: ", "avx512f: ", "avx2: ", f"NumPy {np.__version__}",
                     f"TensorFlow {tf.__version__}", "6x6x32 input", "conv2d_backward ",
                     "conv2d_backward_loops ", "tf.GradientTape ", " ms", "speed-up"):
        assert expected in out, expected
