"""Backpropagation for the course's NumPy layers: the gradients Keras computes, by hand.

Training runs the layers forward, measures the loss, then sends the loss's
gradient back through the layers in reverse order (the chain rule). Each layer
turns ``grad_output`` (the gradient of the loss with respect to its output)
into ``grad_x`` (with respect to its input) and the gradients of its weights.
This module gives that backward step for each layer of the NumPy forward pass
(`cifar_helpers.layers_numpy`):

- `softmax_cross_entropy`: the loss, and its gradient with respect to the logits;
- `dense_backward`, `relu_backward`, `pool2d_backward`, `conv2d_backward`
  (and `conv2d_backward_loops`, the teaching version);
- `sgd_momentum_step`: one update of Keras' ``SGD`` optimizer;
- `numerical_gradient`: central differences, to check all of the above.

Shapes follow `~cifar_helpers.convolution.conv2d` and
`~cifar_helpers.pooling.pool2d`: one image, channels last, ``(H, W)`` or
``(H, W, C)``. The window geometry (output sizes, Keras' ``"same"`` padding)
comes from `cifar_helpers.windows`. Gradients are float64. The tests check
every gradient against ``numerical_gradient`` and ``tf.GradientTape``.

This module imports NumPy only.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validation import as_real_array, check_choice, check_output_size, int_pair
from .pooling import MODES as POOL_MODES
from .windows import PADDING_MODES, output_size, pad_amounts, window_positions

__all__ = [
    "conv2d_backward",
    "conv2d_backward_loops",
    "dense_backward",
    "numerical_gradient",
    "pool2d_backward",
    "relu_backward",
    "sgd_momentum_step",
    "softmax_cross_entropy",
]


# --------------------------------------------------------------------------- #
# Checks shared by the functions below
# --------------------------------------------------------------------------- #
def _array(value, name, ndims=None, shape_text=None):
    """`value` as a float64 array of finite real numbers (see `as_real_array`)."""
    return as_real_array(value, name, ndims, shape_text).astype(np.float64, copy=False)


def _grad_output(grad_output, expected, layer):
    """`grad_output` as float64, after checking it has the forward output's shape."""
    grad_output = _array(grad_output, "grad_output")
    if grad_output.shape != tuple(expected):
        raise ValueError(
            f"`grad_output` must have the shape of the {layer} output, {tuple(expected)}. "
            f"Received grad_output.shape={grad_output.shape}."
        )
    return grad_output


def _number(value, name, expected, valid):
    """`value` as a float, if it is a finite real number for which `valid` holds."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or not valid(float(value))
    ):
        raise ValueError(f"`{name}` must be {expected}. Received {name}={value!r}.")
    return float(value)


def _taps(kernel_size):
    """The kernel's (row, col) taps, in row-major order."""
    return [(i, j) for i in range(kernel_size[0]) for j in range(kernel_size[1])]


def _tap(array, i, j, strides, out_shape):
    """View of ``array[r*sr + i, c*sc + j]`` for every window ``(r, c)``: (H', W', ...)."""
    (sr, sc), (out_rows, out_cols) = strides, out_shape
    return array[i : i + sr * (out_rows - 1) + 1 : sr, j : j + sc * (out_cols - 1) + 1 : sc]


# --------------------------------------------------------------------------- #
# Loss, dense, ReLU
# --------------------------------------------------------------------------- #
def _one_hot(labels, n, k):
    labels = as_real_array(labels, "labels", (1, 2), "(N,) or (N, K)")
    if labels.ndim == 1:
        if labels.dtype.kind not in "iu":
            raise ValueError(
                "`labels` of shape (N,) must hold integer class indices. "
                f"Received an array of dtype {labels.dtype}."
            )
        if labels.shape != (n,):
            raise ValueError(
                f"`labels` must hold one class index per row of `logits`: shape ({n},). "
                f"Received labels.shape={labels.shape}."
            )
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(
                f"`labels` must be class indices in [0, {k - 1}] ({k} classes). "
                f"Received values from {labels.min()} to {labels.max()}."
            )
        one_hot = np.zeros((n, k))
        one_hot[np.arange(n), labels] = 1.0
        return one_hot
    if labels.shape != (n, k):
        column = labels.shape == (n, 1)
        hint = " Use labels.ravel() for a column of class indices." if column else ""
        raise ValueError(
            f"`labels` must be class indices (N,) = ({n},) or one-hot rows (N, K) = ({n}, {k}). "
            f"Received labels.shape={labels.shape}.{hint}"
        )
    one_hot = labels.astype(np.float64)
    if one_hot.min() < 0 or not np.allclose(one_hot.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            "`labels` of shape (N, K) must be one-hot (or probability) rows: non-negative, "
            f"each summing to 1. Received row sums from {one_hot.sum(axis=1).min():g} to "
            f"{one_hot.sum(axis=1).max():g} and a smallest value of {one_hot.min():g}."
        )
    return one_hot


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(`logits`) against `labels`, and its gradient.

    What ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``
    computes (``CategoricalCrossentropy`` for one-hot labels), with the
    gradient a ``tf.GradientTape`` would give.

    Parameters
    ----------
    logits : (N, K) array_like
        Raw scores of `N` examples for `K` classes (before softmax).
    labels : (N,) int array_like or (N, K) array_like
        Class indices in ``[0, K)``, or one-hot rows (probability rows work too).

    Returns
    -------
    loss : float
        ``mean_n(-log softmax(logits[n])[labels[n]])``.
    grad_logits : (N, K) ndarray
        ``(softmax(logits) - one_hot(labels)) / N``.

    Raises
    ------
    ValueError
        Wrong shapes or dtypes, labels out of range, rows that are not one-hot,
        NaN or infinite logits.

    Notes
    -----
    Stable for any finite logits (±1000 included): with ``m = max_k z_k``,
    ``log softmax(z)_k = (z_k - m) - log(sum_j exp(z_j - m))``, and no
    ``exp`` ever sees a positive number. Because ``softmax`` and the log
    cancel, the gradient is simply "predicted minus true" probabilities; the
    ``1 / N`` comes from the batch mean.

    Examples
    --------
    Zero logits give every class probability ``1 / K``, so the loss is ``ln K``:

    >>> loss, grad = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 6), round(float(np.log(4)), 6)
    (1.386294, 1.386294)
    >>> grad   # (0.25 - one_hot) / 2
    array([[-0.375,  0.125,  0.125,  0.125],
           [ 0.125,  0.125,  0.125, -0.375]])
    >>> softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))[0]
    2000.0
    """
    logits = _array(logits, "logits", (2,), "(N, K)")
    n, k = logits.shape
    one_hot = _one_hot(labels, n, k)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-(one_hot * log_probs).sum() / n)
    return loss, (np.exp(log_probs) - one_hot) / n


def dense_backward(x, kernel, grad_output):
    """Gradients of a dense layer ``x @ kernel + bias``.

    Parameters
    ----------
    x : (N, D) or (D,) array_like
        The layer's input (a batch, or one vector).
    kernel : (D, units) array_like
        Keras' ``Dense`` kernel.
    grad_output : (N, units) or (units,) array_like
        Gradient of the loss with respect to the layer's output.

    Returns
    -------
    grad_x : ndarray, shaped like `x`
        ``grad_output @ kernel.T``.
    grad_kernel : (D, units) ndarray
        ``x.T @ grad_output``: summed over the batch.
    grad_bias : (units,) ndarray
        ``grad_output`` summed over the batch.

    Raises
    ------
    ValueError
        Wrong ndim, shapes that do not fit, non-numeric or non-finite values.

    Examples
    --------
    >>> grad_x, grad_kernel, grad_bias = dense_backward(
    ...     np.array([[1.0, 2.0]]), np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0]]),
    ...     np.array([[1.0, 0.0, 2.0]]))
    >>> grad_x
    array([[-1.,  4.]])
    >>> grad_kernel
    array([[1., 0., 2.],
           [2., 0., 4.]])
    >>> grad_bias
    array([1., 0., 2.])
    """
    x = _array(x, "x", (1, 2), "(N, D) or (D,)")
    kernel = _array(kernel, "kernel", (2,), "(D, units)")
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"`x` has {x.shape[-1]} inputs but `kernel` expects {kernel.shape[0]} "
            f"(kernel.shape[0]). Received x.shape={x.shape}, kernel.shape={kernel.shape}."
        )
    units = kernel.shape[1]
    grad_output = _grad_output(grad_output, x.shape[:-1] + (units,), "dense layer's")
    grad_2d = grad_output.reshape(-1, units)
    grad_x = (grad_2d @ kernel.T).reshape(x.shape)
    return grad_x, x.reshape(-1, kernel.shape[0]).T @ grad_2d, grad_2d.sum(axis=0)


def relu_backward(x, grad_output):
    """Gradient of ``relu(x) = max(x, 0)``: `grad_output` where ``x > 0``, else 0.

    Parameters
    ----------
    x : array_like
        The ReLU's *input* (any shape).
    grad_output : array_like, shaped like `x`

    Returns
    -------
    ndarray, shaped like `x`

    Raises
    ------
    ValueError
        Shape mismatch, non-numeric or non-finite values.

    Notes
    -----
    ReLU has no derivative at 0; we use 0 there, as TensorFlow does
    (``tf.GradientTape`` gives ``[0., 0., 1.]`` for ``tf.nn.relu`` at
    ``[-1., 0., 1.]``; the tests check it).

    Examples
    --------
    >>> relu_backward([-1.0, 0.0, 2.0], [5.0, 5.0, 5.0])
    array([0., 0., 5.])
    """
    x = _array(x, "x")
    grad_output = _grad_output(grad_output, x.shape, "ReLU's")
    return np.where(x > 0, grad_output, 0.0)


# --------------------------------------------------------------------------- #
# Pooling
# --------------------------------------------------------------------------- #
def pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid", mode="max"):
    """Gradient of `~cifar_helpers.pooling.pool2d` with respect to its input.

    Parameters
    ----------
    x : (H, W) or (H, W, C) array_like
        The pooling layer's input.
    grad_output : (H', W') or (H', W', C) array_like
        Gradient of the loss with respect to ``pool2d(x, ...)``.
    pool_size, strides, padding, mode
        As in `~cifar_helpers.pooling.pool2d` (`strides` defaults to
        `pool_size`; `padding` is ``"valid"`` or ``"same"``; `mode` is
        ``"max"``, ``"average"`` or ``"sum"``).

    Returns
    -------
    ndarray, shaped like `x`

    Raises
    ------
    ValueError
        Bad `x`, `pool_size`, `strides`, `padding` or `mode` (as `pool2d`), or
        a `grad_output` whose shape is not the pooling output's.

    Notes
    -----
    Each output cell sends its gradient back to the cells of its window:

    - ``"max"``: all of it to the cell that held the maximum. When several
      cells tie, the *first in row-major order within the window* gets it all
      (as TensorFlow's ``MaxPoolGrad``; the tests check ties against
      ``tf.GradientTape``). With ``"same"`` padding, padded cells never hold
      the maximum.
    - ``"average"``: an equal share to every real cell of the window, divided
      by the number of *real* cells (padded ones do not count, as in Keras).
    - ``"sum"``: the whole gradient to every cell of the window.

    When windows overlap (``strides < pool_size``) a cell collects the shares
    of every window it belongs to. The computation loops over the
    ``kh * kw`` window positions, never over the output cells.

    Examples
    --------
    The `pool2d` example: the top-right window ``[[2, 0], [1, 2]]`` has a tie,
    and its gradient (2) goes to the first 2, in row 0.

    >>> feature_map = np.array([[1, 3, 2, 0],
    ...                         [5, 6, 1, 2],
    ...                         [0, 2, 9, 4],
    ...                         [1, 1, 3, 8]])
    >>> pool2d_backward(feature_map, np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[0., 0., 2., 0.],
           [0., 1., 0., 0.],
           [0., 3., 4., 0.],
           [0., 0., 0., 0.]])
    >>> pool2d_backward(np.zeros((2, 3)), np.array([[6.0, 4.0]]), padding="same",
    ...                 mode="average")   # the right window has 2 real cells
    array([[1.5, 1.5, 2. ],
           [1.5, 1.5, 2. ]])
    """
    x = _array(x, "x", (2, 3), "(H, W) or (H, W, C)")
    pool = int_pair(pool_size, "pool_size")
    steps = pool if strides is None else int_pair(strides, "strides")
    check_choice(padding, "padding", PADDING_MODES)
    check_choice(mode, "mode", POOL_MODES)
    rows, cols = x.shape[:2]
    if padding == "valid" and (pool[0] > rows or pool[1] > cols):
        raise ValueError(
            f"`pool_size` {pool} must fit inside the feature map ({rows}, {cols}) with "
            "padding='valid'. Use a smaller pool_size or padding='same'."
        )
    out_shape = output_size((rows, cols), pool, steps, padding)
    x3 = x.reshape(rows, cols, -1)
    (top, bottom), (left, right) = pad_amounts((rows, cols), pool, steps, padding)
    pads = ((top, bottom), (left, right), (0, 0))
    padded_shape = (rows + top + bottom, cols + left + right, x3.shape[2])
    check_output_size(padded_shape, 8, "pool2d_backward's padded gradient")
    grad = _grad_output(grad_output, out_shape + x.shape[2:], "pooling")
    grad = grad.reshape(*out_shape, -1)  # (H', W', C)
    grad_padded = np.zeros(padded_shape)

    def tap(array, i, j):
        return _tap(array, i, j, steps, out_shape)

    if mode == "max":
        padded = np.pad(x3, pads, constant_values=-np.inf)  # padding never wins
        best = tap(padded, 0, 0).copy()
        for i, j in _taps(pool):
            np.maximum(best, tap(padded, i, j), out=best)
        unclaimed = np.ones(best.shape, dtype=bool)
        for i, j in _taps(pool):  # row-major: the first maximum in a window claims it
            winner = unclaimed & (tap(padded, i, j) == best)
            tap(grad_padded, i, j)[...] += np.where(winner, grad, 0.0)
            unclaimed &= ~winner
    else:
        share = grad
        if mode == "average":
            real = np.pad(np.ones((rows, cols, 1)), pads)  # 1 on real cells, 0 on padding
            share = grad / sum(tap(real, i, j) for i, j in _taps(pool))
        for i, j in _taps(pool):
            tap(grad_padded, i, j)[...] += share
    return grad_padded[top : top + rows, left : left + cols].reshape(x.shape)


# --------------------------------------------------------------------------- #
# Convolution
# --------------------------------------------------------------------------- #
def _prepare_conv(x, kernel, grad_output, strides, padding):
    """Validate; return x, kernel, padded x3, kernel4, grad (H', W', F), steps, pads."""
    x = _array(x, "x", (2, 3), "(H, W) or (H, W, C)")
    kernel = _array(kernel, "kernel", (2, 3, 4), "(kh, kw), (kh, kw, C) or (kh, kw, C, F)")
    x3 = x.reshape(*x.shape[:2], -1)
    kernel4 = kernel.reshape(*kernel.shape[:2], 1 if kernel.ndim == 2 else kernel.shape[2], -1)
    if kernel4.shape[2] != x3.shape[2]:
        raise ValueError(
            f"Channel mismatch: `x` has {x3.shape[2]} channel(s) but `kernel` has "
            f"{kernel4.shape[2]} (a 2-D kernel has one). Expected kernel.shape[2] == "
            f"{x3.shape[2]}. Received x.shape={x.shape} and kernel.shape={kernel.shape}."
        )
    steps = int_pair(strides, "strides")
    out_shape = output_size(x3.shape[:2], kernel4.shape[:2], steps, padding)
    pads = pad_amounts(x3.shape, kernel4.shape[:2], steps, padding)
    (top, bottom), (left, right) = pads
    shape = (x3.shape[0] + top + bottom, x3.shape[1] + left + right, x3.shape[2])
    check_output_size(shape, 8, "conv2d_backward's padded input")
    expected = out_shape + ((kernel4.shape[3],) if kernel.ndim == 4 else ())
    grad = _grad_output(grad_output, expected, "convolution's").reshape(*out_shape, -1)
    padded = np.pad(x3, pads + ((0, 0),))
    return x, kernel, padded, kernel4, grad, steps, pads


def _crop(grad_padded, pads, x_shape):
    (top, _), (left, _) = pads
    return grad_padded[top : top + x_shape[0], left : left + x_shape[1]].reshape(x_shape)


def conv2d_backward(x, kernel, grad_output, strides=1, padding="valid"):
    """Gradients of `~cifar_helpers.convolution.conv2d` for its input and its kernel.

    Vectorised like `conv2d`: one pass per kernel tap (9 for a 3x3 kernel),
    each covering every window at once; no Python loop over output cells.

    Parameters
    ----------
    x : (H, W) or (H, W, C) array_like
        The convolution's input.
    kernel : (kh, kw), (kh, kw, C) or (kh, kw, C, F) array_like
        As in `conv2d`.
    grad_output : (H', W') or (H', W', F) array_like
        Gradient of the loss with respect to ``conv2d(x, kernel, strides, padding)``
        (``(H', W', F)`` for a 4-D kernel).
    strides, padding
        As in `conv2d`: an int or pair; ``"valid"``, ``"same"``, an int or a pair.

    Returns
    -------
    grad_x : ndarray, shaped like `x`
    grad_kernel : ndarray, shaped like `kernel`

    Raises
    ------
    ValueError
        Everything `conv2d` refuses, and a `grad_output` whose shape is not
        the convolution output's.

    See Also
    --------
    conv2d_backward_loops : the same gradients, one window at a time.

    Notes
    -----
    With ``P`` the zero-padded input, ``K`` the kernel and ``G`` the upstream
    gradient, the forward pass is
    ``out[r, c, f] = sum_{i, j, ch} P[r*sr + i, c*sc + j, ch] * K[i, j, ch, f]``.
    Each product is differentiated once for each factor:

    - **kernel gradient** = cross-correlation of the padded input with the
      upstream gradient: ``dK[i, j, ch, f] = sum_{r, c} P[r*sr + i, c*sc + j, ch] * G[r, c, f]``
      (with strides, ``G`` is *dilated*: ``s - 1`` zeros between its cells);
    - **input gradient** = *full* convolution of the (dilated, for strides)
      upstream gradient with the kernel, i.e. cross-correlation with the
      **flipped** kernel: ``dP[a, b, ch] = sum_{i, j, f} G_dil[a - i, b - j, f] * K[i, j, ch, f]``;
      then the padding is cut off (``dx`` = the middle of ``dP``).

    The flip is where deep learning's cross-correlation meets the textbook
    convolution: going forward uses the kernel as it is, going back uses it
    rotated by 180 degrees (`~cifar_helpers.convolution.convolve2d`).

    Examples
    --------
    A one-row image and a 1x2 kernel: ``conv2d([[1, 2, 3, 4]], [[1, 10]])`` is
    ``[[21, 32, 43]]``. With upstream gradient ``[[1, 0, 2]]``:

    >>> grad_x, grad_kernel = conv2d_backward([[1.0, 2, 3, 4]], [[1.0, 10]], [[1.0, 0, 2]])
    >>> grad_kernel   # [1*1 + 3*2, 2*1 + 4*2]: input correlated with the gradient
    array([[ 7., 10.]])
    >>> grad_x        # [1, 0, 2] fully convolved with [1, 10]
    array([[ 1., 10.,  2., 20.]])

    Both rules, checked with the forward functions:

    >>> from cifar_helpers.convolution import conv2d, convolve2d
    >>> rng = np.random.default_rng(0)
    >>> x, kernel, grad = rng.normal(size=(5, 5)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    >>> grad_x, grad_kernel = conv2d_backward(x, kernel, grad)
    >>> np.allclose(grad_kernel, conv2d(x, grad))                  # x correlated with G
    True
    >>> np.allclose(grad_x, convolve2d(grad, kernel, padding=2))   # full convolution
    True
    """
    x, kernel, padded, kernel4, grad, steps, pads = _prepare_conv(
        x, kernel, grad_output, strides, padding
    )
    out_shape = grad.shape[:2]
    grad_padded = np.zeros_like(padded)
    grad_kernel = np.zeros_like(kernel4)
    for i, j in _taps(kernel4.shape[:2]):  # one pass per kernel tap ...
        # ... covering every window: shifted[r, c] = padded[r*sr + i, c*sc + j]
        shifted = _tap(padded, i, j, steps, out_shape)  # (H', W', C)
        # dK[i, j] = sum over (r, c) of outer(shifted[r, c], grad[r, c]): (C, F). Taken as
        # one (C, W') @ (W', F) product per output row, then summed over the rows: small
        # products that BLAS runs on one thread (waking threads costs more, on one image).
        grad_kernel[i, j] = np.matmul(shifted.transpose(0, 2, 1), grad).sum(axis=0)
        _tap(grad_padded, i, j, steps, out_shape)[...] += grad @ kernel4[i, j].T  # (H', W', C)
    return _crop(grad_padded, pads, x.shape), grad_kernel.reshape(kernel.shape)


def conv2d_backward_loops(x, kernel, grad_output, strides=1, padding="valid"):
    """`conv2d_backward` with explicit loops: one window, one filter at a time.

    The chain rule read straight off `~cifar_helpers.convolution.conv2d_loops`:
    output value ``out[r, c, f]`` is ``sum(window * kernel[..., f])``, so

    - its derivative with respect to the kernel is the *window*, and
    - its derivative with respect to the window is the *kernel*;

    each is scaled by how much the loss cares about that output,
    ``grad_output[r, c, f]``, and added up over all windows. Slow (a Python
    step per output value): for reading; use `conv2d_backward` for real work.

    Parameters
    ----------
    x, kernel, grad_output, strides, padding
        As in `conv2d_backward`.

    Returns
    -------
    grad_x, grad_kernel : ndarray
        The same values as `conv2d_backward` (to rounding).

    Raises
    ------
    ValueError
        As `conv2d_backward`.

    Examples
    --------
    >>> grad_x, grad_kernel = conv2d_backward_loops([[1.0, 2, 3, 4]], [[1.0, 10]], [[1.0, 0, 2]])
    >>> grad_x, grad_kernel
    (array([[ 1., 10.,  2., 20.]]), array([[ 7., 10.]]))
    """
    x, kernel, padded, kernel4, grad, steps, pads = _prepare_conv(
        x, kernel, grad_output, strides, padding
    )
    grad_padded = np.zeros_like(padded)
    grad_kernel = np.zeros_like(kernel4)
    positions = window_positions(x.shape, kernel4.shape[:2], steps, padding)
    for out_row, out_col, rows, cols in positions:
        window = padded[rows, cols]  # (kh, kw, C): the pixels under the kernel
        for f in range(kernel4.shape[3]):
            upstream = grad[out_row, out_col, f]
            grad_kernel[:, :, :, f] += upstream * window  # d out / d kernel = the window
            grad_padded[rows, cols] += upstream * kernel4[:, :, :, f]  # d out / d window
    return _crop(grad_padded, pads, x.shape), grad_kernel.reshape(kernel.shape)


# --------------------------------------------------------------------------- #
# Optimizer step and gradient checking
# --------------------------------------------------------------------------- #
def sgd_momentum_step(weights, grad, velocity, learning_rate, momentum=0.0):
    """One step of Keras' ``SGD`` optimizer (with momentum, not Nesterov).

    Parameters
    ----------
    weights : array_like
        Current weights (any shape).
    grad : array_like, shaped like `weights`
        Gradient of the loss with respect to `weights`.
    velocity : array_like shaped like `weights`, or None
        The previous step's velocity (None or zeros at the first step).
    learning_rate : float
        Non-negative.
    momentum : float, default 0.0
        In ``[0, 1]``, as Keras requires.

    Returns
    -------
    new_weights, new_velocity : ndarray
        Feed `new_velocity` to the next step.

    Raises
    ------
    ValueError
        Shape mismatch, non-finite values, `learning_rate` < 0 or `momentum`
        outside ``[0, 1]``.

    Notes
    -----
    Exactly ``keras.optimizers.SGD(learning_rate, momentum)``::

        velocity = momentum * velocity - learning_rate * grad
        weights = weights + velocity

    With ``momentum=0`` this is plain gradient descent,
    ``weights - learning_rate * grad``.

    Examples
    --------
    >>> weights, velocity = sgd_momentum_step([1.0, 2.0], [1.0, -1.0], None, 0.1, momentum=0.9)
    >>> weights, velocity
    (array([0.9, 2.1]), array([-0.1,  0.1]))
    >>> sgd_momentum_step(weights, [1.0, -1.0], velocity, 0.1, momentum=0.9)[1]   # 0.9*v - 0.1*g
    array([-0.19,  0.19])
    """
    weights = _array(weights, "weights")
    grad = _array(grad, "grad")
    if grad.shape != weights.shape:
        raise ValueError(
            f"`grad` must have the shape of `weights`, {weights.shape}. "
            f"Received grad.shape={grad.shape}."
        )
    if velocity is None:
        velocity = np.zeros_like(weights)
    velocity = _array(velocity, "velocity")
    if velocity.shape != weights.shape:
        raise ValueError(
            f"`velocity` must have the shape of `weights`, {weights.shape}. "
            f"Received velocity.shape={velocity.shape}."
        )
    learning_rate = _number(learning_rate, "learning_rate", "a number >= 0", lambda v: v >= 0)
    momentum = _number(momentum, "momentum", "a number in [0, 1]", lambda v: 0 <= v <= 1)
    new_velocity = momentum * velocity - learning_rate * grad
    return weights + new_velocity, new_velocity


def _scalar(value):
    if np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "biuf":
        raise ValueError(
            "`f` must return one real number (a scalar loss). Received "
            f"{type(value).__name__} of shape {np.shape(value)}."
        )
    return float(value)


def numerical_gradient(f, x, eps=1e-5):
    """Gradient of the scalar function `f` at `x`, by central differences.

    The check every backward function above is tested with: nudge one entry
    of `x` up and down by `eps` and see how much `f` changes.

    Parameters
    ----------
    f : callable
        Maps an array shaped like `x` to a number (e.g. a loss).
    x : array_like
        Where to take the gradient. Never modified: `f` gets copies.
    eps : float, default 1e-5
        Step size (positive).

    Returns
    -------
    ndarray, shaped like `x` (float64)
        ``grad[k] = (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)``.

    Raises
    ------
    ValueError
        If `f` is not callable or does not return a scalar, `x` is not a
        finite real array, or `eps` is not a positive number.

    Notes
    -----
    The error of central differences shrinks like ``eps**2`` (one-sided
    differences: like ``eps``); rounding error grows like ``1e-16 / eps``, so
    ``1e-5`` suits float64. It costs two calls of `f` per entry of `x`: fine
    for checking small cases, far too slow for training.

    Examples
    --------
    >>> np.round(numerical_gradient(lambda v: (v**2).sum(), [1.0, -2.0, 3.0]), 6)
    array([ 2., -4.,  6.])
    """
    if not callable(f):
        raise ValueError(
            f"`f` must be a function mapping an array to a number. Received {type(f).__name__}."
        )
    x = _array(x, "x")  # never modified: `f` gets copies
    eps = _number(eps, "eps", "a positive number", lambda v: v > 0)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (_scalar(f(plus)) - _scalar(f(minus))) / (2 * eps)
    return grad
