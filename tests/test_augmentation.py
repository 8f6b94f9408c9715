"""Tests for cifar_helpers.augmentation, against SciPy's shifts and hand-made answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from cifar_helpers.augmentation import (
    alternating_flip_mask,
    augment_batch,
    flip_images,
    random_crop,
    random_flip,
    shift_images,
)


def _batch(n=16, size=8, channels=3, seed=0, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels)).astype(dtype)


def _scipy_shift(image, dy, dx):
    # SciPy's "mirror" mode reflects about the edge pixel (d c b | a b c d | c b a),
    # which is NumPy's "reflect" padding.
    return ndimage.shift(image, (dy, dx, 0), order=0, mode="mirror")


# --- flips ---------------------------------------------------------------------------

def test_flip_images_mirrors_columns():
    batch = _batch()
    flipped = flip_images(batch)
    width = batch.shape[2]
    for column in range(width):
        np.testing.assert_array_equal(flipped[:, :, column], batch[:, :, width - 1 - column])
    np.testing.assert_array_equal(flip_images(flipped), batch)


def test_random_flip_mirrors_exactly_the_masked_images():
    batch = _batch()
    mask = np.arange(16) % 3 == 0
    out = random_flip(batch, mask=mask)
    np.testing.assert_array_equal(out[mask], batch[mask][:, :, ::-1])
    np.testing.assert_array_equal(out[~mask], batch[~mask])
    assert out.dtype == batch.dtype and out.shape == batch.shape


def test_random_flip_flips_about_half_and_each_image_is_itself_or_its_mirror():
    batch = _batch(n=2000, size=4)
    out = random_flip(batch, seed=1)
    same = (out == batch).all(axis=(1, 2, 3))
    mirrored = (out == batch[:, :, ::-1]).all(axis=(1, 2, 3))
    assert (same | mirrored).all()
    assert 0.45 < mirrored.mean() < 0.55


def test_random_flip_does_not_change_its_input():
    batch = _batch()
    before = batch.copy()
    random_flip(batch, seed=0)
    np.testing.assert_array_equal(batch, before)


def test_alternating_flip_mask_alternates_and_is_half():
    first = alternating_flip_mask(1000, 0, seed=3)
    assert 0.45 < first.mean() < 0.55
    for epoch in range(1, 5):
        mask = alternating_flip_mask(1000, epoch, seed=3)
        np.testing.assert_array_equal(mask, first if epoch % 2 == 0 else ~first)
    assert not (alternating_flip_mask(1000, 0, seed=4) == first).all()


# --- shifts and crops ----------------------------------------------------------------

@pytest.mark.parametrize("dy, dx", [(0, 1), (1, 0), (2, -1), (-2, -2), (1, 2)])
def test_shift_images_matches_scipy_mirror_shift(dy, dx):
    batch = _batch(n=3, size=7)
    shifted = shift_images(batch, dy, dx)
    for image, out in zip(batch, shifted, strict=True):
        np.testing.assert_array_equal(out, _scipy_shift(image, dy, dx))


def test_shift_images_constant_mode_fills_zeros():
    batch = _batch(n=2, size=6)
    out = shift_images(batch, 2, 0, mode="constant")
    assert (out[:, :2] == 0).all()
    np.testing.assert_array_equal(out[:, 2:], batch[:, :-2])


def test_random_crop_each_image_is_a_shift_of_at_most_pad():
    batch = _batch(n=200, size=8)
    pad = 2
    out = random_crop(batch, pad=pad, seed=0)
    seen = set()
    for image, crop in zip(batch, out, strict=True):
        matches = [(dy, dx) for dy in range(-pad, pad + 1) for dx in range(-pad, pad + 1)
                   if (crop == _scipy_shift(image, dy, dx)).all()]
        assert matches, "a crop is not a reflect-shift of its image by at most `pad`"
        seen.update(matches)
    assert len(seen) == (2 * pad + 1) ** 2  # every shift occurs in 200 images


def test_random_crop_keeps_the_centre_content():
    # The centre (H - 2 pad) x (W - 2 pad) block of the image is inside every crop.
    batch = _batch(n=50, size=10)
    out = random_crop(batch, pad=2, seed=5)
    centre = batch[:, 2:8, 2:8]
    for image_centre, crop in zip(centre, out, strict=True):
        windows = np.lib.stride_tricks.sliding_window_view(crop, (6, 6), axis=(0, 1))
        found = (windows.transpose(0, 1, 3, 4, 2) == image_centre).all(axis=(2, 3, 4))
        assert found.any()


def test_random_crop_offsets_are_uniform():
    batch = np.arange(5000, dtype=np.float32).reshape(5000, 1, 1, 1) * np.ones((1, 9, 9, 1))
    batch[:, 4, 4, 0] = -1  # a marker pixel; find where it lands
    out = random_crop(batch, pad=1, seed=2)
    positions = np.array([np.argwhere(image[..., 0] == -1)[0] for image in out])
    counts = np.zeros((3, 3))
    for row, col in positions:
        counts[row - 3, col - 3] += 1
    assert counts.sum() == 5000  # exactly one marker in every crop
    assert counts.min() > 5000 / 9 * 0.8 and counts.max() < 5000 / 9 * 1.2


def test_random_crop_pad_zero_is_identity_copy():
    batch = _batch()
    out = random_crop(batch, pad=0, seed=0)
    np.testing.assert_array_equal(out, batch)
    assert out is not batch


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 6), size=st.integers(4, 9), channels=st.integers(1, 3),
    pad=st.integers(0, 3), seed=st.integers(0, 2**16),
)
def test_augment_batch_shape_dtype_and_reproducibility(n, size, channels, pad, seed):
    batch = _batch(n, size, channels, seed=seed)
    out = augment_batch(batch, pad=pad, seed=seed)
    assert out.shape == batch.shape and out.dtype == batch.dtype
    np.testing.assert_array_equal(out, augment_batch(batch, pad=pad, seed=seed))
    # Augmentation only moves pixels: every output value comes from its image.
    for image, aug in zip(batch, out, strict=True):
        assert set(np.unique(aug)) <= set(np.unique(image))


def test_augment_batch_different_seeds_differ():
    batch = _batch(n=64)
    assert not (augment_batch(batch, seed=0) == augment_batch(batch, seed=1)).all()


def test_augment_batch_with_everything_off_is_a_copy():
    batch = _batch()
    np.testing.assert_array_equal(augment_batch(batch, pad=0, flip=False), batch)


def test_augment_batch_uses_the_flip_mask():
    batch = _batch(n=4, size=8)
    mask = np.array([True, True, True, True])
    out = augment_batch(batch, pad=0, flip=True, flip_mask=mask)
    np.testing.assert_array_equal(out, batch[:, :, ::-1])


# --- errors --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: random_crop(np.zeros((4, 4, 3))), r"\(N, H, W, C\)"),
        (lambda: random_crop(np.zeros((1, 4, 4, 3)), pad=-1), "pad"),
        (lambda: random_crop(np.zeros((1, 4, 4, 3)), pad=4), "smaller than the image side"),
        (lambda: random_crop(np.zeros((1, 4, 4, 3)), pad=1.5), "pad"),
        (lambda: random_flip(np.zeros((2, 4, 4, 3)), mask=np.array([True])), "one per image"),
        (lambda: random_flip(np.zeros((2, 4, 4, 3)), mask=np.array([1, 0])), "bool"),
        (lambda: random_flip(np.array([["a"]] * 4).reshape(1, 2, 2, 1)), "numbers"),
        (lambda: shift_images(np.zeros((1, 4, 4, 1)), 1, 0, mode="wrap"), "mode"),
        (lambda: shift_images(np.zeros((1, 4, 4, 1)), 0.5, 0), "dy"),
        (lambda: alternating_flip_mask(-1, 0), "n"),
        (lambda: alternating_flip_mask(3, -1), "epoch"),
    ],
)
def test_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
