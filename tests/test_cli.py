"""Tests for the ``cifar-course`` command line (cifar_helpers.cli)."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cifar_helpers.cli import main


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    path = tmp_path / "my photo.jpg"
    Image.fromarray(pixels).save(path)
    return path


def test_train_evaluate_predict_end_to_end(cifar10_dir, tmp_path, photo, capsys, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    out = tmp_path / "model.keras"
    assert main(["train", "--quick", "--out", str(out), "--seed", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("training the seed model on 1,000 images (quick run, 1 epoch")
    assert re.fullmatch(r"epoch 1/1  [\d.]+ s  loss [\d.]+  accuracy [\d.]+  val_loss [\d.]+  "
                        r"val_accuracy [\d.]+  lr [\d.]+", lines[1])
    assert lines[2] == f"saved {out}"
    trained = re.fullmatch(r"test accuracy: ([\d.]+)% \(1,000 test images\)", lines[3])
    assert trained and len(lines) == 4
    assert out.is_file() and not (tmp_path / "model.keras.backup").exists()

    assert main(["evaluate", str(out), "--quick"]) == 0
    evaluated = re.fullmatch(r"model\.keras: test accuracy ([\d.]+)% \(1,000 test images\)\n",
                             capsys.readouterr().out)
    assert evaluated and evaluated.group(1) == trained.group(1)

    assert main(["predict", str(out), str(photo), str(photo), "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"my photo\.jpg: [a-z]+ [\d.]+%, [a-z]+ [\d.]+%", lines[0])


def test_train_with_mixed_precision_saves_a_bfloat16_model(cifar10_dir, tmp_path, capsys,
                                                           monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    out = tmp_path / "bf16.keras"
    assert main(["train", "--quick", "--mixed-precision", "--validation", "none",
                 "--out", str(out)]) == 0
    assert re.fullmatch(r"test accuracy: [\d.]+% \(1,000 test images\)",
                        capsys.readouterr().out.splitlines()[-1])
    from cifar_helpers.saving import load_model

    model = load_model(out)
    assert model.get_layer("dense").compute_dtype == "bfloat16"
    assert model.get_layer("output").compute_dtype == "float32"


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    import keras

    from cifar_helpers.models import build_seed_model
    from cifar_helpers.saving import save_model

    keras.utils.set_random_seed(0)
    return save_model(build_seed_model(), tmp_path_factory.mktemp("m") / "seed.keras")


def test_predict_prints_one_line_per_photo(saved_model, photo, capsys):
    assert main(["predict", str(saved_model), str(photo)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("my photo.jpg: ") and out.count("%") == 3


@pytest.mark.parametrize(
    "make_argv, message",
    [
        (lambda d, m, p: ["predict", str(d / "missing.keras"), str(p)], "No model file"),
        (lambda d, m, p: ["evaluate", str(d / "missing.keras")], "No model file"),
        (lambda d, m, p: ["predict", str(p), str(p)], "is not a Keras 3 model file"),
        (lambda d, m, p: ["predict", str(m), str(d / "nowhere.jpg")], "does not exist"),
        (lambda d, m, p: ["predict", str(m), str(d / "notes.jpg")], "not an image Pillow can read"),
        (lambda d, m, p: ["predict", str(m), str(p), "--top-k", "0"], "`top_k` must be an int"),
        (lambda d, m, p: ["train", "--out", str(d / "model.h5")], "--out must end in .keras"),
        (lambda d, m, p: ["train", "--epochs", "0"], "--epochs must be a positive int"),
    ],
)
def test_errors_exit_non_zero_with_one_line(saved_model, photo, tmp_path, capsys, make_argv,
                                            message):
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert main(make_argv(tmp_path, saved_model, photo)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("cifar-course ")
    assert message in captured.err


def test_missing_data_folder_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "no-such-folder"))
    assert main(["evaluate", str(tmp_path / "x.keras")]) == 1  # the model is checked first
    assert "No model file" in capsys.readouterr().err
    assert main(["train", "--quick", "--out", str(tmp_path / "m.keras")]) == 1
    assert "which is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [[], ["fly"], ["train", "--model", "resnet"], ["train", "--validation", "sometimes"]],
)
def test_bad_arguments_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert "usage: cifar-course" in capsys.readouterr().err


def test_entry_point_is_installed():
    executable = shutil.which("cifar-course")
    command = [executable] if executable else [sys.executable, "-m", "cifar_helpers.cli"]
    result = subprocess.run([*command, "--help"], capture_output=True, text=True, check=True)
    for word in ("train", "evaluate", "predict"):
        assert word in result.stdout


def test_error_in_a_real_process_is_one_line_without_tensorflow_noise(saved_model, tmp_path):
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("this is text, not a JPEG")
    executable = shutil.which("cifar-course")
    command = [executable] if executable else [sys.executable, "-m", "cifar_helpers.cli"]
    result = subprocess.run([*command, "predict", str(saved_model), str(not_a_photo)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("cifar-course predict: error: 'notes.jpg' is not an image")
