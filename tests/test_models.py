"""Tests for cifar_helpers.models: the tutorial's network, its schedule, saving and loading."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from scipy.signal import correlate2d

from cifar_helpers import config
from cifar_helpers.models import SEED_PARAMETERS, build_seed_model
from cifar_helpers.optimizers import (
    SEED_DECAY,
    SEED_LEARNING_RATE,
    keras2_decay_schedule,
    keras2_learning_rate,
)
from cifar_helpers.predict import layer_outputs
from cifar_helpers.pretrained import load_or_train_seed_model
from cifar_helpers.saving import load_model, save_model

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_seed_model()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)


# --- the network -------------------------------------------------------------------------


def test_parameter_count(model):
    assert SEED_PARAMETERS == 4_210_090
    assert model.count_params() == SEED_PARAMETERS
    # By hand: (3*3*3*32 + 32) + (3*3*32*32 + 32) + (16*16*32*512 + 512) + (512*10 + 10)
    assert 896 + 9_248 + 4_194_816 + 5_130 == SEED_PARAMETERS


def test_layer_list(model):
    summary = []
    for layer in model.layers:
        cfg = layer.get_config()
        # The Keras class a layer is (FastDense is a keras.layers.Dense).
        kind = next(c.__name__ for c in type(layer).__mro__ if c.__module__.startswith("keras."))
        if kind == "Conv2D":
            assert isinstance(layer.kernel_constraint, keras.constraints.MaxNorm)
            assert layer.kernel_constraint.axis == 0  # Keras 2's maxnorm default
            summary.append((kind, cfg["filters"], tuple(cfg["kernel_size"]), cfg["padding"],
                            cfg["activation"], layer.kernel_constraint.max_value))
        elif kind == "Dense":
            summary.append((kind, cfg["units"], cfg["activation"],
                            getattr(layer.kernel_constraint, "max_value", None)))
        elif kind == "Dropout":
            summary.append((kind, cfg["rate"]))
        elif kind == "MaxPooling2D":
            summary.append((kind, tuple(cfg["pool_size"])))
        else:
            summary.append((kind,))
    assert summary == [
        ("Conv2D", 32, (3, 3), "same", "relu", 3.0),
        ("Dropout", 0.2),
        ("Conv2D", 32, (3, 3), "same", "relu", 3.0),
        ("MaxPooling2D", (2, 2)),
        ("Flatten",),
        ("Dense", 512, "relu", 3.0),
        ("Dropout", 0.5),
        ("Dense", 10, "softmax", None),
    ]
    assert [layer.name for layer in model.layers] == [
        "conv1", "dropout1", "conv2", "pool", "flatten", "dense", "dropout2", "output"
    ]
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)


def test_compiled_the_tutorials_way(model):
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.momentum) == pytest.approx(0.9)
    assert optimizer.nesterov is False
    assert isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)
    assert model.loss == "categorical_crossentropy"
    assert "accuracy" in str(model.get_compile_config()["metrics"])


@pytest.mark.parametrize("num_classes, params", [(2, 4_205_986), (100, 4_256_260)])
def test_other_class_counts(num_classes, params):
    assert build_seed_model(num_classes=num_classes, compile=False).count_params() == params


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 1}, "`num_classes` must be an int >= 2"),
        ({"num_classes": 10.0}, "`num_classes` must be an int >= 2"),
        ({"input_shape": (32, 32)}, "`input_shape` must be"),
        ({"input_shape": (31, 32, 3)}, "even H, W"),
        ({"input_shape": "32x32x3"}, "Received input_shape='32x32x3'"),
    ],
)
def test_build_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_seed_model(compile=False, **kwargs)


# --- Keras 2's decay ---------------------------------------------------------------------


@pytest.mark.parametrize("step", [0, 1, 2, 10, 1_563, 2_500, 15_630])
def test_schedule_is_keras2_decay(step):
    schedule = keras2_decay_schedule(SEED_LEARNING_RATE, SEED_DECAY)
    expected = 0.01 / (1 + 0.0004 * step)  # Keras 2: lr * 1 / (1 + decay * iterations)
    assert float(schedule(step)) == pytest.approx(expected, rel=1e-6)
    assert keras2_learning_rate(step) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("step", [0, 7, 1_563])
def test_optimizer_uses_the_schedule_at_its_step(step):
    optimizer = build_seed_model(compile=True).optimizer
    optimizer.iterations.assign(step)
    assert float(optimizer.learning_rate) == pytest.approx(0.01 / (1 + 0.0004 * step), rel=1e-6)


def test_schedule_round_trips_through_its_config():
    schedule = keras2_decay_schedule(0.05, 0.001)
    config_dict = keras.optimizers.schedules.serialize(schedule)
    restored = keras.optimizers.schedules.deserialize(config_dict)
    assert float(restored(123)) == pytest.approx(0.05 / (1 + 0.001 * 123), rel=1e-6)


@pytest.mark.parametrize(
    "learning_rate, decay, message",
    [(0, 0.1, "`learning_rate` must be > 0"), (0.01, -1, "`decay` must be >= 0")],
)
def test_schedule_errors(learning_rate, decay, message):
    with pytest.raises(ValueError, match=message):
        keras2_decay_schedule(learning_rate, decay)


# --- saving and loading ------------------------------------------------------------------


def test_save_load_round_trip_gives_identical_predictions(model, images, tmp_path):
    path = save_model(model, tmp_path / "sub" / "seed.keras")
    assert path.is_file()
    restored = keras.models.load_model(path)  # the speed-up classes are registered by now
    x = images.astype("float32") / 255.0
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert float(restored.optimizer.learning_rate) == pytest.approx(
        float(model.optimizer.learning_rate)
    )
    np.testing.assert_array_equal(
        load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert sorted(os.listdir(path.parent)) == ["seed.keras"]  # no temporary files left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain model.save would


def test_interrupted_save_keeps_the_old_model(model, images, tmp_path):
    path = save_model(model, tmp_path / "seed.keras")
    before = path.read_bytes()

    class CrashingModel:
        def save(self, filepath):
            with open(filepath, "wb") as handle:
                handle.write(b"half a model")
            raise KeyboardInterrupt("interrupted while saving")

    with pytest.raises(KeyboardInterrupt):
        save_model(CrashingModel(), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["seed.keras"]


def test_save_needs_keras_suffix(model, tmp_path):
    with pytest.raises(ValueError, match=r"must end in '\.keras'.*'\.h5'"):
        save_model(model, tmp_path / "seed.h5")


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        load_model(tmp_path / "nothing.keras")


@pytest.mark.parametrize("name", ["photo.keras", "model.h5"])
def test_load_wrong_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("not a model")
    with pytest.raises(ValueError, match="is not a Keras 3 model file"):
        load_model(path)


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_saving_over_a_file_keeps_its_permissions(small_model, tmp_path):
    path = tmp_path / "private.keras"
    path.write_bytes(b"old")
    path.chmod(0o600)
    save_model(small_model, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_model(path).count_params() == small_model.count_params()


def test_saving_through_a_symbolic_link_replaces_its_target(small_model, tmp_path):
    real = tmp_path / "models" / "real.keras"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.keras"
    link.symlink_to(real)
    save_model(small_model, link)
    assert link.is_symlink() and link.resolve() == real
    assert zipfile.is_zipfile(real)
    assert sorted(os.listdir(real.parent)) == ["real.keras"]  # the temporary file went there


def test_saving_removes_temporary_files_of_killed_saves_only(small_model, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = int(finished.stdout)  # a process that has ended
    orphans = [tmp_path / f".cifar-save-{dead}-0123abcd-seed.keras",
               tmp_path / ".seed-k2_x9q0z.keras"]  # from a save before this version, old
    live = tmp_path / f".cifar-save-{os.getppid()}-89abcdef-other.keras"  # a live process's
    for path in [*orphans, live]:
        path.write_bytes(b"half a model")
    old = os.stat(orphans[1]).st_mtime - 3600
    os.utime(orphans[1], (old, old))
    (tmp_path / ".seed-notes.keras").write_bytes(b"not ours")  # no temporary name: kept
    save_model(small_model, tmp_path / "seed.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, ".seed-notes.keras", "seed.keras"]
    )


def test_saving_to_a_folder_is_refused(small_model, tmp_path):
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        save_model(small_model, tmp_path / "folder.keras")


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda t: t / "new" / "sub" / "m.keras", None, None),
        (lambda t: t / "folder.keras", ValueError, r"must name a file, but .* is a folder"),
        (lambda t: t / "file" / "m.keras", OSError, r"Cannot save a model in '.*file'"),
        (lambda t: t / "model.h5", ValueError, r"must end in '\.keras'"),
    ],
)
def test_check_output_path(tmp_path, make, error, message):
    from cifar_helpers.saving import check_output_path

    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "file").write_text("in the way")
    if error is None:
        assert check_output_path(make(tmp_path)) == make(tmp_path)
        assert make(tmp_path).parent.is_dir() and not list(make(tmp_path).parent.iterdir())
    else:
        with pytest.raises(error, match=message):
            check_output_path(make(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in read-only folders")
def test_check_output_path_in_a_read_only_folder(tmp_path):
    from cifar_helpers.saving import check_output_path

    (tmp_path / "ro").mkdir(mode=0o500)
    with pytest.raises(PermissionError, match="Cannot save a model in .*ro.*Permission denied"):
        check_output_path(tmp_path / "ro" / "m.keras")


def _archive(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "members, message",
    [
        ({"config.json": b" " * (65 * 2**20)}, r"'config.json' inflates from [\d,]+ to "
         r"68,157,440 bytes"),
        ({"model.weights.h5": b"\0" * (4 * 2**20)}, r"'model.weights.h5' inflates from"),
    ],
)
def test_load_refuses_archives_that_inflate_implausibly(tmp_path, members, message):
    path = _archive(tmp_path / "bomb.keras", {"metadata.json": "{}", **members})
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_load_refuses_archives_larger_than_max_model_bytes(tmp_path, monkeypatch):
    from cifar_helpers import saving

    monkeypatch.setattr(saving, "MAX_MODEL_BYTES", 1000)
    path = _archive(tmp_path / "big.keras", {"config.json": "{}", "w": b"x" * 2000},
                    compression=zipfile.ZIP_STORED)
    with pytest.raises(ValueError, match=r"would unpack to 0\.0 GB, more than .*MAX_MODEL_BYTES"):
        load_model(path)


def test_load_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is a folder, not a model file"):
        load_model(tmp_path)


def test_load_or_train_loads_an_existing_model(model, images, tmp_path, monkeypatch):
    path = save_model(model, tmp_path / "trained.keras")
    monkeypatch.setattr(
        "cifar_helpers.pretrained.train_quick_seed_model",
        lambda *a, **k: pytest.fail("should not train"),
    )
    loaded = load_or_train_seed_model(path)
    x = images.astype("float32") / 255.0
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_or_train_trains_a_stand_in_once(cifar10_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setenv(config.QUICK_ENV, "0")
    stand_in = load_or_train_seed_model()
    message = capsys.readouterr().out
    assert message.count("\n") == 1
    assert "No trained model at models/seed_cnn.keras" in message
    assert "notebook 09" in message and "cifar-course train" in message
    quick_path = tmp_path / "models" / "seed_cnn_quick.keras"
    assert quick_path.is_file() and not (tmp_path / "models" / "seed_cnn.keras").exists()
    assert stand_in.count_params() == SEED_PARAMETERS
    # The next call reuses the stand-in instead of training again.
    monkeypatch.setattr(
        "cifar_helpers.pretrained.train_quick_seed_model",
        lambda *a, **k: pytest.fail("should not train twice"),
    )
    load_or_train_seed_model()
    assert "quick stand-in" in capsys.readouterr().out
    # In quick mode the quick path is the model's own path: it loads silently.
    monkeypatch.setenv(config.QUICK_ENV, "1")
    load_or_train_seed_model()
    assert capsys.readouterr().out == ""


# --- looking inside ----------------------------------------------------------------------


def test_layer_outputs_shapes_and_first_convolution(model, images):
    outputs = layer_outputs(model, images[0])
    assert [value.shape for value in outputs.values()] == [
        (32, 32, 32), (32, 32, 32), (16, 16, 32)
    ]
    first = next(iter(outputs.values()))
    kernel, bias = model.layers[0].get_weights()
    x = images[0].astype(np.float64) / 255.0
    for f in (0, 17, 31):
        total = sum(correlate2d(x[..., c], kernel[..., c, f], mode="same") for c in range(3))
        np.testing.assert_allclose(first[..., f], np.maximum(total + bias[f], 0), atol=1e-4)


def test_layer_outputs_named_layers(model, images):
    name = model.layers[3].name
    outputs = layer_outputs(model, images[0], layer_names=[name])
    assert list(outputs) == [name] and outputs[name].shape == (16, 16, 32)


def test_layer_outputs_errors(model, images):
    with pytest.raises(ValueError, match=r"uint8 pixels in 0..255 or floats in \[0, 1\]"):
        layer_outputs(model, images[0].astype(np.float32))  # 0..255 floats: not scaled
    with pytest.raises(ValueError, match=r"one image of shape \(32, 32, 3\)"):
        layer_outputs(model, images[0][:16])
    with pytest.raises(ValueError, match="Unknown layer names"):
        layer_outputs(model, images[0], layer_names=["nope"])


def test_importing_does_not_load_tensorflow():
    code = (
        "import sys, cifar_helpers.predict, cifar_helpers.metrics, "
        "cifar_helpers.plotting, cifar_helpers.cli; "
        "print(any(m in sys.modules for m in ('tensorflow', 'keras', 'matplotlib.pyplot')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_a_fresh_process_loads_a_saved_seed_model(model, images, tmp_path):
    # Nothing built or registered in the new process: load_model registers the
    # course's Keras classes (cifar_helpers.speedups, the fast recipes) itself.
    keras.utils.set_random_seed(0)
    path = save_model(build_seed_model(speedups=True), tmp_path / "seed.keras")
    code = (
        "import sys, numpy as np; from cifar_helpers.saving import load_model; "
        "m = load_model(sys.argv[1]); "
        "print(type(m.get_layer('dense')).__name__, type(m.optimizer).__name__, "
        "round(float(m.predict(np.full((1, 32, 32, 3), 0.5, 'float32'), verbose=0).sum()), 4))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.stdout.strip().splitlines()[-1] == "FastDense FusedSGD 1.0"
