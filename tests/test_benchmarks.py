"""The benchmark script's result line and record (benchmarks/train_speed.py)."""

import json
import os
import platform
import re

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("onednn_setting_restored")


CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 fma {extra}

processor\t: 1
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 fma {extra}
"""


@pytest.mark.parametrize("extra, vector", [("", "AVX2"), ("avx512f avx512bw", "AVX-512")])
def test_cpu_description_names_model_and_vector_unit(train_speed, extra, vector):
    described = train_speed.cpu_description(CPUINFO.format(extra=extra))
    assert described == f"Example CPU 9000 ({vector})"


def test_cpu_description_without_avx2(train_speed):
    assert train_speed.cpu_description("model name : Old CPU\nflags : fpu sse2\n") == (
        "Old CPU (no AVX2)"
    )


def test_machine_line_names_backend_and_gpus(train_speed):
    line = train_speed.machine()
    assert "tensorflow backend (tensorflow " in line and "Keras 3." in line
    assert ", oneDNN on)" in line or ", oneDNN off)" in line  # default: test_speedups
    assert line.endswith("GPUs: 0")  # the test machines have none


def test_fast_recipe_run_prints_and_records_its_result(train_speed, monkeypatch, tmp_path, capsys):
    import cifar_helpers.data
    from cifar_helpers.recipes import CONFIGS

    rng = np.random.default_rng(0)

    def tiny_cifar10(data_dir=None):
        images = rng.integers(0, 256, (600, 32, 32, 3), dtype=np.uint8)
        labels = np.arange(600).reshape(-1, 1) % 10
        return (images[:500], labels[:500]), (images[500:], labels[500:])

    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", tiny_cifar10)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    record = tmp_path / "runs.jsonl"
    train_speed.main(["fast-90", "--epochs", "1", "--seed-batches", "0", "--record", str(record)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.match(r"fast-90( \(mixed_bfloat16\))?: test \(100 images\) accuracy ", last), last
    assert "1 epochs" in last and last.endswith(train_speed.machine())
    run = json.loads(record.read_text())
    assert run["config"] == "fast-90" and run["epochs"] == 1
    assert run["recipe"]["optimizer"] == CONFIGS["fast-90"].optimizer
    assert run["lookahead_every"] == CONFIGS["fast-90"].lookahead_every
    assert run["batch_norm_kernel"] == "fused" and "model" not in run  # TensorFlow backend
    assert run["scored_in"] == run["dtype_policy"]
    assert 0 <= run["accuracy"] <= 1 and run["train_seconds"] > 0
    if platform.machine().lower() in ("x86_64", "amd64"):  # the entry point asked for oneDNN
        assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


# --- benchmarks/seed_step_profile.py -----------------------------------------------------------

@pytest.fixture(scope="module")
def step_profile(load_benchmark):
    return load_benchmark("seed_step_profile")


def test_step_profile_kernels_match_the_model_layers(step_profile):
    """Each timed kernel computes what the layer's own ops compute, with its FLOP count."""
    import tensorflow as tf

    from cifar_helpers.models import build_seed_model

    model = build_seed_model()
    x = tf.random.uniform((step_profile.BATCH, 32, 32, 3), seed=0)
    found = step_profile.kernels(model, x)
    conv1 = model.get_layer("conv1")
    # conv1 forward is the layer's convolution before bias and ReLU
    expected = tf.nn.conv2d(x, conv1.kernel, 1, "SAME")
    np.testing.assert_allclose(found["conv1 forward"][0](), expected, rtol=1e-5, atol=1e-5)
    flops = {name: count for name, (_, count) in found.items()}
    assert flops["conv2 forward"] == 2 * 32 * 32 * 32 * 288 * 32  # 604 MFLOP, worked by hand
    assert flops["dense forward"] == 2 * 32 * 8192 * 512
    assert sum(flops.values()) == 2_730_491_904  # the 2.73 GFLOP the docstring quotes
    for name, (fn, _) in found.items():  # every kernel runs and gives the gradient's shape
        assert fn().shape.rank in (2, 4), name


def test_step_profile_prints_every_line(step_profile, capsys):
    assert step_profile.main(["--calls", "1", "--repeats", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "oneDNN" in lines[0] and len(lines) == 1 + 2 + 8 + 2 + 1
    assert "2.73 GFLOP" in lines[-3]
    assert lines[-1].startswith("=> per 50,000-image epoch (1,563 steps of 32): whole steps ")


@pytest.mark.parametrize("argv", [["--calls", "0"], ["--repeats", "-1"]])
def test_step_profile_refuses_bad_counts(step_profile, argv, capsys):
    with pytest.raises(SystemExit) as raised:
        step_profile.main(argv)
    assert raised.value.code == 2 and "should be >= 1" in capsys.readouterr().err


# --- benchmarks/step_levers.py ----------------------------------------------------------------

@pytest.fixture(scope="module")
def step_levers(load_benchmark):
    return load_benchmark("step_levers")


def test_step_levers_times_each_combination(step_levers, monkeypatch, capsys):
    import argparse

    import cifar_helpers.data
    from cifar_helpers import recipes
    from cifar_helpers.speedups import FusedBatchNormalization

    rng = np.random.default_rng(1)

    def tiny_cifar10(data_dir=None):
        images = rng.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
        return (images, np.arange(80).reshape(-1, 1) % 10), (images[:10], np.zeros((10, 1)))

    built = []
    real_build = recipes.build_model_for

    def spy_build(*args, **kwargs):
        model = real_build(*args, **kwargs)
        built.append({type(layer) for layer in model.layers if "_bn" in layer.name})
        return model

    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", tiny_cifar10)
    monkeypatch.setattr(recipes, "build_model_for", spy_build)
    step_levers.main(["--widths", "8,16,16", "--activations", "relu", "--dtype", "float32",
                      "--images", "64", "--batch-size", "32", "--steps", "1", "--repeats", "1",
                      "--xla"])
    lines = capsys.readouterr().out.strip().splitlines()
    labels = [line.split(": ")[0] for line in lines]
    assert labels == ["widths (8, 16, 16), relu, keras, float32",
                      "widths (8, 16, 16), relu, keras, float32, XLA",
                      "widths (8, 16, 16), relu, fused, float32",
                      "widths (8, 16, 16), relu, fused, float32, XLA"]
    assert all(re.fullmatch(r".*: \d+\.\d{3} ms/image", line) for line in lines), lines
    import keras

    assert built == [{keras.layers.BatchNormalization}] * 2 + [{FusedBatchNormalization}] * 2
    assert step_levers.step_line((8,), "gelu", "keras", "float32", False, 0.0012345) == (
        "widths (8,), gelu, keras, float32: 1.234 ms/image")
    assert step_levers.step_line((8,), "relu", "fused", "float32", True, 0.002, 20) == (
        "widths (8,), relu, fused, float32, XLA, 20 px: 2.000 ms/image")
    with pytest.raises(argparse.ArgumentTypeError, match="Received '8,x'"):
        step_levers.widths_argument("8,x")
    with pytest.raises(SystemExit):
        step_levers.main(["--images", "10", "--batch-size", "32"])
    with pytest.raises(SystemExit):
        step_levers.main(["--sizes", "8"])
    assert "--sizes must be from 9 to 32 pixels. Received [8]" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # without --batch-size, the race recipe's batch
        step_levers.main(["--images", "64"])
    batch = recipes.CONFIGS["fast-90"].batch_size
    assert f"--images (64) must be at least --batch-size ({batch})" in capsys.readouterr().err


#: One small step of step_levers on 64 fake images: the settings its tests share.
TINY_STEP_ARGS = ["--widths", "8,16,16", "--activations", "relu", "--dtype", "float32",
                  "--images", "64", "--batch-size", "32", "--steps", "1", "--repeats", "1"]


def _fake_cifar10(monkeypatch, seed):
    """Make `load_cifar10` return 64 random training images (and 10 test ones); return them."""
    import cifar_helpers.data

    images = np.random.default_rng(seed).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", lambda data_dir=None: (
        (images, np.arange(64).reshape(-1, 1) % 10), (images[:10], np.zeros((10, 1)))))
    return images


def test_step_levers_times_smaller_windows_on_one_network(step_levers, monkeypatch, capsys):
    from cifar_helpers import recipes

    images = _fake_cifar10(monkeypatch, seed=2)
    timed = []
    real_seconds = recipes.seconds_per_image

    def spy_seconds(model, windows, *args, **kwargs):
        timed.append((model.input_shape, windows))
        return real_seconds(model, windows, *args, **kwargs)

    monkeypatch.setattr(recipes, "seconds_per_image", spy_seconds)
    step_levers.main(TINY_STEP_ARGS + ["--sizes", "32", "20"])
    labels = [line.split(": ")[0] for line in capsys.readouterr().out.strip().splitlines()]
    assert labels == ["widths (8, 16, 16), relu, keras, float32",
                      "widths (8, 16, 16), relu, keras, float32, 20 px",
                      "widths (8, 16, 16), relu, fused, float32",
                      "widths (8, 16, 16), relu, fused, float32, 20 px"]
    # One network per kernel, taking any size; the 20 px windows are the images' centres.
    assert [shape for shape, _ in timed] == [(None, None, None, 3)] * 4
    for (_, whole), (_, window) in (timed[:2], timed[2:]):
        np.testing.assert_array_equal(whole, images)
        np.testing.assert_array_equal(window, images[:, 6:26, 6:26])


def test_step_levers_times_each_optimizer(step_levers, monkeypatch, capsys):
    from cifar_helpers import recipes

    _fake_cifar10(monkeypatch, seed=5)
    compiled = []
    real_compile = recipes.compile_for

    def spy_compile(model, config, steps):
        real_compile(model, config, steps)
        compiled.append(type(model.optimizer).__name__)
        return model

    monkeypatch.setattr(recipes, "compile_for", spy_compile)
    step_levers.main(TINY_STEP_ARGS + ["--optimizers", "sgd", "muon"])
    labels = [line.split(": ")[0] for line in capsys.readouterr().out.strip().splitlines()]
    assert labels == ["widths (8, 16, 16), relu, keras, float32, sgd",
                      "widths (8, 16, 16), relu, fused, float32, sgd",
                      "widths (8, 16, 16), relu, keras, float32, muon",
                      "widths (8, 16, 16), relu, fused, float32, muon"]
    assert compiled == ["BiasScaledSGD"] * 2 + ["MuonSGD"] * 2


# --- benchmarks/scoring_speed.py ---------------------------------------------------------------

def test_scoring_speed_times_both_ways_and_they_agree(load_benchmark, monkeypatch, capsys):
    import cifar_helpers.data

    scoring_speed = load_benchmark("scoring_speed")
    images = np.random.default_rng(3).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", lambda data_dir=None: (
        (images, np.arange(40).reshape(-1, 1) % 10), (images[:30], np.zeros((30, 1)))))
    scoring_speed.main(["--images", "25", "--repeats", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        match = re.fullmatch(r"predict_tta: (\d+\.\d) s; model\.predict per pass: (\d+\.\d) s; "
                             r"ratio (\d+\.\d\d) \(25 images\)", line)
        assert match, line
    assert scoring_speed.scoring_line(19.34, 24.41, 10_000) == (
        "predict_tta: 19.3 s; model.predict per pass: 24.4 s; ratio 0.79 (10,000 images)")
    with pytest.raises(SystemExit):
        scoring_speed.main(["--repeats", "0"])
    assert "--images and --repeats must be positive" in capsys.readouterr().err
