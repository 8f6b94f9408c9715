"""One style of input checks for the whole package (NumPy only).

Every check raises a ``ValueError`` (or ``TypeError`` for a wrong kind of
object) that says what was expected and what was received, in Keras' words:
``"`strides` must be a positive integer or a pair of them. Received strides=0."``
Unknown string options list the allowed values.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "MAX_OUTPUT_BYTES",
    "as_float_array",
    "as_real_array",
    "check_choice",
    "check_int",
    "check_output_size",
    "int_pair",
    "is_int",
]

#: The largest array (in bytes) a NumPy helper of the course agrees to allocate: 2 GiB.
#: Larger requests (``padding=26000``, a 300,000-filter kernel…) are refused at once
#: with their size, instead of filling a laptop's memory or dying in a MemoryError.
MAX_OUTPUT_BYTES = 2 * 1024**3


def is_int(value):
    """True for a Python or NumPy integer that is not a bool.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(value, name, minimum=None, maximum=None):
    """`value` as a Python int, after checking it is an integer in range.

    Examples
    --------
    >>> check_int(3, "epochs", minimum=1)
    3
    >>> check_int(0, "epochs", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: `epochs` must be an integer >= 1. Received epochs=0.
    """
    bounds = []
    if minimum is not None:
        bounds.append(f">= {minimum}")
    if maximum is not None:
        bounds.append(f"<= {maximum}")
    wanted = "an integer" + (" " + " and ".join(bounds) if bounds else "")
    if not is_int(value) or (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        raise ValueError(f"`{name}` must be {wanted}. Received {name}={value!r}.")
    return int(value)


def int_pair(value, name, minimum=1):
    """`value` (an int or a pair of ints, each >= `minimum`) as a pair of Python ints.

    Examples
    --------
    >>> int_pair(2, "strides"), int_pair((1, 2), "strides")
    ((2, 2), (1, 2))
    >>> int_pair(0, "strides")
    Traceback (most recent call last):
    ...
    ValueError: `strides` must be a positive integer or a pair of them. Received strides=0.
    """
    kind = "positive integer" if minimum == 1 else f"integer >= {minimum}"
    if minimum == 0:
        kind = "non-negative integer"
    if is_int(value):
        items = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        items = tuple(value)
    else:
        items = None
    if items is None or min(items) < minimum:
        raise ValueError(f"`{name}` must be a {kind} or a pair of them. Received {name}={value!r}.")
    return int(items[0]), int(items[1])


def check_choice(value, name, allowed):
    """`value` if it is one of the strings in `allowed`; otherwise a ValueError listing them.

    Examples
    --------
    >>> check_choice("max", "mode", ("max", "average"))
    'max'
    >>> check_choice("bogus", "mode", ("max", "average"))
    Traceback (most recent call last):
    ...
    ValueError: `mode` must be one of 'max', 'average'. Received mode='bogus'.
    """
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {options}. Received {name}={value!r}.")
    return value


def _real_numbers(value, name):
    """`value` as an ndarray of bools, ints or floats (no strings, objects or complex)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` must be a numeric array (or a number). Received {type(value).__name__} "
            f"that NumPy cannot turn into an array: {exc}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` must be an array of real numbers (bool, int or float). "
            f"Received an array of dtype {array.dtype}."
        )
    return array


def as_real_array(value, name, ndims=None, shape_text=None, allow_empty=False):
    """`value` as an array of real numbers (bool, int or float): finite, of an allowed ndim.

    Integer and boolean arrays keep their dtype (the caller decides how to
    compute with them); complex, object and string arrays are refused, as are
    NaN and infinite values.

    Examples
    --------
    >>> as_real_array([[1, 2]], "image", (2, 3), "(H, W) or (H, W, C)").shape
    (1, 2)
    >>> as_real_array([1.0, float("nan")], "x")
    Traceback (most recent call last):
    ...
    ValueError: `x` must contain finite numbers only. Received 1 NaN and 0 infinite value(s).
    """
    array = _real_numbers(value, name)
    if ndims is not None and array.ndim not in ndims:
        raise ValueError(
            f"`{name}` must have shape {shape_text}. "
            f"Received {name}.shape={array.shape} ({array.ndim}-D)."
        )
    if array.size == 0 and not allow_empty:
        raise ValueError(f"`{name}` must not be empty. Received {name}.shape={array.shape}.")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        n_nan = int(np.isnan(array).sum())
        n_inf = int(np.isinf(array).sum())
        raise ValueError(
            f"`{name}` must contain finite numbers only. "
            f"Received {n_nan} NaN and {n_inf} infinite value(s)."
        )
    return array


def as_float_array(value, name="x"):
    """`value` as a floating-point array, after checking it is real and NaN-free.

    Floating inputs keep their dtype (float32 stays float32, as in Keras);
    integer and boolean inputs become float64. Infinities pass (``relu(inf)``
    is ``inf``); callers that need finite numbers use `as_real_array`.

    Examples
    --------
    >>> as_float_array([1, 2]).dtype
    dtype('float64')
    >>> as_float_array(np.ones(2, dtype=np.float32)).dtype
    dtype('float32')
    >>> as_float_array([1.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: `x` must not contain NaN. Received 1 NaN value(s) in an array of shape (2,).
    """
    array = _real_numbers(value, name)
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    if np.isnan(array).any():
        raise ValueError(
            f"`{name}` must not contain NaN. Received {int(np.isnan(array).sum())} NaN "
            f"value(s) in an array of shape {array.shape}."
        )
    return array


def check_output_size(shape, itemsize, name):
    """Refuse to allocate an array of `shape` and `itemsize` bytes beyond `MAX_OUTPUT_BYTES`.

    The size is computed with Python integers (no overflow), before anything
    is allocated, so a huge request costs nothing.

    Parameters
    ----------
    shape : tuple of int
        The shape of the array about to be made.
    itemsize : int
        Bytes per value (8 for float64).
    name : str
        What the array is, for the message (e.g. ``"conv2d's output"``).

    Returns
    -------
    int
        The array's size in bytes.

    Examples
    --------
    >>> check_output_size((32, 32, 3), 8, "output")
    24576
    >>> check_output_size((52032, 52032, 1), 8, "conv2d's padded image")
    Traceback (most recent call last):
    ...
    ValueError: `conv2d's padded image` must fit in 2.1 GB (MAX_OUTPUT_BYTES). Received a
    request for shape (52032, 52032, 1) of 8-byte values: 21.7 GB.
    """
    size = int(itemsize)
    for length in shape:
        size *= int(length)
    if size > MAX_OUTPUT_BYTES:
        shape_text = "(" + ", ".join(str(int(length)) for length in shape) + (
            ",)" if len(shape) == 1 else ")"
        )
        raise ValueError(
            f"`{name}` must fit in {MAX_OUTPUT_BYTES / 1e9:.1f} GB (MAX_OUTPUT_BYTES). "
            f"Received a request for shape {shape_text} of {int(itemsize)}-byte values: "
            f"{size / 1e9:.1f} GB."
        )
    return size


def class_indices(values, name, num_classes=None, allow_empty=True):
    """`values` as a flat int64 array of class (or cluster) indices; (N, 1) columns flattened.

    Parameters
    ----------
    values : (N,) or (N, 1) array_like of ints
    name : str
        The argument's name, for the messages.
    num_classes : int, optional
        When given, every index must lie in ``0 .. num_classes - 1``; otherwise
        they must be non-negative.
    allow_empty : bool

    Examples
    --------
    >>> class_indices([[3], [0]], "y_true", num_classes=10)
    array([3, 0])
    >>> class_indices([12, 0], "y_true", num_classes=10)
    Traceback (most recent call last):
    ...
    ValueError: `y_true` must lie in 0..9 for num_classes=10. Received values from 0 to 12.
    """
    labels = np.asarray(values)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"`{name}` must have shape (N,) or (N, 1). Received shape {labels.shape}.")
    if labels.size == 0:
        if not allow_empty:
            raise ValueError(f"`{name}` must hold at least one value. Received an empty array.")
        return labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
            raise ValueError(f"`{name}` must be integers. Received NaN or infinity.")
        raise ValueError(
            f"`{name}` must be integers. Received dtype={labels.dtype}"
            + (" (use np.argmax(probabilities, axis=1) for predicted classes)."
               if labels.dtype.kind == "f" else ".")
        )
    if num_classes is None and labels.min() < 0:
        raise ValueError(
            f"`{name}` must be non-negative integers. Received a minimum of {labels.min()}."
        )
    if num_classes is not None and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"`{name}` must lie in 0..{num_classes - 1} for num_classes={num_classes}. "
            f"Received values from {labels.min()} to {labels.max()}."
        )
    return labels.astype(np.int64, copy=False)
