"""Progressive resizing and mixed precision in the fast recipes.

random_window (against NumPy slicing found by brute force), build_fast_model on images
of any size and in mixed_bfloat16, FastConfig's new fields, with_epochs,
resolved_dtype_policy, native_bfloat16, and train_fast with both ideas switched on.
"""

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cifar_helpers import recipes
from cifar_helpers.augmentation import random_window
from cifar_helpers.environment import native_bfloat16
from cifar_helpers.models import FAST_MODEL_NAME, build_fast_model
from cifar_helpers.recipes import (
    FastConfig,
    build_model_for,
    resolved_dtype_policy,
    train_fast,
    with_epochs,
)

keras = pytest.importorskip("keras")

SMALL = (8, 16, 16)


def _distinct_batch(n, height, width, channels=2, dtype=np.int64):
    """Every pixel value distinct, so a window's top-left value tells where it was cut."""
    return np.arange(n * height * width * channels, dtype=dtype).reshape(n, height, width,
                                                                         channels)


def _corners(images, windows):
    """For each image, every (top, left) whose slice equals its window (brute force)."""
    size = windows.shape[1]
    height, width = images.shape[1:3]
    found = []
    for image, window in zip(images, windows, strict=True):
        found.append([(top, left)
                      for top in range(height - size + 1)
                      for left in range(width - size + 1)
                      if np.array_equal(image[top:top + size, left:left + size], window)])
    return found


# --- random_window ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.int64])
def test_random_window_shape_and_dtype(dtype):
    images = np.random.default_rng(0).integers(0, 200, (5, 9, 7, 3)).astype(dtype)
    windows = random_window(images, 4, seed=0)
    assert windows.shape == (5, 4, 4, 3)
    assert windows.dtype == images.dtype


@pytest.mark.parametrize("shape, size", [((40, 6, 6, 2), 4), ((40, 5, 8, 1), 3),
                                         ((20, 4, 4, 3), 1), ((10, 7, 5, 2), 5)])
def test_every_window_is_a_slice_of_its_own_image(shape, size):
    images = _distinct_batch(*shape)
    windows = random_window(images, size, seed=1)
    for i, corners in enumerate(_corners(images, windows)):
        assert len(corners) == 1, f"image {i}: window found at {corners}"
        # The window is a slice of image i, not of any other image.
        top, left = corners[0]
        np.testing.assert_array_equal(windows[i], images[i, top:top + size, left:left + size])


def test_window_of_the_whole_image_is_the_image():
    images = _distinct_batch(3, 5, 5)
    np.testing.assert_array_equal(random_window(images, 5, seed=2), images)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), height=st.integers(1, 7), width=st.integers(1, 7),
       data=st.data())
def test_windows_are_slices_for_any_shape(n, height, width, data):
    size = data.draw(st.integers(1, min(height, width)))
    seed = data.draw(st.integers(0, 2**32 - 1))
    images = _distinct_batch(n, height, width, channels=1)
    windows = random_window(images, size, seed=seed)
    assert windows.shape == (n, size, size, 1)
    assert all(len(corners) == 1 for corners in _corners(images, windows))


def test_same_seed_same_windows_and_other_seed_other_windows():
    images = _distinct_batch(64, 8, 8)
    first = random_window(images, 5, seed=7)
    np.testing.assert_array_equal(first, random_window(images, 5, seed=7))
    # 16 corners for each of 64 images: two seeds agreeing everywhere is (1/16)**64.
    assert not np.array_equal(first, random_window(images, 5, seed=8))


def test_a_generator_is_used_and_advanced():
    images = _distinct_batch(32, 6, 6)
    rng = np.random.default_rng(3)
    first = random_window(images, 3, seed=rng)
    second = random_window(images, 3, seed=rng)
    assert not np.array_equal(first, second)  # the generator moved on
    again = np.random.default_rng(3)
    np.testing.assert_array_equal(first, random_window(images, 3, seed=again))
    np.testing.assert_array_equal(second, random_window(images, 3, seed=again))


def test_every_corner_occurs_about_equally_often():
    images = _distinct_batch(900, 6, 5, channels=1)  # size 3: tops 0..3, lefts 0..2
    windows = random_window(images, 3, seed=0)
    corners = [c[0] for c in _corners(images, windows)]
    counts = {corner: corners.count(corner) for corner in set(corners)}
    assert set(counts) == {(top, left) for top in range(4) for left in range(3)}
    # 12 corners, 75 expected each; a uniform draw stays well within 40..110.
    assert all(40 <= count <= 110 for count in counts.values()), counts


@pytest.mark.parametrize(
    "images, size, expected, received",
    [
        (np.zeros((2, 4, 4, 1)), 0, "from 1 to 4", "size=0"),
        (np.zeros((2, 4, 6, 1)), 5, "from 1 to 4", "size=5"),
        (np.zeros((2, 4, 4, 1)), 2.0, "an int", "size=2.0"),
        (np.zeros((2, 4, 4, 1)), "2", "an int", "size='2'"),
        (np.zeros((4, 4, 3)), 2, "shape (N, H, W, C)", "shape (4, 4, 3)"),
        (np.zeros((1, 2, 4, 4, 3)), 2, "shape (N, H, W, C)", "shape (1, 2, 4, 4, 3)"),
    ],
)
def test_random_window_errors_name_what_was_expected_and_received(images, size, expected,
                                                                  received):
    with pytest.raises(ValueError) as raised:
        random_window(images, size, seed=0)
    message = str(raised.value)
    assert expected in message and received in message, message


# --- build_fast_model on any image size, and in bfloat16 --------------------------------

@pytest.fixture(scope="module")
def any_size_model():
    keras.utils.set_random_seed(0)
    return build_fast_model(widths=SMALL, input_shape=(None, None, 3))


def test_any_size_model_takes_24_and_32_pixel_batches(any_size_model):
    assert any_size_model.input_shape == (None, None, None, 3)
    assert any_size_model.name == FAST_MODEL_NAME
    rng = np.random.default_rng(0)
    for side in (24, 32):
        probabilities = np.asarray(any_size_model(rng.random((3, side, side, 3), "float32")))
        assert probabilities.shape == (3, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_any_size_model_equals_a_fixed_size_model_with_its_weights(any_size_model):
    keras.utils.set_random_seed(1)  # other initial weights, then overwritten
    fixed = build_fast_model(widths=SMALL, input_shape=(32, 32, 3))
    assert fixed.input_shape == (None, 32, 32, 3)
    fixed.set_weights(any_size_model.get_weights())
    images = np.random.default_rng(2).random((4, 32, 32, 3), "float32")
    np.testing.assert_allclose(np.asarray(fixed(images)), np.asarray(any_size_model(images)),
                               rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError):  # the fixed-size copy refuses other sizes
        fixed(images[:, :24, :24])


def test_fixed_side_too_small_for_the_groups_is_refused():
    with pytest.raises(ValueError, match="too small for 3 conv groups"):
        build_fast_model(widths=SMALL, input_shape=(None, 8, 3))
    build_fast_model(widths=SMALL, input_shape=(None, 9, 3))  # (9 - 1) // 8 = 1 pixel left


@pytest.mark.parametrize("shape", [(None, None, None), (0, 32, 3), (32, 32), (32.0, 32, 3)])
def test_bad_input_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=re.escape(f"Received {shape!r}")):
        build_fast_model(widths=SMALL, input_shape=shape)


def test_mixed_bfloat16_convolutions_compute_in_bfloat16_and_output_float32():
    model = build_fast_model(widths=SMALL, input_shape=(None, None, 3),
                             dtype_policy="mixed_bfloat16")
    convs = [layer for layer in model.layers if layer.name.startswith("group")
             and "conv" in layer.name]
    assert len(convs) == 6
    assert all(layer.compute_dtype == "bfloat16" for layer in convs)
    assert all(layer.kernel.dtype == "float32" for layer in convs)  # weights stay float32
    # The documented float32 parts: input normalisation, stem and softmax.
    for name in ("normalize", "stem", "output"):
        assert model.get_layer(name).compute_dtype == "float32", name
    images = np.random.default_rng(0).random((2, 24, 24, 3), "float32")
    inside = keras.Model(model.input, model.get_layer("group2_conv2").output)
    assert keras.backend.standardize_dtype(inside(images).dtype) == "bfloat16"
    probabilities = model(images)
    assert keras.backend.standardize_dtype(probabilities.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(probabilities).sum(axis=1), 1.0, rtol=1e-5)


# --- FastConfig's new fields, with_epochs, resolved_dtype_policy --------------------------

def test_new_fields_default_to_off_and_float32():
    config = FastConfig()
    assert (config.small_size, config.small_epochs, config.dtype_policy) == (0, 0, "float32")


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"dtype_policy": "bfloat16"}, r"`dtype_policy` must be 'float32', 'mixed_bfloat16' or "
                                       r"'auto'\. Received 'bfloat16'"),
        ({"dtype_policy": None}, r"`dtype_policy` .* Received None"),
        ({"small_size": -1}, r"`small_size` must be an int >= 0\. Received -1"),
        ({"small_size": 24.0, "small_epochs": 1}, r"`small_size` must be an int >= 0\. "
                                                  r"Received 24\.0"),
        ({"small_epochs": -2}, r"`small_epochs` must be an int >= 0\. Received -2"),
        ({"small_size": 24}, r"both `small_size` > 0 and `small_epochs`.*small_size=24, "
                             r"small_epochs=0"),
        ({"small_epochs": 3}, r"small_size=0, small_epochs=3"),
        ({"small_size": 8, "small_epochs": 1}, r"`small_size` must be at least 9 for 3 conv "
                                               r"groups.*Received small_size=8"),
        ({"epochs": 4, "small_size": 24, "small_epochs": 5}, r"from 1 to `epochs` \(4\).*"
                                                             r"small_epochs=5"),
    ],
)
def test_fast_config_refuses_bad_new_fields(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        FastConfig(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"dtype_policy": "auto"},
    {"dtype_policy": "mixed_bfloat16"},
    {"epochs": 4, "small_size": 24, "small_epochs": 4},  # every epoch small is allowed
    {"epochs": 4, "small_size": 16, "small_epochs": 1},
])
def test_fast_config_accepts_good_new_fields(kwargs):
    config = FastConfig(**kwargs)
    assert all(getattr(config, key) == value for key, value in kwargs.items())


@pytest.mark.parametrize(
    "epochs, small, new_epochs, expected",
    [
        (12, 8, 1, 0), (12, 8, 2, 1), (12, 8, 6, 4), (12, 8, 12, 8),  # the docstring's
        (10, 6, 5, 3), (10, 6, 20, 12), (10, 6, 3, 2),  # 1.8 rounds to 2, < 3 - 1
        (4, 4, 4, 3), (4, 4, 8, 7),  # all small: capped so one epoch is full size
        (10, 1, 2, 0),  # 0.2 rounds to 0: no progressive resizing left
    ],
)
def test_with_epochs_known_answers(epochs, small, new_epochs, expected):
    config = FastConfig(epochs=epochs, small_size=24, small_epochs=small, learning_rate=0.5)
    scaled = with_epochs(config, new_epochs)
    assert (scaled.epochs, scaled.small_epochs) == (new_epochs, expected)
    assert scaled.small_size == (24 if expected else 0)  # a valid FastConfig either way
    assert dataclasses.replace(scaled, epochs=epochs, small_epochs=small,
                               small_size=24) == config  # nothing else changed


def test_with_epochs_without_progressive_resizing_only_changes_epochs():
    config = FastConfig(epochs=7, batch_size=256)
    assert with_epochs(config, 3) == dataclasses.replace(config, epochs=3)


@settings(max_examples=200, deadline=None)
@given(epochs=st.integers(1, 40), data=st.data())
def test_with_epochs_keeps_the_small_share_and_a_full_size_epoch(epochs, data):
    small = data.draw(st.integers(1, epochs))
    new_epochs = data.draw(st.integers(1, 60))
    config = FastConfig(epochs=epochs, small_size=20, small_epochs=small)
    scaled = with_epochs(config, new_epochs)
    assert scaled.epochs == new_epochs
    assert (scaled.small_size > 0) == (scaled.small_epochs > 0)
    if new_epochs == 1:
        assert scaled.small_epochs == 0
    else:
        assert 0 <= scaled.small_epochs <= new_epochs - 1
    share = small * new_epochs / epochs  # the same fraction of the new run
    if scaled.small_epochs < new_epochs - 1:
        assert abs(scaled.small_epochs - share) <= 0.5
    else:  # capped: the proportional share was at least (almost) the cap
        assert share >= scaled.small_epochs - 0.5


@pytest.mark.parametrize("epochs", [0, -1, 2.0, "3"])
def test_with_epochs_refuses_bad_epochs(epochs):
    with pytest.raises(ValueError, match=re.escape(f"Received {epochs!r}")):
        with_epochs(FastConfig(), epochs)


@pytest.mark.parametrize(
    "policy, native, expected",
    [
        ("auto", True, "mixed_bfloat16"), ("auto", False, "float32"),
        ("float32", True, "float32"), ("float32", False, "float32"),
        ("mixed_bfloat16", True, "mixed_bfloat16"), ("mixed_bfloat16", False, "mixed_bfloat16"),
    ],
)
def test_resolved_dtype_policy(monkeypatch, policy, native, expected):
    calls = []

    def fake_native(cpuinfo=None):
        calls.append(cpuinfo)
        return native

    monkeypatch.setattr(recipes, "native_bfloat16", fake_native)
    assert resolved_dtype_policy(FastConfig(dtype_policy=policy)) == expected
    assert len(calls) == (1 if policy == "auto" else 0)  # only "auto" asks the CPU


@pytest.fixture(scope="module")
def small_images():
    return np.random.default_rng(5).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("native", [True, False])
def test_build_model_for_training_copy_and_final_copy(monkeypatch, small_images, native):
    monkeypatch.setattr(recipes, "native_bfloat16", lambda cpuinfo=None: native)
    config = FastConfig(widths=SMALL, epochs=2, small_size=24, small_epochs=1,
                        dtype_policy="auto")
    training = build_model_for(config, small_images, training=True)
    assert training.input_shape == (None, None, None, 3)
    compute = "bfloat16" if native else "float32"
    assert training.get_layer("group1_conv1").compute_dtype == compute
    final = build_model_for(config, small_images)
    assert final.input_shape == (None, 32, 32, 3)
    assert {layer.compute_dtype for layer in final.layers} == {"float32"}
    # Both have the same whitening stem, fitted to the same images.
    np.testing.assert_array_equal(training.get_layer("stem").get_weights()[0],
                                  final.get_layer("stem").get_weights()[0])


def test_build_model_for_training_without_progressive_resizing_keeps_the_size(small_images):
    config = FastConfig(widths=SMALL, dtype_policy="mixed_bfloat16")
    training = build_model_for(config, small_images, training=True)
    assert training.input_shape == (None, 32, 32, 3)
    assert training.get_layer("group3_conv2").compute_dtype == "bfloat16"


# --- native_bfloat16 ------------------------------------------------------------------------

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 fma avx512f {extra}
bugs\t\t: spectre_v1

processor\t: 1
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 fma avx512f {extra}
"""


@pytest.mark.parametrize(
    "cpuinfo, expected",
    [
        (CPUINFO.format(extra="avx512_bf16"), True),
        (CPUINFO.format(extra="amx_tile amx_bf16 amx_int8"), True),
        (CPUINFO.format(extra="avx512_vnni avx512bw"), False),
        (CPUINFO.format(extra="avx512_bf16x"), False),  # whole flags, not substrings
        (CPUINFO.format(extra=""), False),
        ("processor : 0\nmodel name : No Flags CPU\n", False),  # no flags line
        ("Features : fp asimd bf16\n", False),  # an ARM CPU's line is not "flags"
        ("", False),
        ("model name : avx512_bf16 in the name only\nflags : fpu avx2\n", False),
    ],
)
def test_native_bfloat16_reads_the_flags_line(cpuinfo, expected):
    assert native_bfloat16(cpuinfo) is expected


def test_native_bfloat16_of_this_machine_is_a_bool():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle
                          if line.split(":")[0].strip() == "flags"), [])
    except OSError:
        flags = []
    assert native_bfloat16() is bool({"avx512_bf16", "amx_bf16"} & set(flags))


# --- train_fast with progressive resizing and mixed precision -----------------------------

PROGRESSIVE = FastConfig(name="progressive", widths=SMALL, epochs=2, batch_size=100,
                         learning_rate=0.5, small_size=24, small_epochs=1,
                         dtype_policy="mixed_bfloat16")


@pytest.fixture(scope="module")
def progressive_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 300)
    images = rng.integers(0, 256, (300, 32, 32, 3), dtype=np.uint8)
    images[..., 0] = np.clip(images[..., 0] // 2 + 12 * labels[:, None, None], 0, 255)
    return images, labels


@pytest.fixture(scope="module")
def progressive_run(progressive_data):
    """One training run, watching which models were built and which windows were cut."""
    images, labels = progressive_data
    built, windows, lines, scored = [], [], [], []
    real_build, real_window = recipes.build_model_for, recipes.random_window
    real_tta = recipes.predict_tta

    def spy_tta(model, *args, **kwargs):
        scored.append(model)
        return real_tta(model, *args, **kwargs)

    def spy_build(*args, **kwargs):
        model = real_build(*args, **kwargs)
        built.append((kwargs.get("training", False), model))
        return model

    def spy_window(batch, size, seed=None):
        windows.append((batch.shape, size))
        return real_window(batch, size, seed=seed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recipes, "build_model_for", spy_build)
        patch.setattr(recipes, "random_window", spy_window)
        patch.setattr(recipes, "predict_tta", spy_tta)
        result = train_fast(PROGRESSIVE, images, labels, images[:50], labels[:50], seed=4,
                            print_fn=lines.append)
    result.scored_by = scored
    return result, built, windows, lines


def test_progressive_run_returns_a_fixed_size_float32_model(progressive_run, progressive_data):
    result, _, _, lines = progressive_run
    model = result.model
    assert model.input_shape == (None, 32, 32, 3)
    assert model.name == FAST_MODEL_NAME
    dtypes = {layer.name: layer.compute_dtype for layer in model.layers}
    assert set(dtypes.values()) == {"float32"}, dtypes
    images, _ = progressive_data
    probabilities = np.asarray(model.predict(images[:20] / np.float32(255), verbose=0))
    assert probabilities.shape == (20, 10) and probabilities.dtype == np.float32
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert len(result.history["loss"]) == len(result.history["seconds"]) == 2
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and lines[1].startswith("epoch 2/2")
    assert 0 <= result.accuracy <= 1 and 0 <= result.tta_accuracy <= 1


def test_progressive_run_trains_a_bfloat16_any_size_copy_for_one_small_epoch(progressive_run):
    _, built, windows, _ = progressive_run
    assert [training for training, _ in built] == [True, False]
    assert windows == [((300, 32, 32, 3), 24)]  # the first epoch only, on 24x24 windows
    trained = built[0][1]
    assert trained.input_shape == (None, None, None, 3)
    assert trained.get_layer("group1_conv1").compute_dtype == "bfloat16"
    # It normalises with the fused kernel; the returned model with Keras' own class.
    from cifar_helpers.speedups import FusedBatchNormalization

    batch_norms = [(type(layer), type(built[1][1].get_layer(layer.name)))
                   for layer in trained.layers if "_bn" in layer.name]
    assert batch_norms and set(batch_norms) == {
        (FusedBatchNormalization, keras.layers.BatchNormalization)}


def test_progressive_run_is_scored_by_the_network_as_it_trained(progressive_run):
    result, built, _, _ = progressive_run
    # One TTA call (its first pass gives the plain accuracy), on the bfloat16 copy.
    assert result.scored_by == [built[0][1]]


def test_progressive_run_returns_the_trained_weights(progressive_run):
    result, built, _, _ = progressive_run
    trained, returned = built[0][1], built[1][1]
    assert returned is result.model
    names = [v.path for v in trained.weights]
    assert names == [v.path for v in returned.weights]
    for name, a, b in zip(names, trained.get_weights(), returned.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    # ... and training changed them: the first conv is no longer its identity start.
    fresh = build_fast_model(widths=SMALL)
    assert not np.array_equal(returned.get_layer("group1_conv1").get_weights()[0],
                              fresh.get_layer("group1_conv1").get_weights()[0])


def test_progressive_run_is_deterministic(progressive_run, progressive_data):
    images, labels = progressive_data
    first = progressive_run[0]
    again = train_fast(PROGRESSIVE, images, labels, images[:50], labels[:50], seed=4,
                       print_fn=None)
    assert again.history["loss"] == first.history["loss"]
    for a, b in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (again.accuracy, again.tta_accuracy) == (first.accuracy, first.tta_accuracy)


def test_progressive_run_returns_a_compiled_model(progressive_run, progressive_data):
    result, _, _, _ = progressive_run
    images, labels = progressive_data
    loss, accuracy = result.model.evaluate(images[:50] / np.float32(255),
                                           np.eye(10)[labels[:50]], verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1


def test_small_size_larger_than_the_images_is_refused_before_training(progressive_data):
    images, labels = progressive_data
    config = FastConfig(widths=(8, 16), epochs=2, small_size=20, small_epochs=1, tta=False)
    with pytest.raises(ValueError, match=r"at most the images' side \(16\)\. Received "
                                         r"small_size=20"):
        train_fast(config, images[:40, :16, :16], labels[:40], print_fn=None)
