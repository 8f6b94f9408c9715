"""Tests for the fast recipes: build_fast_model, whitening, schedule, optimizer, TTA, training."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from cifar_helpers.models import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    build_fast_model,
    patch_whitening_kernel,
)
from cifar_helpers.optimizers import triangular_learning_rate
from cifar_helpers.predict import predict_tta
from cifar_helpers.recipes import (
    CONFIGS,
    FastConfig,
    compile_for,
    lookahead_decay,
    seconds_per_image,
    train_fast,
    train_validation_split,
)
from cifar_helpers.saving import load_model, save_model

keras = pytest.importorskip("keras")

TINY = FastConfig(name="tiny", widths=(4, 8, 8), epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 320)
    images = rng.integers(0, 256, (320, 32, 32, 3), dtype=np.uint8)
    # Make the classes learnable: brighten one colour channel per class group.
    images[:, :, :, 0] = np.clip(images[:, :, :, 0] // 2 + 12 * labels[:, None, None], 0, 255)
    return images, labels


# --- build_fast_model ----------------------------------------------------------------

def _trainable(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def test_fast_94_model_has_airbench94_size_and_shapes():
    model = build_fast_model()
    # Hand count: stem 2*2*3*24; groups (w_in*w*9 + w*w*9 convs, 2*w BN biases); head 256*10.
    convs = 2 * 2 * 3 * 24 + 9 * (24 * 64 + 64 * 64 + 64 * 256 + 256 * 256 + 2 * 256 * 256)
    betas = 2 * (64 + 256 + 256)
    assert _trainable(model) == convs + betas + 256 * 10 == 1_971_616
    sides = [model.get_layer(f"group{g}_act2").output.shape[1] for g in (1, 2, 3)]
    assert model.get_layer("stem").output.shape[1:] == (31, 31, 24)
    assert sides == [15, 7, 3]
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("widths", [(8,), (8, 16), (16, 32, 32), (32, 128, 128)])
def test_fast_model_parameter_count_follows_widths(widths):
    model = build_fast_model(widths=widths, stem_width=24)
    expected = 2 * 2 * 3 * 24
    previous = 24
    for width in widths:
        expected += 9 * previous * width + 9 * width * width + 2 * width
        previous = width
    expected += widths[-1] * 10
    assert _trainable(model) == expected


def test_fast_model_without_batch_norm_has_conv_biases():
    model = build_fast_model(widths=(8, 16), batch_norm=False)
    names = [layer.__class__.__name__ for layer in model.layers]
    assert "BatchNormalization" not in names
    assert model.get_layer("group1_conv1").use_bias


def test_fast_model_outputs_probabilities():
    model = build_fast_model(widths=(8, 16, 16))
    images = np.random.default_rng(0).random((3, 32, 32, 3)).astype(np.float32)
    probabilities = np.asarray(model(images, training=False))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_whitening_kernel_becomes_the_frozen_stem():
    rng = np.random.default_rng(0)
    kernel = patch_whitening_kernel(rng.random((40, 8, 8, 3)))
    model = build_fast_model(widths=(8,), whitening_kernel=kernel)
    stem = model.get_layer("stem")
    assert not stem.trainable
    np.testing.assert_array_equal(stem.get_weights()[0], kernel)
    assert stem.filters == 24


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"widths": ()}, "widths"),
        ({"widths": (8, -1)}, "widths"),
        ({"num_classes": 1}, "num_classes"),
        ({"input_shape": (32, 32)}, "input_shape"),
        ({"input_shape": (8, 8, 3), "widths": (4, 4, 4)}, "too small"),
        ({"whitening_kernel": np.zeros((2, 2, 1, 8))}, "whitening_kernel"),
    ],
)
def test_build_fast_model_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_fast_model(**kwargs)


# --- patch whitening -----------------------------------------------------------------

def test_patch_whitening_decorrelates_patches():
    rng = np.random.default_rng(1)
    # Correlated channels, so whitening has something to do.
    base = rng.random((60, 10, 10, 1))
    mixed = base * 0.5 + 0.5 * rng.random(base.shape)
    images = np.concatenate([base, mixed, rng.random(base.shape)], axis=-1)
    kernel = patch_whitening_kernel(images, eps=1e-9)
    normalised = (images - np.array(CIFAR10_MEAN)) / np.array(CIFAR10_STD)
    # Independent patch extraction: explicit loops over positions, (row, col, channel) order.
    patches = np.array([normalised[n, i:i + 2, j:j + 2, :].reshape(-1)
                        for n in range(60) for i in range(9) for j in range(9)])
    features = patches @ kernel.reshape(12, 24)[:, :12]
    np.testing.assert_allclose(np.cov(features, rowvar=False), np.eye(12), atol=1e-4)


def test_patch_whitening_matches_keras_conv_layout():
    # The kernel applied by Keras' Conv2D gives the same features as the patch products.
    rng = np.random.default_rng(2)
    images = rng.random((5, 6, 6, 3)).astype(np.float32)
    kernel = patch_whitening_kernel(images)
    layer = keras.layers.Conv2D(24, 2, use_bias=False)
    layer.build((None, 6, 6, 3))
    layer.set_weights([kernel])
    out = np.asarray(layer(images))
    expected = np.einsum("ijc,ijcf->f", images[0, 1:3, 2:4], kernel)
    np.testing.assert_allclose(out[0, 1, 2], expected, rtol=1e-5, atol=1e-5)


def test_patch_whitening_errors():
    with pytest.raises(ValueError, match="float images"):
        patch_whitening_kernel(np.zeros((2, 4, 4, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="patch_size"):
        patch_whitening_kernel(np.zeros((2, 4, 4, 3)), patch_size=5)
    with pytest.raises(ValueError, match="at least 12 patches"):
        patch_whitening_kernel(np.zeros((1, 2, 2, 3)))


# --- learning-rate schedule ----------------------------------------------------------

def test_triangular_learning_rate_known_values():
    values = triangular_learning_rate(np.arange(11), 2.0, 10, warmup_fraction=0.2)
    np.testing.assert_allclose(values, [0.4, 1.2, 2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25, 0.0])
    assert triangular_learning_rate(15, 2.0, 10) == 0.0


@settings(max_examples=30, deadline=None)
@given(
    total=st.integers(1, 500), warmup=st.floats(0, 0.9), peak=st.floats(1e-3, 10),
    fraction=st.floats(0, 1.2),
)
def test_keras_schedule_matches_the_numpy_reference(total, warmup, peak, fraction):
    from cifar_helpers.optimizers import TriangularSchedule

    schedule = TriangularSchedule(peak, total, warmup)
    step = int(fraction * total)
    expected = triangular_learning_rate(step, peak, total, warmup)
    np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-5, atol=1e-6 * peak)


def test_schedule_serializes():
    from cifar_helpers.optimizers import TriangularSchedule

    schedule = TriangularSchedule(1.5, 100, 0.2)
    again = TriangularSchedule.from_config(schedule.get_config())
    assert float(again(37)) == pytest.approx(float(schedule(37)))


# --- optimizer ------------------------------------------------------------------------

@pytest.mark.parametrize("name, lr_scale, l2_scale", [("kernel", 1, 1), ("beta", 64, 1 / 64)])
def test_bias_scaled_sgd_first_step_matches_pytorch_formula(name, lr_scale, l2_scale):
    from cifar_helpers.optimizers import BiasScaledSGD

    lr, momentum, l2 = 0.1, 0.85, 0.01
    start = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    gradient = np.array([0.3, 0.1, -0.2], dtype=np.float32)
    variable = keras.Variable(start, name=name)
    optimizer = BiasScaledSGD(learning_rate=lr, momentum=momentum, nesterov=True, l2=l2,
                              bias_lr_scale=64.0)
    optimizer.apply_gradients([(gradient, variable)])
    # torch.optim.SGD(nesterov=True, weight_decay=wd), first step: buffer = g + wd * p,
    # p -= lr * (g + wd * p) * (1 + momentum).
    effective = gradient + l2 * l2_scale * start
    expected = start - lr * lr_scale * effective * (1 + momentum)
    np.testing.assert_allclose(np.asarray(variable), expected, rtol=1e-6)


# --- test-time augmentation -----------------------------------------------------------

class _Asymmetric:
    """A stand-in model whose output depends on where the bright pixels are."""

    def predict(self, batch, batch_size=None, verbose=0):
        batch = np.asarray(batch, dtype=np.float64)
        width = batch.shape[2]
        left = batch[:, :, : width // 2].mean(axis=(1, 2, 3))
        top = batch[:, : batch.shape[1] // 2].mean(axis=(1, 2, 3))
        logits = np.stack([left * 5, top * 3, batch[:, 0, 0, 0]], axis=1)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def test_tta_flip_only_averages_image_and_mirror():
    images = np.random.default_rng(0).random((5, 6, 6, 3)).astype(np.float32)
    model = _Asymmetric()
    expected = (model.predict(images) + model.predict(images[:, :, ::-1])) / 2
    np.testing.assert_allclose(predict_tta(model, images, flip=True, shift=0), expected,
                               rtol=1e-6)


def test_tta_level_two_weights_shifted_views_a_quarter_each():
    images = np.random.default_rng(1).random((4, 6, 6, 2)).astype(np.float32)
    model = _Asymmetric()

    def pair(batch):
        return (model.predict(batch) + model.predict(batch[:, :, ::-1])) / 2

    def scipy_shift(batch, d):
        return np.stack([ndimage.shift(x, (d, d, 0), order=0, mode="mirror") for x in batch])

    expected = pair(images) / 2 + (pair(scipy_shift(images, 1)) + pair(scipy_shift(images, -1))) / 4
    result = predict_tta(model, images, flip=True, shift=1)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    np.testing.assert_allclose(result.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("flip, shift", [(True, 1), (True, 0), (False, 2)])
def test_tta_return_plain_adds_the_unchanged_images_pass(flip, shift):
    images = np.random.default_rng(4).random((4, 6, 6, 3)).astype(np.float32)
    model = _Asymmetric()
    result, plain = predict_tta(model, images, flip=flip, shift=shift, return_plain=True)
    np.testing.assert_allclose(result, predict_tta(model, images, flip=flip, shift=shift),
                               rtol=1e-6)
    np.testing.assert_allclose(plain, model.predict(images), rtol=1e-6)
    assert plain.dtype == np.float32 and not np.allclose(plain, result)


def test_tta_without_augmentation_is_the_plain_prediction_and_scales_uint8():
    pixels = np.random.default_rng(2).integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    model = _Asymmetric()
    np.testing.assert_allclose(predict_tta(model, pixels, flip=False, shift=0),
                               model.predict(pixels.astype(np.float32) / 255), rtol=1e-6)


def test_tta_of_a_flip_invariant_keras_model_equals_its_prediction():
    # Global average pooling of a 1x1 convolution is invariant to mirroring.
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(4, 1),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    images = np.random.default_rng(3).random((4, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(predict_tta(model, images, shift=0),
                               model.predict(images, verbose=0), rtol=1e-5)


def test_tta_errors():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        predict_tta(_Asymmetric(), np.zeros((6, 6, 3)))
    with pytest.raises(ValueError, match="shift"):
        predict_tta(_Asymmetric(), np.zeros((1, 6, 6, 3)), shift=-1)


# --- configs, split and training ------------------------------------------------------

def test_benchmark_configs():
    assert set(CONFIGS) == {"fast-90", "fast-94"}
    assert CONFIGS["fast-94"].widths == (64, 256, 256)
    for config in CONFIGS.values():
        assert config.tta and config.whitening and config.batch_norm
    fast_94 = CONFIGS["fast-94"]
    # airbench's learning rate, 1.5 per 1024 images, scaled to the batch size.
    assert fast_94.learning_rate == pytest.approx(1.5 * fast_94.batch_size / 1024)
    assert fast_94.optimizer == "sgd" and fast_94.lookahead_every == 5  # chosen on validation
    # The race recipe: airbench94_muon's optimizer, batch and schedule, no Lookahead.
    fast_90 = CONFIGS["fast-90"]
    assert (fast_90.optimizer, fast_90.batch_size, fast_90.warmup_fraction,
            fast_90.lookahead_every) == ("muon", 1000, 0.0, 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"schedule": "cosine"}, "schedule"),
        ({"flip": "sometimes"}, "flip"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"lookahead_every": -1}, "lookahead_every"),
        ({"lookahead_every": 2.5}, "lookahead_every"),
    ],
)
def test_fast_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FastConfig(**kwargs)


def test_train_validation_split_is_disjoint_and_seeded():
    images, labels = np.arange(100) * 10, np.arange(100)
    (xa, ya), (xv, yv) = train_validation_split(images, labels, 20, seed=1)
    assert len(xv) == 20 and len(xa) == 80
    assert not set(ya) & set(yv) and set(ya) | set(yv) == set(range(100))
    np.testing.assert_array_equal(xa, ya * 10)
    (_, _), (xv2, _) = train_validation_split(images, labels, 20, seed=1)
    np.testing.assert_array_equal(xv, xv2)
    with pytest.raises(ValueError, match="validation_size"):
        train_validation_split(images, labels, 100)


def test_train_fast_runs_learns_and_repeats(tiny_data):
    images, labels = tiny_data
    lines = []
    first = train_fast(TINY, images, labels, images[:100], labels[:100], seed=3,
                       print_fn=lines.append)
    again = train_fast(TINY, images, labels, seed=3, print_fn=None)
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2")
    assert len(first.history["loss"]) == 2
    np.testing.assert_allclose(first.history["loss"], again.history["loss"], rtol=1e-5)
    assert first.history["learning_rate"][-1] == pytest.approx(0.0, abs=1e-7)  # triangle ends at 0
    assert 0.0 <= first.accuracy <= 1.0 and 0.0 <= first.tta_accuracy <= 1.0
    assert first.best_accuracy == first.tta_accuracy
    assert again.accuracy is None


def test_train_fast_without_tricks_and_constant_rate(tiny_data):
    images, labels = tiny_data
    plain = dataclasses.replace(TINY, epochs=1, batch_norm=False, whitening=False, crop_pad=0,
                                flip="none", schedule="constant", learning_rate=0.01, tta=False)
    result = train_fast(plain, images, labels, images, labels, print_fn=None)
    assert result.history["learning_rate"] == [pytest.approx(0.01)]
    assert result.tta_accuracy is None and result.best_accuracy == result.accuracy


def test_train_fast_reports_divergence(tiny_data):
    images, labels = tiny_data
    wild = dataclasses.replace(TINY, epochs=1, batch_norm=False, schedule="constant",
                               learning_rate=1e12, label_smoothing=0.0)
    with pytest.raises(FloatingPointError, match="diverged"):
        train_fast(wild, images, labels, print_fn=None)


@pytest.mark.parametrize(
    "args, message",
    [
        (("nope",), "Unknown recipe"),
        ((TINY, np.zeros((4, 32, 32, 3), dtype=np.float32), np.zeros(4, int)), "uint8"),
        ((TINY, np.zeros((4, 32, 32, 3), dtype=np.uint8), np.zeros(3, int)), "labels"),
        ((TINY, np.zeros((4, 32, 32, 3), dtype=np.uint8), np.zeros(4)), "integer"),
    ],
)
def test_train_fast_errors(args, message):
    if len(args) == 1:
        args = args + (np.zeros((4, 32, 32, 3), dtype=np.uint8), np.zeros(4, int))
    with pytest.raises(ValueError, match=message):
        train_fast(*args, print_fn=None)


def test_fast_model_save_load_round_trip(tmp_path):
    model = build_fast_model(widths=(4, 8))
    compile_for(model, TINY, steps_per_epoch=5)
    images = np.random.default_rng(4).random((3, 32, 32, 3)).astype(np.float32)
    path = save_model(model, tmp_path / "fast.keras")
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-6)
    assert loaded.optimizer.__class__.__name__ == "BiasScaledSGD"


def test_seconds_per_image_is_positive_and_checks_input():
    model = build_fast_model(widths=(4,))
    compile_for(model, TINY, steps_per_epoch=1)
    images = np.zeros((16, 32, 32, 3), dtype=np.uint8)
    labels = np.eye(10, dtype=np.float32)[np.arange(16) % 10]
    assert 0 < seconds_per_image(model, images, labels, batch_size=8, steps=1, warmup=1) < 10
    with pytest.raises(ValueError, match="at least batch_size=32"):
        seconds_per_image(model, images, labels, batch_size=32)
    with pytest.raises(ValueError, match="steps"):
        seconds_per_image(model, images, labels, batch_size=8, steps=0)


def test_identity_init_makes_identity_filters():
    model = build_fast_model(widths=(8, 16))
    kernel = np.asarray(model.get_layer("group1_conv2").kernel)   # 8 -> 8: all identity
    expected = np.zeros((3, 3, 8, 8), dtype=np.float32)
    expected[1, 1, np.arange(8), np.arange(8)] = 1
    np.testing.assert_array_equal(kernel, expected)
    widening = np.asarray(model.get_layer("group2_conv1").kernel)  # 8 -> 16: first 8 identity
    np.testing.assert_array_equal(widening[..., :8], expected)
    rest = widening[..., 8:]
    limit = 1 / np.sqrt(3 * 3 * 8)
    assert np.abs(rest).max() <= limit and np.abs(rest).max() > limit / 2
    # A fresh group-1 second conv passes its input through unchanged.
    layer = model.get_layer("group1_conv2")
    x = np.random.default_rng(0).random((1, 5, 5, 8)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(layer(x)), x, atol=1e-6)


def test_identity_init_can_be_switched_off():
    keras.utils.set_random_seed(0)
    kernel = np.asarray(build_fast_model(widths=(8,), identity_init=False)
                        .get_layer("group1_conv2").kernel)
    assert (kernel[1, 1, np.arange(8), np.arange(8)] != 1).all()


# --- lookahead ------------------------------------------------------------------------------


def test_lookahead_decay_follows_airbench_formula():
    steps = np.arange(0, 201)
    np.testing.assert_allclose(lookahead_decay(steps, 200), 0.95**5 * (steps / 200) ** 3)
    assert lookahead_decay(0, 200) == 0.0
    assert lookahead_decay(400, 200) == pytest.approx(0.95**5)  # clipped past the end
    assert np.all(np.diff(lookahead_decay(steps, 200)) >= 0)
    with pytest.raises(ValueError, match="total_steps"):
        lookahead_decay(1, 0)


def test_lookahead_update_moves_weights_to_the_average():
    from cifar_helpers.recipes import _lookahead_update

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    weights = [np.full((3, 2), 4.0, "float32"), np.full((2,), -2.0, "float32")]
    model.set_weights(weights)
    average = [np.zeros((3, 2), "float32"), np.ones((2,), "float32")]
    new = _lookahead_update(model, average, 0.25)
    # 0.25 * average + 0.75 * weights, by hand.
    np.testing.assert_allclose(new[0], np.full((3, 2), 3.0))
    np.testing.assert_allclose(new[1], np.full((2,), -1.25))
    for got, want in zip(model.get_weights(), new, strict=True):
        np.testing.assert_allclose(got, want)


def test_train_fast_with_lookahead_repeats_and_changes_the_result(tiny_data):
    images, labels = tiny_data
    config = dataclasses.replace(TINY, lookahead_every=2)
    first = train_fast(config, images, labels, seed=3, print_fn=None)
    again = train_fast(config, images, labels, seed=3, print_fn=None)
    without = train_fast(TINY, images, labels, seed=3, print_fn=None)
    for a, b in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    differs = [not np.allclose(a, b) for a, b in
               zip(first.model.get_weights(), without.model.get_weights(), strict=True)]
    assert any(differs)
