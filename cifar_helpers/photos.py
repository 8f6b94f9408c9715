"""Photos: the course's own (in ``images/``, with credits) and the one photo loader.

None of the course photos comes from CIFAR-10. Show `credit(name)` wherever a
photo, or anything made from it (a filtered or resized copy), is displayed.

`load_image` turns any photo Pillow can open (JPEG, PNG, GIF, WebP, BMP, TIFF…),
from a file or from uploaded bytes, into an RGB uint8 array the way a careful
person would by hand: turn it upright (EXIF orientation), convert grayscale,
transparent, palette, CMYK or 16-bit pixels to plain 8-bit RGB, crop the centre
to the target's shape so nothing is squashed, and shrink it with an
antialiasing filter. Bad input gets a clear `ImageLoadError`, never a crash deep
inside NumPy. Every lesson, widget and the CLI read photos through it.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

from .config import IMAGES_DIR

__all__ = [
    "MAX_DECODE_PIXELS",
    "MAX_PIXELS",
    "PHOTOS",
    "ImageLoadError",
    "credit",
    "load_image",
    "photo_path",
    "prepare_image",
]

#: file name -> (CIFAR-10 class or "general", credit line with source and licence)
PHOTOS = {
    "airplane_1.jpg": ("airplane", "Airplane photo from Pixabay (photographer not named), CC0 1.0, "
                       "via IBM/MAX-Image-Segmenter-Web-App"),
    "automobile_1.jpg": ("automobile", "Sports car photo from Pixabay (photographer not named), "
                         "CC0 1.0, via IBM/MAX-Image-Segmenter-Web-App"),
    "bird_1.jpg": ("bird", "Eagle photo from the darknet repository (pjreddie/darknet), "
                   "public domain per the repository licence"),
    "cat_1.jpg": ("cat", "Cat photo from Pexels (photographer not named), CC0 1.0, "
                  "via IBM/MAX-Inception-ResNet-v2"),
    "cat_2.png": ("cat", '"Chelsea the cat" by Stefan van der Walt, CC0, from scikit-image\'s '
                  "sample data"),
    "deer_1.jpg": ("deer", '"Strolling reindeer" by Alexandre Buisse (Nattfodd), CC BY-SA 3.0 '
                   "(https://creativecommons.org/licenses/by-sa/3.0/), via Wikimedia Commons; "
                   "filtered or resized copies are shared under the same licence"),
    "dog_1.jpg": ("dog", "Beagle photo from Pexels (photographer not named), CC0 1.0, "
                  "via IBM/MAX-Inception-ResNet-v2"),
    "frog_1.jpg": ("frog", "Red-eyed tree frog by Carey James Balboa, public domain, "
                   "via Wikimedia Commons"),
    "horse_1.jpg": ("horse", "Jockey and horse photo from Pexels (photographer not named), "
                    "CC0 1.0, via IBM/MAX-Object-Detector"),
    "ship_1.png": ("ship", "Kodak test image kodim06 (Eastman Kodak Company), released for "
                   "unrestricted usage"),
    "truck_1.jpg": ("truck", '"Mercedes-Benz Arocs dump truck" by High Contrast, CC BY 3.0 DE '
                    "(https://creativecommons.org/licenses/by/3.0/de/deed.en), via Wikimedia "
                    "Commons (resized, converted to JPEG)"),
    "general_1.png": ("general", "Cup of coffee by Rachel Michetti, courtesy of Pikolo Espresso "
                      "Bar, CC0, from scikit-image's sample data"),
}


def _check(name):
    if name not in PHOTOS:
        raise ValueError(f"Unknown photo {name!r}. Expected one of: {', '.join(sorted(PHOTOS))}.")


def photo_path(name):
    """Absolute path of the course photo `name` (e.g. ``"truck_1.jpg"``)."""
    _check(name)
    return IMAGES_DIR / name


def credit(name):
    """The credit line to show with photo `name`.

    Examples
    --------
    >>> credit("frog_1.jpg")
    'frog_1.jpg: Red-eyed tree frog by Carey James Balboa, public domain, via Wikimedia Commons'
    """
    _check(name)
    return f"{name}: {PHOTOS[name][1]}"


#: Largest image (width x height) `load_image` opens: Pillow's own decompression-bomb limit.
MAX_PIXELS = 89_478_485
#: Largest image `load_image` decodes at full size (every format but JPEG, which it decodes
#: at 1/2, 1/4 or 1/8 of its size): 40 megapixels take up to 160 MB and about a second.
#: Larger PNG, GIF, TIFF, WebP… photos are refused with their pixel count.
MAX_DECODE_PIXELS = 40_000_000
# Rows converted at a time from 16-bit or 32-bit pixels to 8 bits (bounded scratch memory).
_ROWS_PER_STRIP = 256

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
            "`size` must be a pair of positive ints (height, width), e.g. (32, 32). "
            f"Received size={size!r}."
        )
    return int(size[0]), int(size[1])


def _to_gray8(image):
    """A 16-bit ("I;16"), 32-bit integer ("I") or float ("F") image as 8-bit "L".

    16-bit pixels are divided by 257 (0..65535 -> 0..255), as are "I" pixels
    above 255; "F" pixels in [0, 1] are multiplied by 255. The conversion goes
    a strip of rows at a time, so a large image needs no float64 copy of itself.
    """
    from PIL import Image

    mode = image.mode
    high = image.getextrema()[1]
    divide = mode in _SIXTEEN_BIT_MODES or (mode == "I" and high > 255)
    multiply = mode == "F" and high <= 1.0
    gray = np.empty((image.height, image.width), dtype=np.uint8)
    for top in range(0, image.height, _ROWS_PER_STRIP):
        bottom = min(top + _ROWS_PER_STRIP, image.height)
        values = np.asarray(image.crop((0, top, image.width, bottom)), dtype=np.float64)
        if divide:
            values = values / 257.0  # 0..65535 -> 0..255
        elif multiply:
            values = values * 255.0
        gray[top:bottom] = np.clip(np.rint(values), 0, 255)
    return Image.fromarray(gray)


def _to_rgb(image):
    """Convert a Pillow image of any mode to 8-bit RGB (transparency over white)."""
    from PIL import Image

    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return _to_gray8(image).convert("RGB")
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


def _open_source(source):
    """(name for messages, file object or path) for a path or for uploaded bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise ImageLoadError("The photo is empty (0 bytes): choose a photo (JPEG, PNG…).")
        return "the uploaded photo", io.BytesIO(bytes(source))
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "`source` must be a file path or the bytes of a photo. "
            f"Received {type(source).__name__}."
        )
    path = Path(source)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"Cannot read image '{path}': the path {what}.")
    return f"'{path.name}'", path


def _refuse_full_decode(image, name, what, limit):
    pixels = image.width * image.height
    raise ImageLoadError(
        f"{name} is {image.width} x {image.height} = {pixels:,} pixels; {what}, and this "
        f"loader decodes at most {limit:,} pixels that way (more would take hundreds of MB "
        "and seconds, for a small result). Shrink the photo first, or save it as a baseline "
        "JPEG (decoded at reduced size)."
    )


def _check_decode_cost(image, name):
    """Refuse an image whose decoding would take more than ~160 MB (see MAX_DECODE_PIXELS)."""
    if image.format == "JPEG" and image.info.get("progressive"):
        # A progressive JPEG keeps every DCT coefficient of the full-size image
        # (2 bytes each) while decoding, whatever the draft size.
        layers = getattr(image, "layer", None) or [(None, 1, 1, None)] * len(image.getbands())
        most_h = max(layer[1] for layer in layers)
        most_v = max(layer[2] for layer in layers)
        coefficients = sum(image.width * layer[1] // most_h * (image.height * layer[2] // most_v)
                           for layer in layers)
        if coefficients > 2 * MAX_DECODE_PIXELS:  # 2 bytes each vs 4 bytes per pixel
            limit = 2 * MAX_DECODE_PIXELS * image.width * image.height // coefficients
            _refuse_full_decode(image, name, "a progressive JPEG keeps all its coefficients "
                                "in memory while decoding", limit)
    elif image.format != "JPEG":
        # Pillow's WebP decoder holds about 16 bytes per pixel, the others about 4.
        limit = MAX_DECODE_PIXELS // 4 if image.format == "WEBP" else MAX_DECODE_PIXELS
        if image.width * image.height > limit:
            _refuse_full_decode(image, name, f"a {image.format or 'non-JPEG'} image is "
                                "decoded at full size", limit)


def _shrink(image, size, max_side):
    """Shrink a large decoded image by a whole factor (box filter) before anything else.

    Keeps at least 4 times the pixels the final resize needs, so the result
    matches a resize from full size, while every later step (conversion to
    RGB, cropping) works on a small image.
    """
    if image.mode in _SIXTEEN_BIT_MODES or image.mode in ("I", "F"):
        image = _to_gray8(image)
    if size is not None:
        left, top, right, bottom = _crop_box(image.width, image.height, size)
        factor = min((right - left) // (4 * size[1]), (bottom - top) // (4 * size[0]))
    else:
        factor = max(image.size) // (4 * max_side)
    if factor < 2:
        return image
    if image.mode in ("1", "P", "PA"):  # palette indices and bits cannot be averaged
        image = image.convert("RGBA" if image.mode == "PA" or "transparency" in image.info
                              else "L" if image.mode == "1" else "RGB")
    return image.reduce(factor)


def _decode(image, size, max_side, name):
    """Decode `image` at reduced size where the format allows it, then prepare it."""
    from PIL import Image, ImageOps

    if size is not None:
        wanted = (4 * size[1], 4 * size[0])  # keep 4x the target for the final filter
    else:
        wanted = (max_side, max_side)
    _check_decode_cost(image, name)
    if image.format == "JPEG":
        # The JPEG decoder shrinks big photos by 1/2, 1/4 or 1/8 while decoding.
        image.draft(image.mode, wanted)
    image.load()
    ImageOps.exif_transpose(image, in_place=True)  # upright first (it is our own copy)
    image = _shrink(image, size, max_side)
    if size is not None:
        return prepare_image(image, size)
    image = _to_rgb(image)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).copy()


def load_image(source, size=(32, 32), max_side=512):
    """Read a photo as an RGB uint8 array: by default, ready for a CIFAR-10 model.

    Parameters
    ----------
    source : str, path-like or bytes
        A file (any image Pillow opens: JPEG, PNG, GIF (first frame), WebP,
        BMP, TIFF…) or the bytes of one (an upload).
    size : (int, int) or None
        ``(height, width)`` of the result; CIFAR-10 models take ``(32, 32)``.
        None keeps the photo's aspect ratio, for display (see `max_side`).
    max_side : int
        With ``size=None``: the longest side of the result, at most.

    Returns
    -------
    (height, width, 3) uint8 ndarray
        Upright (EXIF orientation applied), 8-bit RGB (grayscale, palette, CMYK
        and 16-bit converted; transparent pixels white), centre-cropped to the
        aspect ratio of `size`, then resized with antialiasing.

    Raises
    ------
    FileNotFoundError
        If `source` is a path that does not exist or is a folder.
    ImageLoadError
        A `ValueError`: the file is empty, is not an image Pillow can read, is
        truncated or corrupted, is larger than `MAX_PIXELS` (a decompression
        bomb), or is not a JPEG and larger than `MAX_DECODE_PIXELS` (decoding
        it would take too much memory and time; the message gives its size).

    Notes
    -----
    Cost is bounded: JPEGs are decoded at 1/2, 1/4 or 1/8 of their size when
    that still leaves 4 times the target, other formats (decoded at full size)
    are limited to `MAX_DECODE_PIXELS`, and a large decoded image is first
    shrunk by a whole factor in its own mode, so no step copies it at full size.
    TypeError
        If `source` is neither a path nor bytes.
    ValueError
        If `size` is not a pair of positive ints.

    Examples
    --------
    >>> image = load_image(photo_path("truck_1.jpg"))
    >>> image.shape, image.dtype
    ((32, 32, 3), dtype('uint8'))
    >>> max(load_image(photo_path("truck_1.jpg"), size=None, max_side=100).shape)
    100
    """
    from PIL import Image, UnidentifiedImageError

    size = None if size is None else _check_size(size)
    if not isinstance(max_side, int) or isinstance(max_side, bool) or max_side < 1:
        raise ValueError(f"`max_side` must be a positive integer. Received max_side={max_side!r}.")
    name, opened = _open_source(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(opened) as image:
                pixels = image.width * image.height
                if pixels > MAX_PIXELS:
                    raise ImageLoadError(
                        f"{name} is {image.width} x {image.height} pixels, more than the "
                        f"{MAX_PIXELS:,} allowed (a decompression bomb?). Resize it first."
                    )
                return _decode(image, size, max_side, name)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageLoadError(
                f"{name} is too large to open safely (a decompression bomb?): {exc}"
            ) from None
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{name} is not an image Pillow can read (expected JPEG, PNG, GIF, "
                "WebP, BMP, TIFF…). Is it really a photo?"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            if isinstance(exc, ImageLoadError):
                raise
            raise ImageLoadError(
                f"{name} could not be decoded; it may be truncated or corrupted "
                f"({type(exc).__name__}: {exc})."
            ) from None
