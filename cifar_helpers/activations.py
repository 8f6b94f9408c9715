"""Activation functions, written with NumPy: ReLU, sigmoid, tanh and softmax.

These are the element-wise nonlinearities a CNN applies after a convolution or a
dense layer, and the softmax that turns the last layer's scores into
probabilities. Each one gives the same numbers as ``keras.activations``; the
tests check it. Sigmoid and softmax are written so that large inputs do not
overflow (no ``exp`` of a big positive number is ever taken).

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array

__all__ = ["ACTIVATIONS", "get_activation", "linear", "relu", "sigmoid", "softmax", "tanh"]


def relu(x):
    """Rectified linear unit: ``max(0, x)``, element-wise.

    Parameters
    ----------
    x : array_like of real numbers, any shape

    Returns
    -------
    ndarray, same shape as `x`
        Negative values become 0; positive values pass unchanged. Floating
        inputs keep their dtype, integer inputs give float64.

    Raises
    ------
    ValueError
        If `x` is not numeric or contains NaN.

    Examples
    --------
    >>> relu(np.array([-2.0, -0.5, 0.0, 1.5, 3.0]))
    array([0. , 0. , 0. , 1.5, 3. ])
    >>> relu([[-4, 3], [2, -1]])
    array([[0., 3.],
           [2., 0.]])
    """
    x = as_float_array(x)
    return np.maximum(x, x.dtype.type(0))


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, element-wise, without overflow.

    Parameters
    ----------
    x : array_like of real numbers, any shape

    Returns
    -------
    ndarray, same shape as `x`, values in ``[0, 1]``

    Raises
    ------
    ValueError
        If `x` is not numeric or contains NaN.

    Notes
    -----
    Written as ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``,
    with ``e = exp(-|x|)``. The exponent is never positive, so ``sigmoid(-1000)``
    is 0 and ``sigmoid(1000)`` is 1 without an overflow warning.

    Examples
    --------
    >>> sigmoid(np.array([0.0, 2.0, -2.0]))
    array([0.5       , 0.88079708, 0.11920292])
    >>> sigmoid(np.array([-1000.0, 1000.0]))
    array([0., 1.])
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    one = x.dtype.type(1)
    return np.where(x >= 0, one / (one + e), e / (one + e))


def tanh(x):
    """Hyperbolic tangent, element-wise: values in ``[-1, 1]``, ``tanh(0) = 0``.

    Parameters
    ----------
    x : array_like of real numbers, any shape

    Returns
    -------
    ndarray, same shape as `x`

    Raises
    ------
    ValueError
        If `x` is not numeric or contains NaN.

    Notes
    -----
    ``tanh(x) = 2 * sigmoid(2 x) - 1``: the same S shape, centred on 0.

    Examples
    --------
    >>> tanh(np.array([-1.0, 0.0, 1.0]))
    array([-0.76159416,  0.        ,  0.76159416])
    >>> tanh(np.array([-1000.0, 1000.0]))
    array([-1.,  1.])
    """
    return np.tanh(as_float_array(x))


def linear(x):
    """The identity ("no activation", Keras' ``activation=None`` / ``"linear"``).

    Examples
    --------
    >>> linear([-1, 2])
    array([-1.,  2.])
    """
    return as_float_array(x).copy()


def softmax(x, axis=-1):
    """Softmax along `axis`: ``exp(x_i) / sum_j exp(x_j)``, numerically stable.

    Parameters
    ----------
    x : (..., K) array_like of finite real numbers
        Scores ("logits"); one vector of `K` scores, or a batch of them.
    axis : int
        The axis holding the `K` scores (default: the last one, like Keras).

    Returns
    -------
    ndarray, same shape as `x`
        Non-negative values that sum to 1 along `axis`.

    Raises
    ------
    ValueError
        If `x` is not numeric, is a scalar, contains NaN or infinity, or `axis`
        is not an axis of `x`.

    Notes
    -----
    Softmax does not change when the same number is added to every score, so we
    subtract the largest score first: ``exp`` then only sees values ``<= 0`` and
    cannot overflow, even for scores like 1000.

    Examples
    --------
    >>> softmax(np.array([1.0, 2.0, 3.0]))
    array([0.09003057, 0.24472847, 0.66524096])
    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    >>> softmax(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    x = as_float_array(x)
    if x.ndim == 0:
        raise ValueError(
            "`x` must have at least one axis of scores (softmax of a single number is "
            f"always 1). Received a scalar: {x!r}."
        )
    if not np.isfinite(x).all():
        raise ValueError(
            "`x` must contain only finite scores. Received "
            f"{int(np.isinf(x).sum())} infinite value(s)."
        )
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not (
        -x.ndim <= axis < x.ndim
    ):
        raise ValueError(
            f"`axis` must be an int in [{-x.ndim}, {x.ndim - 1}] for an input of shape "
            f"{x.shape}. Received axis={axis!r}."
        )
    shifted = x - x.max(axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axis, keepdims=True)


#: Activation functions by the names Keras uses in ``activation="..."``.
ACTIVATIONS = {
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "softmax": softmax,
    "tanh": tanh,
}


def get_activation(name):
    """The activation function called `name` (``None`` means ``"linear"``).

    Parameters
    ----------
    name : str or None
        One of ``"linear"``, ``"relu"``, ``"sigmoid"``, ``"softmax"``, ``"tanh"``.

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        If `name` is not one of the names above.

    Examples
    --------
    >>> get_activation("relu")([-1.0, 2.0])
    array([0., 2.])
    """
    if name is None:
        return linear
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation. Expected one of {sorted(ACTIVATIONS)} or None. "
            f"Received {name!r}."
        )
    return ACTIVATIONS[name]
