"""Tests for cifar_helpers.predict: robust photo loading and single-photo prediction.

Every test image is made here with Pillow, in pytest's tmp_path.
"""

import io
import re
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cifar_helpers.data import CLASS_NAMES
from cifar_helpers.metrics import per_class_accuracy
from cifar_helpers.photos import ImageLoadError, load_image, photo_path, prepare_image
from cifar_helpers.predict import (
    predict_classes,
    predict_image,
    predict_probabilities,
    predict_tta,
)

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 160, 0)


def _save(image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def _halves(width, height, top, bottom):
    """A width x height RGB image: `top` colour above `bottom` colour."""
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[: height // 2] = top
    pixels[height // 2 :] = bottom
    return Image.fromarray(pixels)


def _close(pixel, colour, tolerance=40):
    return np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tolerance)


# --- load_image: formats and modes ------------------------------------------------------


def test_jpeg_exif_rotation_is_applied(tmp_path):
    # Stored landscape 64 x 32: red on top, blue below. EXIF orientation 6 says
    # "rotate 90 degrees clockwise to view": the viewer sees blue left, red right.
    stored = _halves(64, 32, RED, BLUE)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(stored, tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    expected = np.rot90(np.asarray(stored), k=-1)  # clockwise, by hand
    assert expected.shape == (64, 32, 3)
    image = load_image(path)
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert _close(image[16, 2], expected[32, 2]) and _close(image[16, 2], BLUE)
    assert _close(image[16, 29], expected[32, 29]) and _close(image[16, 29], RED)


def test_without_exif_the_same_pixels_stay_landscape(tmp_path):
    path = _save(_halves(64, 32, RED, BLUE), tmp_path / "plain.jpg", quality=95)
    image = load_image(path)
    assert _close(image[2, 16], RED) and _close(image[29, 16], BLUE)


def test_grayscale_png_becomes_three_equal_channels(tmp_path):
    gray = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (32, 1))
    path = _save(Image.fromarray(gray, mode="L"), tmp_path / "gray.png")
    image = load_image(path)
    assert image.shape == (32, 32, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    np.testing.assert_allclose(image[..., 0], gray, atol=2)


def test_rgba_png_transparent_pixels_become_white(tmp_path):
    pixels = np.zeros((32, 32, 4), dtype=np.uint8)
    pixels[:, :16] = (*RED, 255)  # opaque red left half
    pixels[:, 16:] = (0, 0, 0, 0)  # fully transparent (black underneath) right half
    path = _save(Image.fromarray(pixels, mode="RGBA"), tmp_path / "rgba.png")
    image = load_image(path)
    np.testing.assert_array_equal(image[:, :14], np.broadcast_to(RED, (32, 14, 3)))
    np.testing.assert_array_equal(image[:, 18:], np.full((32, 14, 3), 255))


def test_palette_gif_keeps_its_colours(tmp_path):
    palette_image = Image.new("P", (32, 32))
    palette_image.putpalette([*RED, *GREEN, *BLUE] + [0] * (256 - 3) * 3)
    indices = np.zeros((32, 32), dtype=np.uint8)
    indices[:, 11:22], indices[:, 22:] = 1, 2
    palette_image.putdata(indices.ravel().tolist())
    path = _save(palette_image, tmp_path / "palette.gif")
    image = load_image(path)
    np.testing.assert_array_equal(image[:, :9], np.broadcast_to(RED, (32, 9, 3)))
    np.testing.assert_array_equal(image[:, 13:20], np.broadcast_to(GREEN, (32, 7, 3)))
    np.testing.assert_array_equal(image[:, 24:], np.broadcast_to(BLUE, (32, 8, 3)))


def test_palette_with_transparency_becomes_white(tmp_path):
    palette_image = Image.new("P", (32, 32), 1)
    palette_image.putpalette([*RED, 0, 0, 0] + [0] * 254 * 3)
    path = _save(palette_image, tmp_path / "transparent.gif", transparency=1)
    np.testing.assert_array_equal(load_image(path), np.full((32, 32, 3), 255))


@pytest.mark.parametrize("value, expected", [(0, 0), (32896, 128), (65535, 255)])
def test_16_bit_png_is_scaled_to_8_bits(tmp_path, value, expected):
    image16 = Image.new("I;16", (32, 32), value)
    path = _save(image16, tmp_path / "deep.png")
    assert Image.open(path).mode == "I;16"
    np.testing.assert_array_equal(load_image(path), np.full((32, 32, 3), expected))


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path):
    path = _save(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(path).mode == "CMYK"
    image = load_image(path)
    assert image.shape == (32, 32, 3)
    assert _close(image[16, 16], RED, tolerance=30)


@pytest.mark.parametrize("extension", ["webp", "bmp", "tiff"])
def test_other_formats(tmp_path, extension):
    path = _save(Image.new("RGB", (48, 40), BLUE), tmp_path / f"photo.{extension}")
    assert _close(load_image(path)[16, 16], BLUE, tolerance=10)


# --- load_image: geometry ----------------------------------------------------------------


def test_centre_crop_keeps_the_middle_square(tmp_path):
    pixels = np.zeros((40, 120, 3), dtype=np.uint8)
    pixels[:] = BLUE
    pixels[:, 40:80] = RED  # the centred 40 x 40 square
    image = load_image(_save(Image.fromarray(pixels), tmp_path / "wide.png"))
    np.testing.assert_array_equal(image, np.broadcast_to(RED, (32, 32, 3)))


def test_non_square_size_crops_to_its_aspect_ratio(tmp_path):
    pixels = np.zeros((100, 100, 3), dtype=np.uint8)
    pixels[:] = BLUE
    pixels[25:75] = RED  # the centred 50-row band has the aspect ratio of (16, 32)
    image = load_image(_save(Image.fromarray(pixels), tmp_path / "square.png"), size=(16, 32))
    assert image.shape == (16, 32, 3)
    np.testing.assert_array_equal(image, np.broadcast_to(RED, (16, 32, 3)))


def test_downsizing_is_antialiased(tmp_path):
    # A 1-pixel checkerboard averages to mid-gray; naive subsampling would give 0 or 255.
    rows, cols = np.indices((256, 256))
    board = ((rows + cols) % 2 * 255).astype(np.uint8)
    image = load_image(_save(Image.fromarray(board, mode="L"), tmp_path / "board.png"))
    np.testing.assert_allclose(image, 127.5, atol=3)


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    mode=st.sampled_from(["RGB", "L", "RGBA", "P", "1", "I;16", "CMYK", "LA"]),
)
def test_any_size_and_mode_gives_rgb_uint8(width, height, mode):
    image = prepare_image(Image.new(mode, (width, height)))
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8


def test_prepare_image_does_not_change_its_input():
    original = Image.new("RGBA", (50, 30), (*RED, 0))
    before = original.tobytes()
    prepare_image(original)
    assert original.tobytes() == before and original.mode == "RGBA"


def test_course_photo_loads():
    image = load_image(photo_path("truck_1.jpg"))
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8


# --- load_image: errors ------------------------------------------------------------------


def test_truncated_jpeg_gives_a_clear_error(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, size=(128, 128, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="JPEG", quality=95)
    path = tmp_path / "truncated.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated or corrupted"):
        load_image(path)


def test_text_file_renamed_jpg_gives_a_clear_error(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are my holiday notes, not a photo\n")
    with pytest.raises(ImageLoadError, match="not an image Pillow can read"):
        load_image(path)


def test_empty_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(path)


def _png_claiming_size(path, width, height):
    """A tiny valid 1x1 PNG whose header then claims `width` x `height` (a bomb's header)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("side", [10_000, 100_000])  # over Pillow's warning / error limits
def test_decompression_bomb_is_refused(tmp_path, side):
    path = _png_claiming_size(tmp_path / "bomb.png", side, side)
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        load_image(path)


def _header_only_png(path, width, height, bit_depth=8, colour_type=0):
    """`_png_claiming_size` with another bit depth and colour type (16-bit gray: 16, 0)."""
    _png_claiming_size(path, width, height)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 12 : ihdr + 14] = bytes([bit_depth, colour_type])
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


def test_a_large_16_bit_png_is_refused_with_its_pixel_count(tmp_path):
    # The tester's 9400 x 9400 16-bit PNG (172 kB) took 10-12 s and 2.4 GB to load.
    path = _header_only_png(tmp_path / "big16.png", 9400, 9400, bit_depth=16)
    assert Image.open(path).mode == "I;16"
    with pytest.raises(ImageLoadError, match=r"'big16.png' is 9400 x 9400 = 88,360,000 pixels; "
                       r"a PNG image is decoded at full size.* at most 40,000,000 pixels"):
        load_image(path)


@pytest.mark.parametrize(
    "name, save, loads",
    [
        ("wide.png", {}, False),                                   # 200 x 100 > 10,000
        ("big.jpg", {"quality": 90}, True),                        # JPEG: decoded at 1/8
        ("progressive.jpg", {"progressive": True, "subsampling": 0}, False),
        ("small.webp", {}, False),                                 # WebP: a quarter of it
    ],
)
def test_max_decode_pixels_by_format(tmp_path, monkeypatch, name, save, loads):
    from cifar_helpers import photos

    monkeypatch.setattr(photos, "MAX_DECODE_PIXELS", 10_000)
    size = (200, 100) if name == "wide.png" else (60, 60) if name == "small.webp" else (400, 400)
    path = _save(Image.new("RGB", size, RED), tmp_path / name, **save)
    if loads:
        assert load_image(path).shape == (32, 32, 3)
    else:
        with pytest.raises(ImageLoadError, match=f"'{name}' is {size[0]} x {size[1]} = "
                           f"{size[0] * size[1]:,} pixels"):
            load_image(path)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "LA", "I;16", "1"])
def test_a_large_photo_shrunk_first_matches_a_direct_resize(tmp_path, mode):
    rows, cols = np.mgrid[0:900, 0:1200]
    ramp = ((rows + cols) * 255 // 2100).astype(np.uint8)
    image = Image.fromarray(np.dstack([ramp, ramp[::-1], 255 - ramp]))
    if mode == "I;16":
        image = Image.fromarray(ramp.astype(np.uint16) * 257)
    elif mode != "RGB":
        image = image.convert(mode)
    path = _save(image, tmp_path / "large.png")
    for size in [(32, 32), (20, 40)]:
        direct = prepare_image(Image.open(path), size).astype(int)
        shrunk = load_image(path, size).astype(int)  # reduced by a whole factor first
        assert np.abs(shrunk - direct).mean() < 2.0 and np.abs(shrunk - direct).max() < 40
    assert max(load_image(path, size=None, max_side=100).shape) == 100


def test_16_bit_pixels_convert_in_strips_like_the_formula(tmp_path):
    values = np.random.default_rng(0).integers(0, 65536, size=(700, 9), dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "tall.png")
    from cifar_helpers.photos import _to_gray8

    expected = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(_to_gray8(Image.open(path))), expected)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image(tmp_path / "nowhere.jpg")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="is a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("size", [(32,), (0, 32), (32.0, 32), "32x32", (32, -1)])
def test_bad_size(tmp_path, size):
    path = _save(Image.new("RGB", (8, 8)), tmp_path / "small.png")
    with pytest.raises(ValueError, match="`size` must be a pair of positive ints"):
        load_image(path, size=size)


# --- predictions -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_model():
    import keras

    from cifar_helpers.models import build_seed_model

    keras.utils.set_random_seed(0)
    return build_seed_model()


@pytest.fixture(scope="module")
def test_images():
    return np.random.default_rng(1).integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)


def test_predict_image_returns_ten_probabilities_summing_to_one(seed_model, test_images):
    guesses = predict_image(seed_model, test_images[0], top_k=None)
    assert len(guesses) == 10
    assert sorted(name for name, _ in guesses) == sorted(CLASS_NAMES)
    probabilities = [p for _, p in guesses]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0 <= p <= 1 for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)


def test_predict_image_matches_model_predict_with_scaling(seed_model, test_images):
    reference = seed_model.predict(test_images[:1].astype("float32") / 255.0, verbose=0)[0]
    guesses = dict(predict_image(seed_model, test_images[0], top_k=10))
    for index, name in enumerate(CLASS_NAMES):
        assert guesses[name] == pytest.approx(float(reference[index]), abs=1e-5)


@pytest.mark.parametrize("top_k", [1, 3, 10])
def test_predict_image_top_k(seed_model, test_images, top_k):
    full = predict_image(seed_model, test_images[1], top_k=None)
    assert predict_image(seed_model, test_images[1], top_k=top_k) == full[:top_k]


def test_predict_image_from_a_path_and_a_pil_image(seed_model, tmp_path, test_images):
    path = _save(Image.fromarray(test_images[2]), tmp_path / "photo.png")
    from_array = predict_image(seed_model, test_images[2])
    assert predict_image(seed_model, path) == from_array
    assert predict_image(seed_model, str(path)) == from_array
    assert predict_image(seed_model, Image.open(path)) == from_array


def test_predict_image_resizes_a_large_array(seed_model):
    big = np.full((300, 200, 3), 90, dtype=np.uint8)
    assert predict_image(seed_model, big) == predict_image(
        seed_model, np.full((32, 32, 3), 90, dtype=np.uint8)
    )


@pytest.mark.parametrize("top_k", [0, 11, "3", 2.0])
def test_predict_image_bad_top_k(seed_model, test_images, top_k):
    with pytest.raises(ValueError, match="`top_k` must be an int from 1 to 10"):
        predict_image(seed_model, test_images[0], top_k=top_k)


@pytest.mark.parametrize(
    "image, error, message",
    [
        (np.zeros((32, 32), dtype=np.uint8), ValueError, r"\(H, W, 3\) array .*grayscale"),
        (np.zeros((32, 32, 4), dtype=np.uint8), ValueError, r"\(H, W, 3\) array .*\(32, 32, 4\)"),
        (np.zeros((0, 0, 3), dtype=np.uint8), ValueError, r"H and W at least 1.*\(0, 0, 3\)"),
        (np.zeros((32, 32, 3), dtype=np.uint16), ValueError, "uint8 pixels .* dtype uint16"),
        (np.full((32, 32, 3), 2.0), ValueError, "floats in \\[0, 1\\].* from 2 to 2"),
        (np.full((32, 32, 3), np.nan), ValueError, "1024 NaN|3072 NaN"),
        (np.full((40, 40, 3), np.inf), ValueError, "4800 infinite"),
        (None, TypeError, "must be a file path, a PIL image .* Received NoneType"),
        (3, TypeError, "Received int"),
    ],
)
def test_predict_image_bad_array(seed_model, image, error, message):
    with pytest.raises(error, match=message):
        predict_image(seed_model, image)


@pytest.mark.parametrize("shape", [(32, 32, 3), (48, 40, 3)])
def test_predict_image_takes_floats_in_0_1_like_uint8(seed_model, shape):
    pixels = np.random.default_rng(2).integers(0, 256, size=shape, dtype=np.uint8)
    from_uint8 = dict(predict_image(seed_model, pixels, top_k=None))
    from_floats = dict(predict_image(seed_model, pixels / 255.0, top_k=None))
    for name, probability in from_uint8.items():
        assert from_floats[name] == pytest.approx(probability, abs=1e-6)


def test_predict_checks_the_model_input_size_before_keras(test_images):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match=r"model's input shape \(N, 64, 64, 3\)\. Received "
                       r"images\.shape=\(4, 32, 32, 3\)"):
        predict_probabilities(model, test_images[:4])
    with pytest.raises(ValueError, match=r"model's input shape"):
        predict_tta(model, test_images[:4])
    gray = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match=r"must take RGB images .*\(None, 32, 32, 1\)"):
        predict_image(gray, test_images[0])


def test_predict_image_wrong_class_names(seed_model, test_images):
    with pytest.raises(ValueError, match="returns 10 outputs but `class_names` has 2"):
        predict_image(seed_model, test_images[0], class_names=["cat", "dog"])


def test_predict_image_missing_file(seed_model, tmp_path):
    with pytest.raises(FileNotFoundError):
        predict_image(seed_model, tmp_path / "missing.jpg")


def test_predict_classes_and_probabilities(seed_model, test_images):
    probabilities = predict_probabilities(seed_model, test_images)
    reference = seed_model.predict(test_images.astype("float32") / 255.0, verbose=0)
    np.testing.assert_allclose(probabilities, reference, atol=1e-6)
    np.testing.assert_array_equal(
        predict_classes(seed_model, test_images), np.argmax(reference, axis=1)
    )
    with pytest.raises(ValueError, match=r"shape \(N, H, W, C\)"):
        predict_probabilities(seed_model, test_images[0])


@pytest.mark.parametrize("batch_size", [1, 4, 6, 100])
def test_batched_predictions_match_model_predict_for_any_batch_size(seed_model, test_images,
                                                                    batch_size):
    # 6 images: batches that divide them, that leave a partial batch, and one batch.
    reference = seed_model.predict(test_images.astype("float32") / 255.0, verbose=0)
    np.testing.assert_allclose(predict_probabilities(seed_model, test_images, batch_size),
                               reference, atol=1e-6)
    tta = predict_tta(seed_model, test_images, batch_size=batch_size)
    np.testing.assert_allclose(tta, predict_tta(seed_model, test_images, batch_size=1000),
                               atol=1e-6)


def test_batched_predictions_trace_at_most_twice_and_leave_keras_predict_alone(test_images):
    # Keras' predict function traced once per batch shape and, shared with the
    # notebook's own model.predict calls, printed TensorFlow's retracing warning.
    import keras

    from cifar_helpers.models import build_seed_model
    from cifar_helpers.predict import _predict_function

    keras.utils.set_random_seed(0)
    model = build_seed_model()
    for batch_size in (4, 5, 6, 1000):
        predict_probabilities(model, test_images, batch_size)
    predict_tta(model, test_images[:5], batch_size=2)
    assert model.predict_function is None
    assert _predict_function(model).experimental_get_tracing_count() <= 2


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "8", True])
def test_bad_batch_size_is_refused(seed_model, test_images, batch_size):
    with pytest.raises(ValueError, match=rf"`batch_size` must be a positive int\. Received "
                       rf"{re.escape(repr(batch_size))}"):
        predict_probabilities(seed_model, test_images, batch_size)
    with pytest.raises(ValueError, match="`batch_size` must be a positive int"):
        predict_tta(seed_model, test_images, batch_size=batch_size)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60)
)
def test_per_class_accuracy_is_sklearn_recall(pairs):
    from sklearn.metrics import recall_score

    y_true, y_pred = np.array(pairs).T
    present = np.unique(y_true)
    expected = recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    result = per_class_accuracy(y_true, y_pred, num_classes=5)
    np.testing.assert_allclose(result[present], expected)
    assert np.all(np.isnan(np.delete(result, present)))


def test_per_class_accuracy_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        per_class_accuracy([0, 1], [0])


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, message",
    [
        ([12, 0], [12, 0], {}, r"`y_true` must lie in 0\.\.9 for num_classes=10\. Received "
         r"values from 0 to 12"),
        ([0, 1], [0, -1], {}, r"`y_pred` must lie in 0\.\.9 .* from -1 to 0"),
        ([0.5, 1.0], [0, 1], {}, r"`y_true` must be integers.*float64.*argmax"),
        ([0, 1], [[0, 1], [1, 0]], {}, r"`y_pred` must have shape \(N,\) or "
         r"\(N, 1\)"),
        ([0, 1], [0, 1], {"num_classes": 0}, r"`num_classes` must be an integer >= 1"),
        ([0, 2], [0, 1], {"num_classes": 2}, r"0\.\.1 for num_classes=2"),
    ],
)
def test_per_class_accuracy_refuses_labels_that_are_not_classes(y_true, y_pred, kwargs,
                                                                 message):
    with pytest.raises(ValueError, match=message):
        per_class_accuracy(y_true, y_pred, **kwargs)


def test_per_class_accuracy_takes_column_labels():
    result = per_class_accuracy(np.array([[0], [1]]), np.array([0, 0]), num_classes=2)
    np.testing.assert_array_equal(result, [1.0, 0.0])
