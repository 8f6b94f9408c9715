"""Tests for Muon: `orthogonalize` against the SVD, `MuonSGD` against airbench's update."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cifar_helpers.optimizers import (
    BiasScaledSGD,
    MuonSGD,
    muon_step_numpy,
    orthogonalize,
    orthogonalize_numpy,
)
from cifar_helpers.recipes import CONFIGS, FastConfig, compile_for

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("shape", [(288, 32), (32, 288), (1728, 192), (9, 9)])
def test_orthogonalize_keeps_singular_vectors_and_evens_out_singular_values(shape):
    rng = np.random.default_rng(0)
    k = min(shape)
    u, _ = np.linalg.qr(rng.normal(size=(shape[0], k)))
    v, _ = np.linalg.qr(rng.normal(size=(shape[1], k)))
    singular_values = np.geomspace(1, 30, k)
    out = orthogonalize_numpy(u @ np.diag(singular_values) @ v.T)
    # In the SVD's own basis the result is diagonal: the same singular vectors.
    inner = u.T @ out @ v
    diagonal = np.diag(inner)
    assert np.abs(inner - np.diag(diagonal)).max() < 1e-9
    # Singular values spread over 30x come out below 1.25 and at least five times less
    # spread (three steps do not bring the smallest all the way to 1).
    assert diagonal.max() < 1.25 and diagonal.min() > 0.2
    assert diagonal.max() / diagonal.min() < 30 / 5


def test_orthogonalize_of_a_scaled_orthogonal_matrix_is_near_itself():
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(20, 20)))
    out = orthogonalize_numpy(7.0 * q, steps=5)
    # Every singular value of 7q/||7q|| is 1/sqrt(20); five steps bring it near 1.
    # All equal singular values stay equal: the result is q itself, scaled.
    scale = np.linalg.norm(out) / np.sqrt(20)
    np.testing.assert_allclose(out, scale * q, atol=1e-9)
    assert 0.6 < scale < 1.25


def test_orthogonalize_rejects_other_ranks():
    with pytest.raises(ValueError, match="must be 2-D. Received shape"):
        orthogonalize_numpy(np.ones((2, 2, 2)))


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), seed=st.integers(0, 10**6))
def test_keras_orthogonalize_matches_numpy(rows, cols, seed):
    matrix = np.random.default_rng(seed).normal(size=(rows, cols)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(orthogonalize(matrix)), orthogonalize_numpy(matrix),
                               atol=2e-5)


def test_muon_step_numpy_is_airbench_update_by_hand():
    # A 1x1 convolution from 2 channels to 1: the kernel is a (2, 1) matrix whose
    # orthogonalized gradient is the unit vector along it (up to Newton-Schulz's scale).
    kernel = np.array([3.0, 4.0]).reshape(1, 1, 2, 1)
    gradient = np.array([1.0, 0.0]).reshape(1, 1, 2, 1)
    new, buffer = muon_step_numpy(kernel, gradient, np.zeros_like(kernel), learning_rate=0.1,
                                  momentum=0.5, steps=3)
    np.testing.assert_allclose(buffer, gradient)
    direction = orthogonalize_numpy(np.array([[1.5], [0.0]]), steps=3)  # g + 0.5 * buffer
    rescaled = kernel.ravel() * 1.0 / 5.0  # norm sqrt(out channels) = 1
    np.testing.assert_allclose(new.ravel(), rescaled - 0.1 * direction.ravel())
    assert direction[1, 0] == 0 and 0.5 < direction[0, 0] < 1.25


def test_muon_sgd_matches_the_numpy_reference_over_two_steps():
    rng = np.random.default_rng(2)
    start = rng.normal(size=(3, 3, 4, 6)).astype(np.float32)
    gradients = [rng.normal(size=start.shape).astype(np.float32) for _ in range(2)]
    variable = keras.Variable(start, name="kernel")
    optimizer = MuonSGD(learning_rate=0.5, momentum=0.85, nesterov=True, l2=0.01,
                        muon_scale=0.4, muon_momentum=0.6)
    kernel, buffer = start, np.zeros_like(start)
    for gradient in gradients:
        optimizer.apply_gradients([(gradient, variable)])
        kernel, buffer = muon_step_numpy(kernel, gradient, buffer, 0.5 * 0.4, momentum=0.6)
    np.testing.assert_allclose(np.asarray(variable), kernel, atol=1e-5)


@pytest.mark.parametrize("name, shape", [("beta", (5,)), ("kernel", (8, 3))])
def test_muon_sgd_leaves_other_weights_to_bias_scaled_sgd(name, shape):
    rng = np.random.default_rng(3)
    start = rng.normal(size=shape).astype(np.float32)
    gradient = rng.normal(size=shape).astype(np.float32)
    arguments = dict(learning_rate=0.1, momentum=0.85, nesterov=True, l2=0.01,
                     bias_lr_scale=64.0)
    muon_variable, sgd_variable = keras.Variable(start, name=name), keras.Variable(start, name=name)
    MuonSGD(**arguments, muon_scale=3.0).apply_gradients([(gradient, muon_variable)])
    BiasScaledSGD(**arguments).apply_gradients([(gradient, sgd_variable)])
    np.testing.assert_array_equal(np.asarray(muon_variable), np.asarray(sgd_variable))
    assert not np.allclose(np.asarray(muon_variable), start)


def test_muon_sgd_round_trips_its_config():
    optimizer = MuonSGD(learning_rate=0.2, momentum=0.85, l2=0.002, bias_lr_scale=64.0,
                        muon_scale=0.3, muon_momentum=0.5, newton_schulz_steps=4)
    again = MuonSGD.from_config(optimizer.get_config())
    assert (again.muon_scale, again.muon_momentum, again.newton_schulz_steps) == (0.3, 0.5, 4)
    assert (again.l2, again.bias_lr_scale) == (0.002, 64.0)


@pytest.mark.parametrize("arguments, message", [
    (dict(muon_scale=0.0), "`muon_scale` must be > 0"),
    (dict(muon_momentum=1.0), "`muon_momentum` in \\[0, 1\\)"),
    (dict(newton_schulz_steps=0), "`newton_schulz_steps` must be a positive int"),
])
def test_muon_sgd_rejects_bad_settings(arguments, message):
    with pytest.raises(ValueError, match=message):
        MuonSGD(learning_rate=0.1, **arguments)


def test_config_picks_muon_with_its_learning_rate_relative_to_the_schedule():
    config = dataclasses.replace(FastConfig(widths=(4, 8, 8)), optimizer="muon",
                                 learning_rate=0.8, muon_learning_rate=0.24)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    compile_for(model, config, steps_per_epoch=10)
    assert isinstance(model.optimizer, MuonSGD)
    assert model.optimizer.muon_scale == pytest.approx(0.3)
    compile_for(model, dataclasses.replace(config, optimizer="sgd"), steps_per_epoch=10)
    assert type(model.optimizer) is BiasScaledSGD


@pytest.mark.parametrize("fields, message", [
    (dict(optimizer="adam"), "`optimizer` must be 'sgd' or 'muon'. Received 'adam'"),
    (dict(muon_learning_rate=0.0), "`muon_learning_rate` must be > 0"),
    (dict(muon_momentum=-0.1), "`muon_momentum` in \\[0, 1\\)"),
])
def test_config_rejects_bad_muon_settings(fields, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CONFIGS["fast-90"], **fields)


def test_a_model_trained_with_muon_saves_and_loads_with_its_optimizer(tmp_path):
    from cifar_helpers.models import build_fast_model
    from cifar_helpers.saving import load_model, save_model

    config = FastConfig(name="tiny-muon", widths=(4, 8), epochs=1, batch_size=8,
                        optimizer="muon")
    model = build_fast_model(widths=(4, 8))
    compile_for(model, config, steps_per_epoch=5)
    rng = np.random.default_rng(4)
    images = rng.random((8, 32, 32, 3)).astype(np.float32)
    before = np.asarray(model.get_layer("group1_conv2").kernel)
    model.train_on_batch(images, np.eye(10, dtype=np.float32)[np.arange(8)])
    kernel = np.asarray(model.get_layer("group1_conv2").kernel)
    assert not np.allclose(kernel, before)
    path = save_model(model, tmp_path / "fast.keras")
    loaded = load_model(path)
    assert type(loaded.optimizer).__name__ == "MuonSGD"
    assert loaded.optimizer.muon_scale == pytest.approx(config.muon_learning_rate
                                                        / config.learning_rate)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-6)


def test_muon_sgd_moves_an_all_zero_kernel_without_nans():
    gradient = np.random.default_rng(5).normal(size=(3, 3, 2, 4)).astype(np.float32)
    variable = keras.Variable(np.zeros_like(gradient), name="kernel")
    MuonSGD(learning_rate=0.1, muon_scale=1.0).apply_gradients([(gradient, variable)])
    expected, _ = muon_step_numpy(np.zeros_like(gradient), gradient, np.zeros_like(gradient), 0.1)
    assert np.all(np.isfinite(np.asarray(variable)))
    np.testing.assert_allclose(np.asarray(variable), expected, atol=1e-6)
    assert np.abs(expected).max() > 0
