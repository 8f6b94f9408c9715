"""A Keras CNN's forward pass redone with NumPy: flatten, dense, and the whole chain.

`flatten` and `dense` are the last two steps of a classifier CNN; `forward_pass`
runs a whole (sequential) Keras model on an image with the course's NumPy
helpers: `~cifar_helpers.convolution.conv2d`, `~cifar_helpers.pooling.pool2d`,
the functions of `~cifar_helpers.activations`, `flatten` and `dense`. It needs
only the layers' weights and settings, which `layer_specs` reads off the model,
and gives the probabilities ``model.predict`` gives (to about 1e-6; the tests
and notebook 07 check it).

This module imports NumPy only (it reads a Keras model through its ``layers``,
``get_config()`` and ``get_weights()``, without importing Keras).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array
from .activations import ACTIVATIONS, get_activation
from .convolution import conv2d
from .pooling import pool2d

__all__ = ["SUPPORTED_LAYERS", "dense", "flatten", "forward_pass", "layer_specs"]

#: Keras layer classes `layer_specs` and `forward_pass` understand.
SUPPORTED_LAYERS = (
    "Activation",
    "AveragePooling2D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "InputLayer",
    "MaxPooling2D",
    "ReLU",
    "Softmax",
)


def flatten(x):
    """Lay a feature map out as one vector, in the order ``keras.layers.Flatten`` uses.

    Parameters
    ----------
    x : (H, W, C) array_like (any shape works)

    Returns
    -------
    (H * W * C,) ndarray
        Row by row, and within each pixel channel by channel (C order, channels
        last): ``out[(r * W + c) * C + ch] == x[r, c, ch]``.

    Examples
    --------
    >>> x = np.arange(12).reshape(2, 3, 2)   # 2 rows, 3 cols, 2 channels
    >>> flatten(x)
    array([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11.])
    >>> print(flatten(x)[(1 * 3 + 2) * 2 + 1], x[1, 2, 1])   # row 1, col 2, channel 1
    11.0 11
    """
    x = as_float_array(x)
    if x.ndim == 0:
        raise ValueError(f"`x` must be an array to flatten. Received a scalar: {x!r}.")
    return x.reshape(-1)


def dense(x, kernel, bias=None):
    """A fully connected layer without activation: ``x @ kernel + bias``.

    Parameters
    ----------
    x : (n_in,) or (N, n_in) array_like
        One input vector (e.g. a flattened feature map) or a batch of them.
    kernel : (n_in, units) array_like
        Keras' ``Dense`` kernel: column ``u`` holds the weights of output ``u``.
    bias : (units,) array_like, optional
        Added to every output; no bias if omitted.

    Returns
    -------
    (units,) or (N, units) ndarray
        ``out[u] = sum_i x[i] * kernel[i, u] + bias[u]``.

    Raises
    ------
    ValueError
        Non-numeric or NaN-containing inputs, wrong ndim, or shapes that do not
        fit together.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> kernel = np.array([[1.0, 0.0],
    ...                    [0.0, 1.0],
    ...                    [1.0, -1.0]])
    >>> dense(x, kernel, bias=np.array([0.5, 0.0]))
    array([ 4.5, -1. ])
    """
    x = as_float_array(x, "x")
    kernel = as_float_array(kernel, "kernel")
    if x.ndim not in (1, 2):
        raise ValueError(
            "`x` must be a vector (n_in,) or a batch of vectors (N, n_in); flatten "
            f"feature maps first. Received x.shape={x.shape}."
        )
    if kernel.ndim != 2:
        raise ValueError(
            f"`kernel` must have shape (n_in, units). Received kernel.shape={kernel.shape}."
        )
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"`x` has {x.shape[-1]} inputs but `kernel` expects {kernel.shape[0]} "
            f"(kernel.shape[0]). Received x.shape={x.shape}, kernel.shape={kernel.shape}."
        )
    out = x @ kernel
    if bias is not None:
        bias = as_float_array(bias, "bias")
        if bias.shape != (kernel.shape[1],):
            raise ValueError(
                f"`bias` must have shape ({kernel.shape[1]},), one value per unit. "
                f"Received bias.shape={bias.shape}."
            )
        out = out + bias
    return out


def _unsupported(layer, what):
    return ValueError(
        f"Layer {layer.name!r} ({type(layer).__name__}) uses {what}, which the NumPy "
        "forward pass does not implement."
    )


def _activation_name(layer, activation):
    if activation not in (None, *ACTIVATIONS):
        raise _unsupported(
            layer, f"activation={activation!r} (supported: {sorted(ACTIVATIONS)})"
        )
    return activation or "linear"


def _keras_kind(layer):
    """The Keras class a layer is: ``"Dense"`` for a `cifar_helpers.speedups.FastDense`."""
    return next((cls.__name__ for cls in type(layer).__mro__
                 if cls.__module__.startswith("keras.")), type(layer).__name__)


def _spec(layer):
    """The dict that describes one Keras layer for `forward_pass`."""
    kind = _keras_kind(layer)
    config = layer.get_config()
    if kind not in SUPPORTED_LAYERS:
        raise ValueError(
            f"Layer {layer.name!r} is a {kind}. The NumPy forward pass supports "
            f"{', '.join(SUPPORTED_LAYERS)}."
        )
    if config.get("data_format", "channels_last") != "channels_last":
        raise _unsupported(layer, f"data_format={config['data_format']!r}")
    spec = {"kind": kind, "name": layer.name}
    if kind == "Conv2D":
        if tuple(config["dilation_rate"]) != (1, 1) or config["groups"] != 1:
            raise _unsupported(
                layer, f"dilation_rate={config['dilation_rate']}, groups={config['groups']}"
            )
        weights = layer.get_weights()
        spec.update(
            kernel=weights[0],
            bias=weights[1] if config["use_bias"] else None,
            strides=tuple(config["strides"]),
            padding=config["padding"],
            activation=_activation_name(layer, config["activation"]),
        )
    elif kind == "Dense":
        weights = layer.get_weights()
        spec.update(
            kernel=weights[0],
            bias=weights[1] if config["use_bias"] else None,
            activation=_activation_name(layer, config["activation"]),
        )
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        spec.update(
            pool_size=tuple(config["pool_size"]),
            strides=tuple(config["strides"]),
            padding=config["padding"],
            mode="max" if kind == "MaxPooling2D" else "average",
        )
    elif kind == "Activation":
        spec.update(activation=_activation_name(layer, config["activation"]))
    elif kind == "ReLU":
        if config["max_value"] is not None or config["negative_slope"] or config["threshold"]:
            raise _unsupported(layer, "max_value, negative_slope or threshold")
        spec.update(activation="relu")
    elif kind == "Softmax":
        if config["axis"] != -1:
            raise _unsupported(layer, f"axis={config['axis']}")
        spec.update(activation="softmax")
    return spec


def layer_specs(model):
    """Read the weights and settings `forward_pass` needs off a Keras model.

    Parameters
    ----------
    model : keras.Model
        A chain of layers (a ``keras.Sequential``, or a functional model whose
        layers run one after the other) made of `SUPPORTED_LAYERS`, channels last.

    Returns
    -------
    list of dict
        One dict per layer (input layers left out), in order, with ``"kind"``
        (the Keras class name), ``"name"``, and what the layer needs:
        ``kernel``/``bias`` (NumPy arrays), ``strides``, ``padding``,
        ``pool_size``, ``mode``, ``activation`` (a name from
        `~cifar_helpers.activations.ACTIVATIONS`).

    Raises
    ------
    ValueError
        If a layer is not supported, or uses a setting we do not implement
        (dilation, groups, channels-first data, custom activations…).
    """
    if not hasattr(model, "layers"):
        raise ValueError(
            f"`model` must be a Keras model (with a `layers` list). Received "
            f"{type(model).__name__}."
        )
    return [_spec(layer) for layer in model.layers if _keras_kind(layer) != "InputLayer"]


def _apply(spec, x):
    kind = spec["kind"]
    if kind == "Conv2D":
        x = conv2d(x, spec["kernel"], strides=spec["strides"], padding=spec["padding"])
        if spec["bias"] is not None:
            x = x + spec["bias"]
        return get_activation(spec["activation"])(x)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return pool2d(x, spec["pool_size"], spec["strides"], spec["padding"], spec["mode"])
    if kind == "Flatten":
        return flatten(x)
    if kind == "Dense":
        return get_activation(spec["activation"])(dense(x, spec["kernel"], spec["bias"]))
    if kind in ("Activation", "ReLU", "Softmax"):
        return get_activation(spec["activation"])(x)
    return x  # Dropout: does nothing at prediction time


def forward_pass(model, image, return_intermediates=False):
    """Run a Keras CNN on `image` with NumPy only; the result matches ``model.predict``.

    Parameters
    ----------
    model : keras.Model or list of dict
        The model, or its `layer_specs`.
    image : (H, W, C) or (N, H, W, C) array_like
        One image or a batch, preprocessed as the model expects (e.g. pixels
        scaled to ``[0, 1]``).
    return_intermediates : bool
        Also return every layer's output (for one image only).

    Returns
    -------
    output : (units,) or (N, units) ndarray
        The last layer's output, e.g. the class probabilities. float64.
    intermediates : list of (str, ndarray)
        Only if `return_intermediates`: ``(layer name, output)`` for each layer,
        in order.

    Raises
    ------
    ValueError
        If `image` is not 3-D or 4-D, or the model has a layer we do not support.

    Notes
    -----
    Layer by layer: ``Conv2D`` is `conv2d` + bias + activation; pooling is
    `pool2d`; ``Flatten`` is `flatten`; ``Dense`` is `dense` + activation;
    ``Dropout`` is skipped (Keras only drops values while training).

    Examples
    --------
    A hand-made "model": a 1x1 convolution that doubles its input, then
    flatten and a dense layer whose two scores are the sum of the values, the
    second one plus log(3).

    >>> specs = [
    ...     {"kind": "Conv2D", "name": "conv", "kernel": np.full((1, 1, 1, 1), 2.0),
    ...      "bias": None, "strides": (1, 1), "padding": "valid", "activation": "relu"},
    ...     {"kind": "Flatten", "name": "flatten"},
    ...     {"kind": "Dense", "name": "dense", "kernel": np.ones((4, 2)),
    ...      "bias": np.array([0.0, np.log(3.0)]), "activation": "softmax"},
    ... ]
    >>> forward_pass(specs, np.full((2, 2, 1), 2.5))   # scores 20 and 20 + log(3)
    array([0.25, 0.75])
    """
    specs = model if isinstance(model, list) else layer_specs(model)
    image = as_float_array(image, "image")
    if image.ndim == 4:
        if return_intermediates:
            raise ValueError(
                "`return_intermediates=True` needs one image (H, W, C). "
                f"Received a batch of shape {image.shape}."
            )
        return np.stack([forward_pass(specs, one) for one in image])
    if image.ndim != 3:
        raise ValueError(
            "`image` must be one image (H, W, C) or a batch (N, H, W, C). "
            f"Received image.shape={image.shape}."
        )
    x = image
    intermediates = []
    for spec in specs:
        x = _apply(spec, x)
        intermediates.append((spec["name"], x))
    return (x, intermediates) if return_intermediates else x
