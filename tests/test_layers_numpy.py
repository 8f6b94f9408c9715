"""Tests for cifar_helpers.layers_numpy: Keras' Flatten, Dense and model.predict as references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cifar_helpers.layers_numpy import dense, flatten, forward_pass, layer_specs


@pytest.fixture(scope="module")
def keras():
    from cifar_helpers.notebook import quiet_tensorflow

    return quiet_tensorflow()


def images(shape, n=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(n, *shape)).astype(np.float32)


# ---------------------------------------------------------------- flatten and dense


def test_flatten_order_known_answer():
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    out = flatten(x)
    assert out.shape == (24,)
    for r, c, ch in [(0, 0, 1), (1, 2, 3), (1, 0, 0)]:
        assert out[(r * 3 + c) * 4 + ch] == x[r, c, ch]


def test_flatten_matches_keras(keras):
    x = images((3, 4, 5), n=2)
    expected = np.asarray(keras.layers.Flatten()(x))
    np.testing.assert_array_equal(np.stack([flatten(one) for one in x]), expected)


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("use_bias", [False, True])
def test_dense_matches_keras(keras, batch, use_bias):
    layer = keras.layers.Dense(4, use_bias=use_bias)
    x = images((6,), n=3)
    layer.build((None, 6))
    weights = [np.random.default_rng(1).normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    expected = np.asarray(layer(x))
    bias = weights[1] if use_bias else None
    if batch:
        ours = dense(x, weights[0], bias)
    else:
        ours = np.stack([dense(v, weights[0], bias) for v in x])
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_dense_known_answer():
    np.testing.assert_array_equal(dense([1, 2], [[1, 10], [100, 1000]], [0.5, 0]), [201.5, 2010])


@settings(max_examples=30, deadline=None)
@given(
    n_in=st.integers(1, 6),
    units=st.integers(1, 5),
    scale=st.floats(-3, 3, allow_nan=False),
    seed=st.integers(0, 1000),
)
def test_dense_is_linear_without_bias(n_in, units, scale, seed):
    rng = np.random.default_rng(seed)
    kernel, a, b = rng.normal(size=(n_in, units)), rng.normal(size=n_in), rng.normal(size=n_in)
    np.testing.assert_allclose(
        dense(scale * a + b, kernel), scale * dense(a, kernel) + dense(b, kernel), atol=1e-9
    )


# ---------------------------------------------------------------- whole models


def small_cnn(keras, variant):
    layers = keras.layers
    keras.utils.set_random_seed(0)
    body = {
        # the notebook's model: conv -> ReLU -> pool -> flatten -> dense -> softmax
        "conv_relu_pool": [
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(5, activation="softmax"),
        ],
        "strided_valid_average": [
            layers.Conv2D(3, (2, 3), strides=2, padding="valid", activation="tanh"),
            layers.AveragePooling2D(2, strides=1, padding="same"),
            layers.Flatten(),
            layers.Dense(4, activation="sigmoid"),
        ],
        "separate_activation_layers": [
            layers.Conv2D(4, 3, padding="same", use_bias=False),
            layers.ReLU(),
            layers.Dropout(0.5),
            layers.Conv2D(2, 2, strides=(1, 2), padding="same"),
            layers.Activation("relu"),
            layers.MaxPooling2D(3, strides=2, padding="same"),
            layers.Flatten(),
            layers.Dense(6),
            layers.Dropout(0.3),
            layers.Dense(3),
            layers.Softmax(),
        ],
    }[variant]
    return keras.Sequential([keras.Input((9, 8, 3)), *body])


@pytest.mark.parametrize(
    "variant", ["conv_relu_pool", "strided_valid_average", "separate_activation_layers"]
)
def test_forward_pass_matches_predict(keras, variant):
    model = small_cnn(keras, variant)
    x = images((9, 8, 3), n=3, seed=2)
    expected = model.predict(x, verbose=0)
    ours = forward_pass(model, x)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(forward_pass(layer_specs(model), x[0]), expected[0], atol=1e-5)


def test_intermediates_match_keras_layer_outputs(keras):
    model = small_cnn(keras, "separate_activation_layers")
    x = images((9, 8, 3), n=1, seed=3)
    probe = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    expected = [np.asarray(out)[0] for out in probe(x, training=False)]
    output, intermediates = forward_pass(model, x[0], return_intermediates=True)
    assert [name for name, _ in intermediates] == [layer.name for layer in model.layers]
    for (name, ours), theirs in zip(intermediates, expected, strict=True):
        assert ours.shape == theirs.shape, name
        np.testing.assert_allclose(ours, theirs, atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(output, intermediates[-1][1])


def test_functional_chain_and_seed_model(keras):
    from cifar_helpers.models import build_seed_model

    keras.utils.set_random_seed(1)
    model = build_seed_model(compile=False)  # the tutorial's network, 4.2 M weights
    x = images((32, 32, 3), n=1, seed=4)
    np.testing.assert_allclose(forward_pass(model, x), model.predict(x, verbose=0), atol=1e-5)

    inputs = keras.Input((6, 6, 2))
    outputs = keras.layers.Dense(3, activation="softmax")(
        keras.layers.Flatten()(keras.layers.Conv2D(2, 3, activation="relu")(inputs))
    )
    functional = keras.Model(inputs, outputs)
    assert [spec["kind"] for spec in layer_specs(functional)] == ["Conv2D", "Flatten", "Dense"]
    x = images((6, 6, 2), n=2, seed=5)
    np.testing.assert_allclose(
        forward_pass(functional, x), functional.predict(x, verbose=0), atol=1e-5
    )


def test_specs_content(keras):
    specs = layer_specs(small_cnn(keras, "conv_relu_pool"))
    assert [s["kind"] for s in specs] == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert specs[0]["kernel"].shape == (3, 3, 3, 4)
    assert specs[0]["activation"] == "relu" and specs[0]["padding"] == "same"
    assert specs[1]["mode"] == "max" and specs[1]["pool_size"] == (2, 2)
    assert specs[3]["kernel"].shape == (4 * 4 * 4, 5) and specs[3]["activation"] == "softmax"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "layer, match",
    [
        (lambda k: k.layers.BatchNormalization(), r"is a BatchNormalization. The .* supports"),
        (lambda k: k.layers.Conv2D(2, 3, dilation_rate=2), r"uses dilation_rate=\(2, 2\)"),
        (lambda k: k.layers.Activation("gelu"), r"uses activation='gelu' \(supported: \["),
        (lambda k: k.layers.ReLU(max_value=6.0), r"uses max_value, negative_slope or threshold"),
        (lambda k: k.layers.Softmax(axis=1), r"uses axis=1"),
        (lambda k: k.layers.MaxPooling2D(data_format="channels_first"), r"data_format="),
    ],
)
def test_unsupported_layers(keras, layer, match):
    model = keras.Sequential([keras.Input((6, 6, 3)), layer(keras)])
    with pytest.raises(ValueError, match=match):
        layer_specs(model)


def test_not_a_model():
    with pytest.raises(ValueError, match=r"must be a Keras model .* Received dict"):
        layer_specs({"layers": []})


def test_forward_pass_bad_images():
    specs = [{"kind": "Flatten", "name": "flatten"}]
    with pytest.raises(ValueError, match=r"a batch \(N, H, W, C\). Received image.shape=\(4, 4\)"):
        forward_pass(specs, np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"needs one image .* batch of shape \(2, 4, 4, 1\)"):
        forward_pass(specs, np.zeros((2, 4, 4, 1)), return_intermediates=True)
    with pytest.raises(ValueError, match=r"`image` must not contain NaN"):
        forward_pass(specs, np.full((2, 2, 1), np.nan))


def test_flatten_errors():
    with pytest.raises(ValueError, match=r"array to flatten. Received a scalar"):
        flatten(3.0)
    with pytest.raises(ValueError, match=r"`x` must be an array of real numbers"):
        flatten(np.array(["a"]))


@pytest.mark.parametrize(
    "x, kernel, bias, match",
    [
        (np.zeros((2, 2, 2)), np.zeros((8, 3)), None, r"flatten feature maps first. .*\(2, 2, 2\)"),
        (np.zeros(4), np.zeros(4), None, r"`kernel` must have shape \(n_in, units\)"),
        (np.zeros(4), np.zeros((5, 3)), None, r"`x` has 4 inputs but `kernel` expects 5"),
        (np.zeros(4), np.zeros((4, 3)), np.zeros(2), r"`bias` must have shape \(3,\)"),
        (np.zeros(4), np.full((4, 3), np.nan), None, r"`kernel` must not contain NaN"),
        (np.array(["a"]), np.zeros((1, 3)), None, r"`x` must be an array of real numbers"),
        (np.zeros(4), np.zeros((4, 3)), ["a", "b", "c"], r"`bias` must be an array of real"),
    ],
)
def test_dense_errors(x, kernel, bias, match):
    with pytest.raises(ValueError, match=match):
        dense(x, kernel, bias)
