"""Run a trained CIFAR-10 model: on your own photo, on a batch, inside its layers.

`predict_image` reads a photo with `cifar_helpers.photos.load_image`, scales
its pixels to [0, 1] (the step the source tutorial forgot at prediction time:
it trained on ``x / 255`` but predicted on raw 0..255 pixels) and calls the
model directly through a cached ``tf.function``, which takes about a
millisecond instead of the tens of milliseconds of ``model.predict``'s
per-call set-up.

`predict_probabilities` and `predict_classes` work on batches, `predict_tta`
averages over mirrored and shifted copies (test-time augmentation), and
`layer_outputs` is the one way the course reads what a layer computes.

Keras/TensorFlow are imported only by the functions that run a model.
"""

from __future__ import annotations

import os
import weakref

import numpy as np

from .augmentation import flip_images, shift_images
from .data import CLASS_NAMES, unit_pixels
from .notebook import no_retracing_warnings
from .photos import load_image, prepare_image

__all__ = [
    "layer_outputs",
    "predict_classes",
    "predict_image",
    "predict_probabilities",
    "predict_tta",
]

# model -> tf.function calling it; the function holds only a weak reference to its model.
_PREDICT_FUNCTIONS = weakref.WeakKeyDictionary()


def _predict_function(model):
    function = _PREDICT_FUNCTIONS.get(model)
    if function is None:
        import tensorflow as tf

        model_ref = weakref.ref(model)

        @tf.function(reduce_retracing=True)
        def function(batch):
            return model_ref()(batch, training=False)

        _PREDICT_FUNCTIONS[model] = function
    return function


def _model_input_shape(model):
    """The model's input shape ``(None, H, W, C)``, checked before the model is called."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        shape = None
    if not isinstance(shape, tuple) or len(shape) != 4:
        raise ValueError(
            "`model` must be a built Keras model taking one batch of images, input shape "
            f"(None, H, W, C). Received {type(model).__name__} with input shape {shape}."
        )
    return shape


def _model_image_size(model):
    shape = _model_input_shape(model)
    if shape[-1] != 3 or None in shape[1:3]:
        raise ValueError(
            "`model` must take RGB images of a fixed size, input shape (None, H, W, 3). "
            f"Received a model with input shape {shape}."
        )
    return shape[1], shape[2]


def _check_fits_model(model, images, name="images"):
    """Refuse images whose size the model cannot take (before Keras does, obscurely).

    Models that do not tell their input shape (anything with a ``predict``
    method will do) are left to themselves.
    """
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        return
    if not isinstance(shape, tuple) or len(shape) != images.ndim:
        return
    expected = shape[1:]
    if any(want is not None and want != got for want, got in
           zip(expected, images.shape[1:], strict=True)):
        wanted = ", ".join("any" if n is None else str(n) for n in expected)
        raise ValueError(
            f"`{name}` must have the model's input shape (N, {wanted}). Received "
            f"{name}.shape={images.shape}. Resize the images, or use a model made for them."
        )


def predict_image(model, image_or_path, top_k=3, class_names=CLASS_NAMES, tta=False):
    """The model's top guesses for one photo, with their probabilities.

    Parameters
    ----------
    model : keras.Model
        Takes ``(N, H, W, 3)`` float images in [0, 1] and returns class probabilities.
    image_or_path : str, path-like, bytes, PIL.Image.Image or (h, w, 3) ndarray
        A photo file or its bytes (read with `load_image`), a Pillow image, or
        RGB pixels of any size (centre-cropped and resized to the model's
        input): uint8 in 0..255 or floats in [0, 1].
    top_k : int or None
        How many classes to return; None returns all of them.
    class_names : sequence of str
        Names of the model's outputs, in order.
    tta : bool
        Average over the photo, its mirror image and shifted copies
        (`predict_tta`), as the fast recipes do.

    Returns
    -------
    list of (str, float)
        ``[(class_name, probability), ...]``, most probable first.

    Raises
    ------
    ValueError
        For an array that is not (h, w, 3), is empty, holds NaN or infinity,
        or is neither uint8 nor floats in [0, 1] (uint16, int…); a bad
        `top_k`; a model that does not take (None, H, W, 3) images, or whose
        output size differs from ``len(class_names)``.
    TypeError
        If `image_or_path` is none of the above (None, a number…).
    FileNotFoundError, ImageLoadError
        From `load_image`.

    Examples
    --------
    >>> from cifar_helpers.models import build_seed_model
    >>> model = build_seed_model()  # doctest: +SKIP
    >>> predict_image(model, "../images/truck_1.jpg")  # doctest: +SKIP
    [('truck', 0.93), ('automobile', 0.05), ('ship', 0.01)]
    """
    size = _model_image_size(model)
    pixels = _as_pixels(image_or_path, size)
    batch = unit_pixels(pixels[np.newaxis])
    if tta:
        probabilities = predict_tta(model, batch)[0]
    else:
        probabilities = _predict_batches(model, batch, 1)[0]
    if probabilities.shape != (len(class_names),):
        raise ValueError(
            f"`model` returns {probabilities.shape[-1]} outputs but `class_names` has "
            f"{len(class_names)} names."
        )
    if top_k is None:
        top_k = len(class_names)
    if not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= len(class_names):
        raise ValueError(
            f"`top_k` must be an int from 1 to {len(class_names)} (or None for all). "
            f"Received top_k={top_k!r}."
        )
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return [(class_names[i], float(probabilities[i])) for i in order]


def _as_pixels(image_or_path, size):
    """RGB pixels of the model's `size`: uint8 in 0..255, or floats in [0, 1]."""
    from PIL import Image

    if isinstance(image_or_path, (str, os.PathLike, bytes, bytearray)):
        return load_image(image_or_path, size)
    if isinstance(image_or_path, Image.Image):
        return prepare_image(image_or_path, size)
    if not isinstance(image_or_path, (np.ndarray, list, tuple)):
        raise TypeError(
            "`image_or_path` must be a file path, a PIL image or an (H, W, 3) array of RGB "
            f"pixels. Received {type(image_or_path).__name__}."
        )
    pixels = np.asarray(image_or_path)
    if pixels.ndim != 3 or pixels.shape[-1] != 3 or pixels.size == 0:
        raise ValueError(
            "`image_or_path` must be an (H, W, 3) array of RGB pixels, H and W at least 1. "
            f"Received an array of shape {pixels.shape}"
            + (" (grayscale? repeat it: np.stack([image] * 3, axis=-1))." if pixels.ndim == 2
               else ".")
        )
    unit = unit_pixels(pixels, "image_or_path")  # uint8, or floats in [0, 1]: else refused
    if pixels.shape[:2] == tuple(size):
        return unit
    if pixels.dtype != np.uint8:
        pixels = np.rint(unit * 255).astype(np.uint8)
    return prepare_image(Image.fromarray(pixels), size)


def _check_batch(images, name="images"):
    """`images` as a float32 (N, H, W, C) batch in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"`{name}` must have shape (N, H, W, C). Received shape {images.shape}."
        )
    return unit_pixels(images, name)


def _check_input(model, images):
    """`images` checked for the model: 4-D, its input size, uint8 or floats in [0, 1]."""
    images = _check_batch(images)
    _check_fits_model(model, images)
    return images


def _predict_batches(model, images, batch_size):
    """``model.predict(images, batch_size)``'s numbers, through `_predict_function`.

    One call of the model's cached ``tf.function`` per batch: it traces at most
    twice (``reduce_retracing`` generalises the batch size) and leaves Keras' own
    predict function alone. On the course's 2-core CPU, test-time augmentation's
    six passes over 10,000 images took 19 s this way against 25-29 s with one
    ``model.predict`` call per pass (``benchmarks/scoring_speed.py``): no tf.data
    pipeline competes with the network for the cores. Other backends, and
    stand-in models with only a ``predict`` method, get ``predict``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received {batch_size!r}.")
    import keras

    if not isinstance(model, keras.Model) or keras.backend.backend() != "tensorflow":
        return model.predict(images, batch_size=batch_size, verbose=0)
    function = _predict_function(model)
    return np.concatenate([np.asarray(function(images[first:first + batch_size]))
                           for first in range(0, len(images), batch_size)])


def predict_probabilities(model, images, batch_size=256):
    """Class probabilities for a batch of images (what ``model.predict`` returns).

    Parameters
    ----------
    model : keras.Model
    images : (N, H, W, 3) uint8 ndarray, or floats in [0, 1]
        uint8 pixels are scaled to [0, 1] first, as in training.
    batch_size : int

    Returns
    -------
    (N, num_classes) float32 ndarray

    Raises
    ------
    ValueError
        For a batch that is not 4-D or not of the model's input size, or
        pixels that are neither uint8 nor floats in [0, 1] (NaN, infinity,
        uint16…). Checked before the model runs.
    """
    images = _check_input(model, images)
    return _predict_batches(model, images, batch_size)


def predict_classes(model, images, batch_size=256):
    """Keras 3's replacement for Keras 2's ``model.predict_classes(images)``.

    ``np.argmax(model.predict(images), axis=-1)``, with uint8 pixels scaled first.

    Returns
    -------
    (N,) int ndarray
        The most probable class of each image.
    """
    return np.argmax(predict_probabilities(model, images, batch_size), axis=-1)


def predict_tta(model, images, flip=True, shift=1, batch_size=1000, *, return_plain=False):
    """Class probabilities averaged over mirrored and shifted copies of each image.

    With ``flip`` each image and its mirror image get equal weight. With
    ``shift > 0`` (airbench's "level 2") the unshifted pair gets weight 1/2 and
    the pairs moved by ``(+shift, +shift)`` and ``(-shift, -shift)`` pixels
    (borders reflected) 1/4 each: 6 forward passes instead of 1.

    Parameters
    ----------
    model : keras.Model
        Takes float images in [0, 1] and returns probabilities.
    images : (N, H, W, C) uint8 or float ndarray
        uint8 pixels are scaled to [0, 1] first.
    flip : bool
    shift : int
    batch_size : int
    return_plain : bool
        Also return the first pass, the probabilities for the images as they
        are (what `predict_probabilities` gives), which costs nothing extra.

    Returns
    -------
    (N, num_classes) float32 ndarray
        Rows sum to 1.
    (N, num_classes) float32 ndarray, only with ``return_plain=True``
        The plain probabilities.
    """
    images = _check_input(model, images)
    if not isinstance(shift, (int, np.integer)) or shift < 0:
        raise ValueError(f"`shift` must be an int >= 0. Received shift={shift!r}.")

    passes = []

    def predict_pair(batch):
        probabilities = _predict_batches(model, batch, batch_size)
        passes.append(probabilities)
        if flip:
            mirrored = _predict_batches(model, np.ascontiguousarray(flip_images(batch)),
                                        batch_size)
            probabilities = (probabilities + mirrored) / 2
        return probabilities

    with no_retracing_warnings():
        result = predict_pair(images)
        if shift:
            moved = [predict_pair(np.ascontiguousarray(shift_images(images, d, d)))
                     for d in (shift, -shift)]
            result = result / 2 + (moved[0] + moved[1]) / 4
    result = np.asarray(result, dtype=np.float32)
    if return_plain:
        return result, np.asarray(passes[0], dtype=np.float32)
    return result


def layer_outputs(model, images, layer_names=None, batch_size=256):
    """What layers of `model` output for one image or a batch: its feature maps.

    Parameters
    ----------
    model : keras.Model
        A functional or Sequential model built with a known input shape.
    images : (H, W, C) or (N, H, W, C) uint8 ndarray, or floats in [0, 1]
        One image or a batch, of the model's input size; uint8 pixels are
        scaled to [0, 1] first, as in training.
    layer_names : sequence of str, optional
        The layers to report; default every convolution and pooling layer
        whose output is a stack of feature maps ``(N, H, W, C)``, in order.
    batch_size : int
        Images per forward pass, for large batches.

    Returns
    -------
    dict of str -> ndarray
        Layer name -> that layer's output, without the batch axis for one
        image: e.g. ``(32, 32, 32)`` for the seed model's first convolution.

    Raises
    ------
    ValueError
        If `images` does not have the model's input shape or is not uint8 or
        floats in [0, 1], or a name in `layer_names` is not a layer of `model`.
    """
    import keras

    images = np.asarray(images)
    expected = tuple(model.input_shape[1:])
    single = images.shape == expected
    if not single and images.shape[1:] != expected:
        raise ValueError(
            f"`images` must be one image of shape {expected} (the model's input) or a batch "
            f"(N, {', '.join(map(str, expected))}). Received shape {images.shape}."
        )
    batch = unit_pixels(images[np.newaxis] if single else images)
    names = [layer.name for layer in model.layers]
    if layer_names is None:
        layer_names = [
            layer.name for layer in model.layers
            if len(layer.output.shape) == 4 and ("Conv" in type(layer).__name__
                                                 or "Pooling" in type(layer).__name__)
        ]
    unknown = [name for name in layer_names if name not in names]
    if unknown:
        raise ValueError(f"Unknown layer names {unknown}. The model's layers are {names}.")
    probe = keras.Model(
        inputs=model.inputs[0], outputs=[model.get_layer(name).output for name in layer_names]
    )
    outputs = probe.predict(batch, batch_size=batch_size, verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {
        name: (np.asarray(values)[0] if single else np.asarray(values))
        for name, values in zip(layer_names, outputs, strict=True)
    }
