"""Tests for cifar_helpers.speedups: each fast class against the Keras class it replaces."""

import numpy as np
import pytest

from cifar_helpers import speedups
from cifar_helpers.models import build_seed_model

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _rng(seed=0):
    return np.random.default_rng(seed)


# --- FastDense -------------------------------------------------------------------------------


def _dense_pair(units, input_dim, activation="relu"):
    plain = keras.layers.Dense(units, activation=activation)
    fast = speedups.FastDense(units, activation=activation)
    plain.build((None, input_dim))
    fast.build((None, input_dim))
    rng = _rng(1)
    weights = [rng.normal(size=(input_dim, units)).astype("float32") * 0.1,
               rng.normal(size=(units,)).astype("float32")]
    plain.set_weights(weights)
    fast.set_weights(weights)
    return plain, fast, weights


@pytest.mark.parametrize("activation", ["relu", "softmax", None])
def test_fast_dense_forward_matches_dense_and_numpy(activation):
    plain, fast, (kernel, bias) = _dense_pair(7, 40, activation)
    x = _rng(2).normal(size=(5, 40)).astype("float32")
    expected = np.asarray(plain(x))
    np.testing.assert_allclose(np.asarray(fast(x)), expected, rtol=1e-5, atol=1e-6)
    if activation is None:
        np.testing.assert_allclose(expected, x @ kernel + bias, rtol=1e-5, atol=1e-5)


def test_fast_dense_gradients_match_dense():
    plain, fast, _ = _dense_pair(64, 300)
    x = tf.constant(_rng(3).normal(size=(32, 300)).astype("float32"))
    upstream = tf.constant(_rng(4).normal(size=(32, 64)).astype("float32"))
    grads = []
    for layer in (plain, fast):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * upstream)
        grads.append(tape.gradient(loss, [x, layer.kernel.value, layer.bias.value]))
    for got, want in zip(grads[1], grads[0], strict=True):
        assert got is not None
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-5)
    # And against the hand-derived gradient of sum(relu(xW + b) * u) with respect to x.
    pre = x.numpy() @ fast.kernel.numpy() + fast.bias.numpy()
    by_hand = (upstream.numpy() * (pre > 0)) @ fast.kernel.numpy().T
    np.testing.assert_allclose(np.asarray(grads[1][0]), by_hand, rtol=1e-4, atol=1e-5)


def test_fast_dense_on_3d_inputs_uses_dense_code():
    plain, fast, _ = _dense_pair(3, 4)
    x = _rng(5).normal(size=(2, 6, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(plain(x)), rtol=1e-6)


# --- FastMaxNorm -----------------------------------------------------------------------------


def _max_norm_numpy(w, max_value, axis):
    norms = np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=axis, keepdims=True))
    return w * np.where(norms > max_value, max_value / norms, 1.0)


@pytest.mark.parametrize(
    "shape, axis", [((50, 20), 0), ((3, 3, 4, 8), 0), ((3, 3, 4, 8), [0, 1, 2])]
)
def test_fast_max_norm_matches_keras_and_numpy(shape, axis):
    w = _rng(6).normal(size=shape).astype("float32")
    axes = tuple(np.atleast_1d(axis))
    norms = np.sqrt((w.astype(np.float64) ** 2).sum(axis=axes))
    limit = float(np.median(norms))  # half the columns are too long: both branches run
    got = np.asarray(speedups.FastMaxNorm(limit, axis=axis)(w))
    np.testing.assert_allclose(got, _max_norm_numpy(w, limit, axes), rtol=1e-5, atol=1e-7)
    keras_result = np.asarray(keras.constraints.MaxNorm(limit, axis=axis)(w))
    np.testing.assert_allclose(got, keras_result, rtol=1e-5, atol=1e-7)
    new_norms = np.sqrt((got.astype(np.float64) ** 2).sum(axis=axes))
    assert new_norms.max() <= limit * (1 + 1e-5)
    np.testing.assert_allclose(new_norms[norms > limit], limit, rtol=1e-5)


def test_fast_max_norm_leaves_short_columns_untouched():
    w = (_rng(7).normal(size=(30, 10)) * 0.1).astype("float32")
    w[:, 3] *= 100.0  # only column 3 is longer than 3
    got = np.asarray(speedups.FastMaxNorm(3.0)(w))
    others = [c for c in range(10) if c != 3]
    np.testing.assert_array_equal(got[:, others], w[:, others])
    assert np.linalg.norm(got[:, 3]) == pytest.approx(3.0, rel=1e-5)
    short = w.copy()
    short[:, 3] /= 100.0
    np.testing.assert_array_equal(np.asarray(speedups.FastMaxNorm(3.0)(short)), short)


def test_fast_max_norm_inside_a_compiled_function():
    constraint = speedups.FastMaxNorm(2.0)
    w = np.full((4, 2), 2.0, dtype="float32")  # column norms 4
    got = tf.function(constraint)(tf.constant(w))
    np.testing.assert_allclose(np.linalg.norm(got.numpy(), axis=0), [2.0, 2.0], rtol=1e-5)


# --- FusedSGD --------------------------------------------------------------------------------


@pytest.mark.parametrize("nesterov", [False, True])
def test_fused_sgd_follows_keras_sgd_step_by_step(nesterov):
    def schedule():
        return keras.optimizers.schedules.InverseTimeDecay(0.05, decay_steps=1, decay_rate=0.1)

    rng = _rng(8)
    start = rng.normal(size=(6, 5)).astype("float32")
    gradients = rng.normal(size=(5, 6, 5)).astype("float32")
    results = []
    for cls in (keras.optimizers.SGD, speedups.FusedSGD):
        variable = keras.Variable(start)
        optimizer = cls(learning_rate=schedule(), momentum=0.9, nesterov=nesterov)
        for gradient in gradients:
            optimizer.apply_gradients([(tf.constant(gradient), variable)])
        results.append(np.asarray(variable))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-6)
    # By hand (Keras' formula), with the decayed learning rate lr / (1 + 0.1 step).
    w, m = start.astype(np.float64), np.zeros_like(start, dtype=np.float64)
    for step, g in enumerate(gradients):
        lr = 0.05 / (1 + 0.1 * step)
        m = 0.9 * m - lr * g
        w = w + (0.9 * m - lr * g if nesterov else m)
    np.testing.assert_allclose(results[1], w, rtol=1e-5, atol=1e-6)


def test_fused_sgd_without_momentum_is_plain_sgd():
    variable = keras.Variable(np.ones(3, dtype="float32"))
    speedups.FusedSGD(learning_rate=0.5).apply_gradients([(tf.constant([1.0, 2.0, 3.0]), variable)])
    np.testing.assert_allclose(np.asarray(variable), [0.5, 0.0, -0.5])


# --- the seed model with and without them ---------------------------------------------------


# --- FusedBatchNormalization ----------------------------------------------------------------


def _batch_norm_pair(dtype="float32", **kwargs):
    options = dict(momentum=0.6, epsilon=1e-5, dtype=dtype, **kwargs)
    plain = keras.layers.BatchNormalization(**options)
    fused = speedups.FusedBatchNormalization(**options)
    for layer in (plain, fused):
        layer.build((None, 5, 5, 4))
        layer.beta.assign([0.1, -0.2, 0.3, 0.0])
        if layer.scale:
            layer.gamma.assign([1.5, 0.5, -1.0, 2.0])
        layer.moving_mean.assign([1.0, 2.0, 3.0, 4.0])
        layer.moving_variance.assign([0.5, 1.0, 2.0, 4.0])
    return plain, fused


@pytest.mark.parametrize("scale", [True, False])
def test_fused_batch_norm_matches_keras_and_numpy_while_training(scale):
    x = _rng(11).normal(3.0, 2.0, size=(8, 5, 5, 4)).astype("float32")
    weights = _rng(12).normal(size=x.shape).astype("float32")
    plain, fused = _batch_norm_pair(scale=scale)
    results = []
    for layer in (plain, fused):
        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, training=True)
            loss = tf.reduce_sum(outputs * weights)
        results.append((outputs.numpy(), tape.gradient(loss, [inputs, layer.beta]),
                        layer.moving_mean.numpy(), layer.moving_variance.numpy()))
    # By hand (NumPy): the batch's mean and variance over n, per channel.
    mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    gamma = np.array([1.5, 0.5, -1.0, 2.0]) if scale else 1.0
    expected = (x - mean) / np.sqrt(variance + 1e-5) * gamma + np.array([0.1, -0.2, 0.3, 0.0])
    for outputs, _, moving_mean, moving_variance in results:
        np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(moving_mean, 0.6 * np.array([1.0, 2, 3, 4]) + 0.4 * mean,
                                   rtol=1e-5)
        np.testing.assert_allclose(moving_variance,
                                   0.6 * np.array([0.5, 1.0, 2, 4]) + 0.4 * variance, rtol=1e-5)
    (_, plain_grads, *_), (_, fused_grads, *_) = results
    for plain_grad, fused_grad in zip(plain_grads, fused_grads, strict=True):
        np.testing.assert_allclose(fused_grad.numpy(), plain_grad.numpy(), rtol=1e-4, atol=1e-4)
    # The beta gradient is the sum of the upstream gradient over (N, H, W).
    np.testing.assert_allclose(fused_grads[1].numpy(), weights.sum(axis=(0, 1, 2)), rtol=1e-4)


def test_fused_batch_norm_in_bfloat16_matches_keras():
    x = _rng(13).normal(3.0, 2.0, size=(16, 5, 5, 4)).astype("float32")
    plain, fused = _batch_norm_pair("mixed_bfloat16", scale=False)
    outputs = [layer(x, training=True) for layer in (plain, fused)]
    assert [o.dtype for o in outputs] == [tf.bfloat16, tf.bfloat16]
    # Both read the same bfloat16 inputs and compute in float32; only rounding differs.
    np.testing.assert_allclose(tf.cast(outputs[1], tf.float32).numpy(),
                               tf.cast(outputs[0], tf.float32).numpy(), atol=2e-2)
    np.testing.assert_allclose(fused.moving_variance.numpy(), plain.moving_variance.numpy(),
                               rtol=1e-5)
    assert fused.moving_mean.dtype == "float32"


def test_fused_batch_norm_uses_keras_code_at_inference_and_for_other_shapes():
    x = _rng(14).normal(size=(4, 5, 5, 4)).astype("float32")
    plain, fused = _batch_norm_pair()
    np.testing.assert_allclose(fused(x, training=False).numpy(), plain(x, training=False).numpy(),
                               rtol=1e-6)
    # Not 4-D: Keras' own code path (and the same numbers).
    flat = keras.layers.BatchNormalization(momentum=0.6)
    fused_flat = speedups.FusedBatchNormalization(momentum=0.6)
    rows = x.reshape(-1, 4)
    np.testing.assert_allclose(fused_flat(rows, training=True).numpy(),
                               flat(rows, training=True).numpy(), rtol=1e-5, atol=1e-6)
    # A batch of one pixel: variance 0, and the running variance moves towards 0 as in Keras.
    single = speedups.FusedBatchNormalization(momentum=0.99)
    single(np.ones((1, 1, 1, 3), "float32"), training=True)
    np.testing.assert_allclose(single.moving_variance.numpy(), [0.99] * 3)


def test_fused_batch_norm_saves_and_loads(tmp_path):
    from cifar_helpers.models import build_fast_model
    from cifar_helpers.saving import load_model

    keras.utils.set_random_seed(5)
    model = build_fast_model(widths=(8, 16), input_shape=(16, 16, 3), speedups=True)
    x = _rng(16).random((4, 16, 16, 3)).astype("float32")
    model(x, training=True)  # move the running averages away from their start
    path = tmp_path / "fused.keras"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.get_layer("group1_bn1")) is speedups.FusedBatchNormalization
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


def _trained(build, x, y, seed, **options):
    """The compiled model `build(**options)` returns, after 3 training steps from `seed`."""
    keras.utils.set_random_seed(seed)  # same initial weights (and dropout masks)
    model = build(**options)
    for _ in range(3):
        model.train_on_batch(x, y)
    return model


def test_fast_model_trains_the_same_with_fused_batch_norm():
    from cifar_helpers.models import build_fast_model

    rng = _rng(15)
    x = rng.random((32, 16, 16, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, size=32)]

    def build(fused):
        model = build_fast_model(widths=(8, 16), input_shape=(16, 16, 3), speedups=fused)
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                      loss="categorical_crossentropy")
        return model

    weights = []
    for fused in (False, True):
        model = _trained(build, x, y, seed=4, fused=fused)
        weights.append(model.get_weights())
        kinds = {type(layer) for layer in model.layers if "bn" in layer.name}
        assert kinds == {speedups.FusedBatchNormalization if fused
                         else keras.layers.BatchNormalization}
    for plain, fused in zip(weights[0], weights[1], strict=True):
        np.testing.assert_allclose(fused, plain, rtol=1e-4, atol=1e-5)
    keras.utils.set_random_seed(4)
    start = build_fast_model(widths=(8, 16), input_shape=(16, 16, 3)).get_weights()
    assert not all(np.allclose(a, b) for a, b in zip(start, weights[1], strict=True))


def test_seed_model_trains_the_same_with_and_without_speedups():
    rng = _rng(9)
    x = rng.random((16, 32, 32, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, size=16)]
    weights = [_trained(build_seed_model, x, y, seed=3, speedups=fast).get_weights()
               for fast in (False, True)]
    assert [w.shape for w in weights[0]] == [w.shape for w in weights[1]]
    for plain, fast in zip(weights[0], weights[1], strict=True):
        np.testing.assert_allclose(fast, plain, rtol=1e-4, atol=1e-5)
    # Training moved the weights (the comparison above is not between two copies of the start).
    keras.utils.set_random_seed(3)
    untrained = build_seed_model(speedups=True).get_weights()
    assert not np.allclose(untrained[0], weights[1][0])


def test_saved_seed_model_loads_with_its_classes(tmp_path):
    from cifar_helpers.saving import load_model

    keras.utils.set_random_seed(0)
    model = build_seed_model(speedups=True)
    path = tmp_path / "seed.keras"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.layers[5]) is speedups.FastDense
    assert type(loaded.layers[0].kernel_constraint) is speedups.FastMaxNorm
    assert type(loaded.optimizer) is speedups.FusedSGD
    x = _rng(10).random((3, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


def test_mixed_precision_seed_model():
    keras.utils.set_random_seed(0)
    model = build_seed_model(dtype_policy="mixed_bfloat16")
    dense = model.get_layer("dense")
    assert dense.compute_dtype == "bfloat16"
    assert dense.kernel.dtype == "float32"  # weights stay float32
    assert model.get_layer("output").compute_dtype == "float32"
    x = _rng(11).random((4, 32, 32, 3)).astype("float32")
    probabilities = model.predict(x, verbose=0)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    loss = model.train_on_batch(x, np.eye(10, dtype="float32")[[0, 1, 2, 3]])
    assert np.isfinite(np.asarray(loss)).all()


# --- oneDNN --------------------------------------------------------------------------------

_ONEDNN_PROBE = (
    "from cifar_helpers.notebook import setup_notebook\n"
    "setup_notebook(seed=0)\n"
    "from cifar_helpers.environment import onednn_enabled\n"
    "print(onednn_enabled())\n"
)


@pytest.mark.parametrize("setting, expected", [(None, "True"), ("0", "False"), ("1", "True")])
def test_setup_notebook_turns_onednn_on_unless_told_otherwise(setting, expected):
    # TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, at import: a fresh process is needed.
    import os
    import platform
    import subprocess
    import sys

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("enable_onednn sets TF_ENABLE_ONEDNN_OPTS on x86-64 only")

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run([sys.executable, "-c", _ONEDNN_PROBE], env=env, capture_output=True,
                            text=True, timeout=300, check=True)
    assert result.stdout.strip().splitlines()[-1] == expected
