"""Tests for cifar_helpers.interpret.grad_cam on a network whose answer is known by construction."""

import numpy as np
import pytest

from cifar_helpers.interpret import grad_cam, last_conv_layer_name

keras = pytest.importorskip("keras")

SIZE = 12
#: The bright square the "square detector" filter fires on: rows 2..5, columns 6..9.
SQUARE = (slice(2, 6), slice(6, 10))


def region_model():
    """Two 1x1 filters: one fires on bright pixels, one on dark ones; each drives one class.

    conv(x) = relu([x - 0.5, 0.5 - x]) -> global average -> Dense (identity) -> softmax.
    Class 0 ("square") is driven by the bright-pixel filter only, class 1 ("background")
    by the dark-pixel filter only.
    """
    inputs = keras.Input((SIZE, SIZE, 1))
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="detector")
    maps = conv(inputs)
    conv.set_weights([np.array([1.0, -1.0], dtype="float32").reshape(1, 1, 1, 2),
                      np.array([-0.5, 0.5], dtype="float32")])
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(maps)
    dense = keras.layers.Dense(2, activation="softmax", name="classes")
    outputs = dense(pooled)
    dense.set_weights([np.eye(2, dtype="float32") * 4.0, np.zeros(2, dtype="float32")])
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def model():
    return region_model()


def square_image(rng, noise=0.05):
    image = rng.uniform(0.0, noise, (SIZE, SIZE, 1)).astype("float32")
    image[SQUARE] = 1.0 - rng.uniform(0.0, noise, image[SQUARE].shape)
    return image


def test_heatmap_lights_up_the_region_for_its_class(model):
    rng = np.random.default_rng(0)
    for _ in range(5):
        image = square_image(rng)
        heatmap = grad_cam(model, image, class_index=0)
        assert heatmap.shape == (SIZE, SIZE) and heatmap.dtype == np.float32
        assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)
        inside = np.zeros((SIZE, SIZE), dtype=bool)
        inside[SQUARE] = True
        assert heatmap[inside].min() > 0.8
        assert heatmap[~inside].max() == 0.0


def test_heatmap_of_the_other_class_avoids_the_region(model):
    image = square_image(np.random.default_rng(1))
    heatmap = grad_cam(model, image, class_index=1)
    assert heatmap[SQUARE].max() == 0.0
    assert heatmap.mean() > 0.5  # the background carries class 1's evidence


def test_default_class_is_the_top_class(model):
    image = square_image(np.random.default_rng(2))
    top = int(np.argmax(model.predict(image[np.newaxis], verbose=0)[0]))
    np.testing.assert_array_equal(grad_cam(model, image), grad_cam(model, image, top))


def test_matches_the_formula_by_hand(model):
    # dscore/dA averaged over the map, times A, summed over maps: computed here with NumPy.
    image = square_image(np.random.default_rng(3))
    maps = np.maximum(np.concatenate([image - 0.5, 0.5 - image], axis=-1), 0.0)  # (H, W, 2)
    logits = maps.mean(axis=(0, 1)) * 4.0
    p = np.exp(logits - logits.max())
    p /= p.sum()
    # d p0 / d logit_k = p0 (delta_0k - p_k); d logit_k / d A[r, c, k] = 4 / (H W)
    weights = p[0] * (np.array([1.0, 0.0]) - p) * 4.0 / SIZE**2
    expected = np.maximum((maps * weights).sum(axis=-1), 0.0)
    expected /= expected.max()
    np.testing.assert_allclose(grad_cam(model, image, class_index=0), expected, atol=1e-5)


def test_uint8_images_are_scaled(model):
    image = square_image(np.random.default_rng(4))
    pixels = np.round(image * 255).astype(np.uint8)
    np.testing.assert_allclose(grad_cam(model, pixels, 0), grad_cam(model, pixels / 255.0, 0),
                               atol=1e-5)


def test_seed_model_heatmap_shape():
    from cifar_helpers.models import build_seed_model

    keras.utils.set_random_seed(0)
    seed = build_seed_model(compile=False, speedups=False)
    assert last_conv_layer_name(seed) == "conv2"
    image = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    heatmap = grad_cam(seed, image)
    assert heatmap.shape == (32, 32)
    assert 0.0 <= heatmap.min() and heatmap.max() <= 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image": np.zeros((5, 5, 1), "float32")}, r"one image of shape \(12, 12, 1\)"),
        ({"image": np.full((SIZE, SIZE, 1), 2.0)}, r"floats in \[0, 1\]"),
        ({"class_index": 2}, r"`class_index` must be an int in 0..1"),
        ({"class_index": -1}, r"`class_index` must be an int in 0..1"),
        ({"layer_name": "nope"}, r"`layer_name` must name a layer .*'detector'"),
        ({"layer_name": "classes"}, r"`layer_name` must name a layer with \(N, H, W, C\)"),
    ],
)
def test_errors(model, kwargs, match):
    arguments = {"image": np.zeros((SIZE, SIZE, 1), "float32"), **kwargs}
    with pytest.raises(ValueError, match=match):
        grad_cam(model, **arguments)


def test_model_without_convolution():
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="must have a convolution layer"):
        last_conv_layer_name(dense)


def test_a_seed_model_loaded_from_a_file_gets_its_gradients(tmp_path):
    # A Sequential model read back from a .keras file rebuilds its graph: the heatmap
    # must still come from the gradient that flows through the chosen layer.
    from cifar_helpers.models import build_seed_model
    from cifar_helpers.saving import save_model

    keras.utils.set_random_seed(0)
    seed = build_seed_model(speedups=False)
    path = save_model(seed, tmp_path / "seed.keras")
    loaded = keras.saving.load_model(path)
    image = np.random.default_rng(6).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for class_index in (0, 9):
        np.testing.assert_allclose(grad_cam(loaded, image, class_index),
                                   grad_cam(seed, image, class_index), atol=1e-5)
    assert grad_cam(loaded, image, 9).max() == pytest.approx(1.0)
