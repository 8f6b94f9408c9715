"""Data augmentation that is fast on a CPU: whole batches at once, NumPy only.

The fast recipes (notebook 12, ``benchmarks/train_speed.py``) show the network a
slightly different copy of every training image in every epoch:

- `random_crop`: pad each image by a few pixels (reflecting the border) and cut a
  random window of the original size back out, i.e. shift it by up to ``pad``
  pixels up/down and left/right;
- `random_window`: cut a random smaller window out of each image (the fast
  recipes' first epochs train on 24 x 24 windows, which cost half as much);
- `random_flip`: mirror a random half of the images left to right;
- `alternating_flip_mask`: airbench's variant of the flip: a random half in the
  first epoch, then every image flips in every other epoch, so no image is seen
  the same way round twice in a row.

Nothing here loops over images in Python: `random_crop` loops over the
``(2 * pad + 1) ** 2`` possible shifts and moves every image with that shift in one
slice, so a 50,000-image epoch takes about a second or less.
Labels never change. Random draws come from a seeded ``numpy.random.Generator``:
the same seed gives the same batch.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_output_size

__all__ = [
    "alternating_flip_mask",
    "augment_batch",
    "flip_images",
    "random_crop",
    "random_flip",
    "random_window",
    "shift_images",
]


def _check_images(images, name="images"):
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"`{name}` must be a batch of images, shape (N, H, W, C). "
            f"Received shape {images.shape}."
        )
    if not (np.issubdtype(images.dtype, np.number) or images.dtype == np.bool_):
        raise ValueError(f"`{name}` must hold numbers. Received dtype {images.dtype}.")
    return images


def _check_pad(pad, images):
    if not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"`pad` must be an int >= 0. Received pad={pad!r}.")
    if pad >= min(images.shape[1:3]):
        raise ValueError(
            f"`pad` must be smaller than the image side ({min(images.shape[1:3])}) "
            f"for reflect padding. Received pad={pad}."
        )
    _check_padded(images, pad, pad, "random_crop")


def _check_padded(images, pad_rows, pad_cols, function):
    """Refuse a padded copy larger than MAX_OUTPUT_BYTES before making it."""
    n, height, width, channels = images.shape
    shape = (n, height + 2 * pad_rows, width + 2 * pad_cols, channels)
    check_output_size(shape, images.dtype.itemsize, f"{function}'s padded batch")


def _generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def flip_images(images):
    """Mirror every image left to right (reverse the width axis).

    Examples
    --------
    >>> flip_images(np.arange(6).reshape(1, 1, 6, 1))[0, 0, :, 0]
    array([5, 4, 3, 2, 1, 0])
    """
    return _check_images(images)[:, :, ::-1, :]


def shift_images(images, dy, dx, mode="reflect"):
    """Every image moved by the same ``(dy, dx)`` pixels, keeping its size.

    A positive `dy` moves the content down, a positive `dx` right; the strip that
    comes in is the border reflected (``mode="reflect"``, as in the fast recipes)
    or zeros (``mode="constant"``).

    Examples
    --------
    >>> row = np.arange(5).reshape(1, 1, 5, 1)
    >>> shift_images(row, 0, 1)[0, 0, :, 0]
    array([1, 0, 1, 2, 3])
    >>> shift_images(row, 0, -2, mode="constant")[0, 0, :, 0]
    array([2, 3, 4, 0, 0])
    """
    images = _check_images(images)
    for name, value in (("dy", dy), ("dx", dx)):
        if not isinstance(value, (int, np.integer)):
            raise ValueError(f"`{name}` must be an int. Received {name}={value!r}.")
    if mode not in ("reflect", "constant"):
        raise ValueError(f"`mode` must be 'reflect' or 'constant'. Received mode={mode!r}.")
    height, width = images.shape[1:3]
    if abs(dy) >= height or abs(dx) >= width:
        raise ValueError(
            f"A shift must be smaller than the image: |dy| < {height}, |dx| < {width}. "
            f"Received dy={dy}, dx={dx}."
        )
    pad_y, pad_x = abs(dy), abs(dx)
    _check_padded(images, pad_y, pad_x, "shift_images")
    padded = np.pad(images, ((0, 0), (pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode=mode)
    top, left = pad_y - dy, pad_x - dx
    return padded[:, top:top + height, left:left + width, :].copy()


def _cut(images, tops, lefts, height, width):
    """Image ``i`` cut at ``(tops[i], lefts[i])`` to `height` x `width`, one slice per corner."""
    out = np.empty((len(images), height, width) + images.shape[3:], dtype=images.dtype)
    for top in np.unique(tops):
        for left in np.unique(lefts):
            chosen = np.flatnonzero((tops == top) & (lefts == left))
            if chosen.size:
                out[chosen] = images[chosen, top:top + height, left:left + width, :]
    return out


def random_crop(images, pad=2, seed=None):
    """Random translations by up to `pad` pixels: pad (reflect), then crop back.

    Parameters
    ----------
    images : (N, H, W, C) ndarray
        Any numeric dtype; the result has the same dtype and shape.
    pad : int
        The largest shift, in pixels, along each axis; 0 returns a copy.
    seed : int, numpy.random.Generator or None
        Where the shifts come from; the same int gives the same crops.

    Returns
    -------
    (N, H, W, C) ndarray
        Image ``i`` is its padded copy cut at a random corner ``(top, left)``,
        each uniform in ``0..2 * pad``.

    Examples
    --------
    >>> batch = np.zeros((4, 8, 8, 3), dtype=np.uint8)
    >>> random_crop(batch, pad=2, seed=0).shape
    (4, 8, 8, 3)
    """
    images = _check_images(images)
    _check_pad(pad, images)
    if pad == 0:
        return images.copy()
    rng = _generator(seed)
    n, height, width = images.shape[:3]
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    tops = rng.integers(0, 2 * pad + 1, size=n)
    lefts = rng.integers(0, 2 * pad + 1, size=n)
    return _cut(padded, tops, lefts, height, width)


def random_window(images, size, seed=None):
    """A random `size` x `size` window of each image (no padding).

    Parameters
    ----------
    images : (N, H, W, C) ndarray
        Any numeric dtype; the result has the same dtype.
    size : int
        The window's side, from 1 to ``min(H, W)``.
    seed : int, numpy.random.Generator or None
        Where the corners come from; the same int gives the same windows.

    Returns
    -------
    (N, size, size, C) ndarray
        Image ``i`` cut at a random corner ``(top, left)``, each uniform in
        ``0..H - size`` and ``0..W - size``.

    Examples
    --------
    >>> batch = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1)
    >>> random_window(batch, 4)[..., 0].shape          # the whole image: nothing to choose
    (2, 4, 4)
    >>> window = random_window(batch, 2, seed=0)[0, ..., 0]
    >>> int(window[1, 0] - window[0, 0]), int(window[0, 1] - window[0, 0])   # still a block
    (4, 1)
    """
    images = _check_images(images)
    height, width = images.shape[1:3]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) \
            or not 1 <= size <= min(height, width):
        raise ValueError(
            f"`size` must be an int from 1 to {min(height, width)} (the image's shorter "
            f"side). Received size={size!r}."
        )
    rng = _generator(seed)
    n = len(images)
    tops = rng.integers(0, height - size + 1, size=n)
    lefts = rng.integers(0, width - size + 1, size=n)
    return _cut(images, tops, lefts, size, size)


def random_flip(images, seed=None, mask=None):
    """Mirror a random half of the images left to right (or those in `mask`).

    Parameters
    ----------
    images : (N, H, W, C) ndarray
    seed : int, numpy.random.Generator or None
        Where the coin flips come from, when `mask` is not given.
    mask : (N,) bool ndarray, optional
        Which images to mirror (see `alternating_flip_mask`).

    Examples
    --------
    >>> batch = np.arange(8).reshape(2, 1, 4, 1)
    >>> random_flip(batch, mask=np.array([True, False]))[:, 0, :, 0]
    array([[3, 2, 1, 0],
           [4, 5, 6, 7]])
    """
    images = _check_images(images)
    if mask is None:
        mask = _generator(seed).random(len(images)) < 0.5
    mask = np.asarray(mask)
    if mask.shape != (len(images),) or mask.dtype != np.bool_:
        raise ValueError(
            f"`mask` must be a bool array of shape ({len(images)},), one per image. "
            f"Received dtype {mask.dtype}, shape {mask.shape}."
        )
    check_output_size(images.shape, images.dtype.itemsize, "random_flip's result")
    out = images.copy()
    out[mask] = images[mask][:, :, ::-1, :]
    return out


def alternating_flip_mask(n, epoch, seed=0):
    """Which of `n` images to mirror in `epoch`: random first, then alternating.

    Epoch 0 mirrors a random half (fixed by `seed`); every later epoch mirrors
    exactly the images the previous epoch did not. Over any two consecutive
    epochs each image is seen once each way round.

    Examples
    --------
    >>> first = alternating_flip_mask(6, 0, seed=1)
    >>> bool((alternating_flip_mask(6, 1, seed=1) == ~first).all())
    True
    >>> bool((alternating_flip_mask(6, 2, seed=1) == first).all())
    True
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"`n` must be an int >= 0. Received n={n!r}.")
    if not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"`epoch` must be an int >= 0. Received epoch={epoch!r}.")
    first = np.random.default_rng(seed).random(n) < 0.5
    return first if epoch % 2 == 0 else ~first


def augment_batch(images, pad=2, flip=True, seed=None, flip_mask=None):
    """`random_crop` then `random_flip`: one epoch's view of the training images.

    Parameters
    ----------
    images : (N, H, W, C) ndarray
    pad : int
        Largest shift for `random_crop`; 0 turns cropping off.
    flip : bool
        Mirror a random half (or `flip_mask`); False turns flipping off.
    seed : int, numpy.random.Generator or None
        One generator drives both steps, so the same int gives the same batch.
    flip_mask : (N,) bool ndarray, optional
        Passed to `random_flip` instead of drawing coins.

    Examples
    --------
    >>> batch = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    >>> bool((augment_batch(batch, seed=3) == augment_batch(batch, seed=3)).all())
    True
    """
    rng = _generator(seed)
    out = random_crop(images, pad=pad, seed=rng) if pad else _check_images(images).copy()
    if flip:
        out = random_flip(out, seed=rng, mask=flip_mask)
    return out
