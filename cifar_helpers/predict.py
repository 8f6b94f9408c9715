"""Classify your own photo with a CIFAR-10 model, with the same preprocessing as training.

`load_image` turns any photo Pillow can open (JPEG, PNG, GIF, WebP, BMP, TIFF…)
into a small RGB uint8 array the way a careful person would by hand: turn it
upright (EXIF orientation), convert grayscale, transparent, palette, CMYK or
16-bit pixels to plain 8-bit RGB, crop the centre to the target's shape so
nothing is squashed, and shrink it with an antialiasing filter. Bad input gets
a clear `ImageLoadError`, never a crash deep inside NumPy.

`predict_image` then scales the pixels to [0, 1] (the step the source tutorial
forgot at prediction time: it trained on ``x / 255`` but predicted on raw 0..255
pixels) and calls the model directly through a cached ``tf.function``, which
takes about a millisecond instead of the tens of milliseconds of
``model.predict``'s per-call set-up.

Keras/TensorFlow are imported only by the functions that run a model.
"""

from __future__ import annotations

import warnings
import weakref
from pathlib import Path

import numpy as np

from .data import CLASS_NAMES

__all__ = [
    "MAX_PIXELS",
    "ImageLoadError",
    "load_image",
    "per_class_accuracy",
    "predict_classes",
    "predict_image",
    "predict_probabilities",
    "prepare_image",
]

#: Largest image (width x height) `load_image` opens: Pillow's own decompression-bomb limit.
MAX_PIXELS = 89_478_485

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


class ImageLoadError(ValueError):
    """A file could not be read as a photo (not an image, truncated, or too large)."""


def _check_size(size):
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(n, (int, np.integer)) and n > 0 for n in size)
    ):
        raise ValueError(
            "`size` should be a pair of positive ints (height, width), e.g. (32, 32). "
            f"Received size={size!r}."
        )
    return int(size[0]), int(size[1])


def _to_rgb(image):
    """Convert a Pillow image of any mode to 8-bit RGB (transparency over white)."""
    from PIL import Image

    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode in _SIXTEEN_BIT_MODES or (mode == "I" and values.max(initial=0) > 255):
            values = values / 257.0  # 0..65535 -> 0..255
        elif mode == "F" and values.max(initial=0) <= 1.0:
            values = values * 255.0
        gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _crop_box(width, height, size):
    """The centred integer box of `width` x `height` with the aspect ratio of `size` (h, w).

    Examples
    --------
    >>> _crop_box(120, 40, (32, 32))   # (left, upper, right, lower)
    (40, 0, 80, 40)
    """
    target_h, target_w = size
    if width * target_h > height * target_w:  # too wide: trim the sides
        new_w = max(1, round(height * target_w / target_h))
        left = (width - new_w) // 2
        return (left, 0, left + new_w, height)
    new_h = max(1, round(width * target_h / target_w))
    top = (height - new_h) // 2
    return (0, top, width, top + new_h)


def prepare_image(image, size=(32, 32)):
    """Turn a Pillow image into an upright RGB uint8 array of shape `size` + (3,).

    Applies EXIF orientation, converts any mode to 8-bit RGB (transparent pixels
    become white), crops the centre to the aspect ratio of `size` and resizes
    with Lanczos antialiasing. `load_image` calls it after opening a file.

    Parameters
    ----------
    image : PIL.Image.Image
    size : (int, int)
        ``(height, width)`` of the result.

    Returns
    -------
    (height, width, 3) uint8 ndarray

    Examples
    --------
    >>> from PIL import Image
    >>> wide = Image.new("L", (60, 20), color=200)   # 60 wide, 20 high, gray
    >>> prepare_image(wide, size=(4, 4)).shape
    (4, 4, 3)
    >>> int(prepare_image(wide, size=(4, 4))[0, 0, 0])
    200
    """
    from PIL import Image, ImageOps

    size = _check_size(size)
    image = ImageOps.exif_transpose(image)
    image = _to_rgb(image)
    # Crop first: resize(box=...) would let the filter reach pixels outside the box.
    cropped = image.crop(_crop_box(image.width, image.height, size))
    resized = cropped.resize(
        (size[1], size[0]), resample=Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    return np.asarray(resized, dtype=np.uint8).copy()


def load_image(path, size=(32, 32)):
    """Read a photo as an RGB uint8 array ready for a CIFAR-10 model.

    Parameters
    ----------
    path : str or path-like
        Any image Pillow opens: JPEG, PNG, GIF (first frame), WebP, BMP, TIFF…
    size : (int, int)
        ``(height, width)`` of the result; CIFAR-10 models take ``(32, 32)``.

    Returns
    -------
    (height, width, 3) uint8 ndarray
        Upright (EXIF orientation applied), 8-bit RGB (grayscale, palette, CMYK
        and 16-bit converted; transparent pixels white), centre-cropped to the
        aspect ratio of `size`, then resized with antialiasing.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist or is a folder.
    ImageLoadError
        A `ValueError`: the file is not an image Pillow can read, is truncated or
        corrupted, or is larger than `MAX_PIXELS` (a decompression bomb).
    ValueError
        If `size` is not a pair of positive ints.

    Examples
    --------
    >>> from cifar_helpers.photos import photo_path
    >>> image = load_image(photo_path("truck_1.jpg"))
    >>> image.shape, image.dtype
    ((32, 32, 3), dtype('uint8'))
    """
    from PIL import Image, UnidentifiedImageError

    size = _check_size(size)
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"Cannot read image '{path}': the path {what}.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                pixels = image.width * image.height
                if pixels > MAX_PIXELS:
                    raise ImageLoadError(
                        f"'{path.name}' is {image.width} x {image.height} pixels, more than the "
                        f"{MAX_PIXELS:,} allowed (a decompression bomb?). Resize it first."
                    )
                if image.format == "JPEG":
                    # Let the JPEG decoder shrink big photos by 1/2, 1/4 or 1/8 while
                    # decoding, keeping at least 4x the target size for the final filter.
                    image.draft(image.mode, (4 * size[1], 4 * size[0]))
                image.load()
                return prepare_image(image, size)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageLoadError(
                f"'{path.name}' is too large to open safely (a decompression bomb?): {exc}"
            ) from None
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"'{path.name}' is not an image Pillow can read (expected JPEG, PNG, GIF, "
                "WebP, BMP, TIFF…). Is it really a photo?"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            if isinstance(exc, ImageLoadError):
                raise
            raise ImageLoadError(
                f"'{path.name}' could not be decoded; it may be truncated or corrupted "
                f"({type(exc).__name__}: {exc})."
            ) from None


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


def _model_image_size(model):
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[-1] != 3 or None in shape[1:3]:
        raise ValueError(
            "`model` should take RGB images of a fixed size, input shape (None, H, W, 3). "
            f"Received a model with input shape {shape}."
        )
    return shape[1], shape[2]


def predict_image(model, image_or_path, top_k=3, class_names=CLASS_NAMES):
    """The model's top guesses for one photo, with their probabilities.

    Parameters
    ----------
    model : keras.Model
        Takes ``(N, H, W, 3)`` float images in [0, 1] and returns class probabilities.
    image_or_path : str, path-like, PIL.Image.Image or (h, w, 3) uint8 ndarray
        A photo file (read with `load_image`), a Pillow image or RGB pixels in
        0..255 of any size (centre-cropped and resized to the model's input).
    top_k : int or None
        How many classes to return; None returns all of them.
    class_names : sequence of str
        Names of the model's outputs, in order.

    Returns
    -------
    list of (str, float)
        ``[(class_name, probability), ...]``, most probable first.

    Raises
    ------
    ValueError
        For an image that is not uint8 RGB, a bad `top_k`, or a model whose
        output size differs from ``len(class_names)``.
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
    batch = pixels[np.newaxis].astype(np.float32) / np.float32(255.0)
    probabilities = np.asarray(_predict_function(model)(batch))[0]
    if probabilities.shape != (len(class_names),):
        raise ValueError(
            f"`model` returns {probabilities.shape[-1]} outputs but `class_names` has "
            f"{len(class_names)} names."
        )
    if top_k is None:
        top_k = len(class_names)
    if not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= len(class_names):
        raise ValueError(
            f"`top_k` should be an int from 1 to {len(class_names)} (or None for all). "
            f"Received top_k={top_k!r}."
        )
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return [(class_names[i], float(probabilities[i])) for i in order]


def _as_pixels(image_or_path, size):
    from PIL import Image

    if isinstance(image_or_path, (str, Path)):
        return load_image(image_or_path, size)
    if isinstance(image_or_path, Image.Image):
        return prepare_image(image_or_path, size)
    pixels = np.asarray(image_or_path)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[-1] != 3:
        raise ValueError(
            "`image_or_path` should be a file path, a PIL image or an (H, W, 3) uint8 RGB "
            f"array of pixels in 0..255. Received an array of dtype {pixels.dtype} and "
            f"shape {pixels.shape}."
        )
    if pixels.shape[:2] == tuple(size):
        return pixels
    return prepare_image(Image.fromarray(pixels), size)


def predict_probabilities(model, images, batch_size=256):
    """Class probabilities for a batch of images (what ``model.predict`` returns).

    Parameters
    ----------
    model : keras.Model
    images : (N, H, W, 3) uint8 or float ndarray
        uint8 pixels are scaled to [0, 1] first, as in training.
    batch_size : int

    Returns
    -------
    (N, num_classes) float32 ndarray
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"`images` should have shape (N, H, W, C). Received {images.shape}.")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(255.0)
    return model.predict(images, batch_size=batch_size, verbose=0)


def predict_classes(model, images, batch_size=256):
    """Keras 3's replacement for Keras 2's ``model.predict_classes(images)``.

    ``np.argmax(model.predict(images), axis=-1)``, with uint8 pixels scaled first.

    Returns
    -------
    (N,) int ndarray
        The most probable class of each image.
    """
    return np.argmax(predict_probabilities(model, images, batch_size), axis=-1)


def per_class_accuracy(y_true, y_pred, num_classes=10):
    """The fraction of each class' examples that were predicted correctly (its recall).

    Parameters
    ----------
    y_true, y_pred : (N,) or (N, 1) int ndarray
    num_classes : int

    Returns
    -------
    (num_classes,) float ndarray
        NaN for a class with no examples.

    Examples
    --------
    >>> per_class_accuracy([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], num_classes=3)
    array([0.5  , 0.667,   nan])
    """
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` should have the same length. Received {y_true.size} "
            f"and {y_pred.size}."
        )
    totals = np.bincount(y_true, minlength=num_classes).astype(float)
    correct = np.bincount(y_true[y_true == y_pred], minlength=num_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, correct / np.where(totals > 0, totals, 1), np.nan)
