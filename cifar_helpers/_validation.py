"""Input checks shared by the NumPy-only modules (no TensorFlow here)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_float_array"]


def as_float_array(x, name="x"):
    """`x` as a floating-point ndarray, after checking it is numeric and NaN-free.

    Floating inputs keep their dtype (float32 stays float32, as in Keras);
    integer and boolean inputs become float64.
    """
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` should be a numeric array (or a number). Received {type(x).__name__} "
            f"that NumPy cannot turn into an array: {exc}"
        ) from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.issubdtype(
        array.dtype, np.complexfloating
    ):
        raise ValueError(
            f"`{name}` should hold real numbers (int or float). "
            f"Received an array of dtype {array.dtype}."
        )
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if np.isnan(array).any():
        raise ValueError(
            f"`{name}` should not contain NaN. Received {int(np.isnan(array).sum())} NaN "
            f"value(s) in an array of shape {array.shape}."
        )
    return array
