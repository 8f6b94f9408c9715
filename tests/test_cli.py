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
    out = tmp_path / "new folder" / "model.keras"  # missing folders are created
    assert main(["train", "--quick", "--out", str(out), "--seed", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # The default validation holds out 10% of the quick subset, never the test set.
    assert lines[0].startswith("training the seed model on 900 images (quick run, 1 epoch")
    assert lines[0].endswith("validation: split)")
    assert re.fullmatch(r"epoch 1/1  [\d.]+ s  loss [\d.]+  accuracy [\d.]+  val_loss [\d.]+  "
                        r"val_accuracy [\d.]+  lr [\d.]+", lines[1])
    assert lines[2] == f"saved {out}"
    trained = re.fullmatch(r"test accuracy: ([\d.]+)% \(1,000 test images\)", lines[3])
    assert trained and len(lines) == 4
    assert out.is_file() and not (out.parent / "model.keras.backup").exists()

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


# --- nothing trained is lost -------------------------------------------------------------

PREFLIGHT = """
import sys, time
start = time.perf_counter()
from cifar_helpers.cli import main
status = main(sys.argv[1:])
print("tensorflow" in sys.modules, "keras" in sys.modules, f"{time.perf_counter() - start:.2f}")
sys.exit(status)
"""


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda t: t / "folder.keras", r"--out must name a file, but '.*' is a folder"),
        (lambda t: t / "file" / "m.keras", r"Cannot save a model in '.*file': '.*file' is a "
         r"file, not a folder"),
        (lambda t: t / "file" / "sub" / "m.keras", r"Cannot save a model in .*file"),
        (lambda t: t / "taken.keras", r"Cannot write the training backup in "
         r"'.*taken\.keras\.backup': '.*' is a file, not a folder"),
    ],
    ids=["a folder", "parent is a file", "grandparent is a file", "backup is a file"],
)
def test_train_refuses_an_output_it_cannot_write_before_loading_anything(tmp_path, make,
                                                                        message):
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "file").write_text("in the way")
    (tmp_path / "taken.keras.backup").write_text("in the way")
    result = subprocess.run([sys.executable, "-c", PREFLIGHT, "train", "--quick", "--out",
                             str(make(tmp_path))], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("cifar-course train: error:")
    assert re.search(message, result.stderr), result.stderr
    tensorflow, keras, seconds = result.stdout.split()
    assert (tensorflow, keras) == ("False", "False")  # refused before TensorFlow loaded
    assert float(seconds) < 5  # typically 0.1 s


def test_a_failed_final_save_rescues_the_model_and_keeps_the_backup(cifar10_dir, tmp_path,
                                                                   capsys, monkeypatch):
    from cifar_helpers import saving, training
    from cifar_helpers.saving import load_model

    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    out = tmp_path / "model.keras"
    backup = tmp_path / "model.keras.backup"

    def disk_full_for_out(model, path):
        if path == out:
            raise OSError(28, "No space left on device")
        return saving.save_model(model, path)

    monkeypatch.setattr(training, "save_model", disk_full_for_out)
    argv = ["train", "--quick", "--validation", "none", "--out", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    rescued = re.search(r"It was saved to '([^']+)' instead", err).group(1)
    assert f"Could not save the trained model to '{out}' (" in err and "No space left" in err
    assert f"The training backup in '{backup}' is kept." in err
    assert rescued.startswith(str(tmp_path)) and load_model(rescued)
    assert (backup / "latest.weights.h5").is_file() and not out.exists()

    monkeypatch.setattr(training, "save_model", saving.save_model)  # the disk has room again
    assert main(argv) == 0  # the same command: nothing left to train, it only saves
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "resuming after epoch 1/1 from the backup"
    assert lines[2] == f"saved {out}" and out.is_file() and not backup.exists()


def test_restart_flag_reaches_train(tmp_path, monkeypatch, cifar10_dir):
    from cifar_helpers import training

    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    seen = {}

    def fake_train(model, x, y, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", fake_train)
    assert main(["train", "--quick", "--restart", "--out", str(tmp_path / "m.keras")]) == 130
    assert seen["restart"] is True and seen["delete_backup"] is False


# --- errors are one plain line -------------------------------------------------------------


def test_evaluating_a_model_of_another_input_size_is_one_plain_line(cifar10_dir, tmp_path,
                                                                    capsys, monkeypatch):
    import keras

    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    model = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "big.keras")
    assert main(["evaluate", str(tmp_path / "big.keras"), "--quick"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert "must have the model's input shape (N, 64, 64, 3). Received images.shape=" in err


def test_unexpected_errors_are_one_plain_line_without_colours(capsys, monkeypatch):
    from cifar_helpers import cli

    def broken(args):
        raise RuntimeError("\x1b[1mboom\x1b[0m\n  in some layer")

    monkeypatch.setattr(cli, "_predict", broken)
    assert main(["predict", "m.keras", "p.jpg"]) == 1
    err = capsys.readouterr().err
    assert err == "cifar-course predict: error: RuntimeError: boom in some layer\n"
