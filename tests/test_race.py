"""The race between the seed and fast recipes (benchmarks/train_speed.py), the ablation
script (benchmarks/ablation.py) and ``cifar-course train --model fast``."""

import contextlib
import dataclasses
import io
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from cifar_helpers.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
PHOTO = ROOT / "images" / "truck_1.jpg"

RACE_LINE = re.compile(
    r"race: fast (\d+\.\d\d)% in (\d+) s; seed (\d+\.\d\d)% in (\d+) s; "
    r"time ratio T1/T2 = (\d+\.\d\d); (.+)"
)


pytestmark = pytest.mark.usefixtures("onednn_setting_restored")


@pytest.fixture
def tiny_cifar10(monkeypatch):
    """600 random images (500 train, 100 test) in place of CIFAR-10, as test_benchmarks does."""
    import cifar_helpers.data

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (600, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(600).reshape(-1, 1) % 10).astype(np.uint8)

    def load(data_dir=None):
        return (images[:500], labels[:500]), (images[500:], labels[500:])

    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", load)
    return images, labels


# --- race_line and parse_settings ----------------------------------------------------------

@pytest.mark.parametrize(
    "race, expected",
    [
        ({"fast_accuracy": 0.89614, "fast_seconds": 480.4, "seed_accuracy": 0.6799,
          "seed_seconds": 490.0, "time_ratio": 480.4 / 490.0},
         "race: fast 89.61% in 480 s; seed 67.99% in 490 s; time ratio T1/T2 = 0.98; "
         "2 CPU cores, Example CPU (AVX2)"),
        ({"fast_accuracy": 0.9, "fast_seconds": 59.7, "seed_accuracy": 0.655,
          "seed_seconds": 1199.6, "time_ratio": 59.7 / 1199.6},
         "race: fast 90.00% in 60 s; seed 65.50% in 1200 s; time ratio T1/T2 = 0.05; "
         "2 CPU cores, Example CPU (AVX2)"),
        ({"fast_accuracy": 1.0, "fast_seconds": 750.0, "seed_accuracy": 0.1,
          "seed_seconds": 300.2, "time_ratio": 750.0 / 300.2},
         "race: fast 100.00% in 750 s; seed 10.00% in 300 s; time ratio T1/T2 = 2.50; "
         "2 CPU cores, Example CPU (AVX2)"),
    ],
)
def test_race_line_known_numbers(train_speed, race, expected):
    assert train_speed.race_line(race, "2 CPU cores, Example CPU (AVX2)") == expected


def test_parse_settings_reads_python_literals_and_keeps_other_text(train_speed):
    settings = train_speed.parse_settings([
        "epochs=3", "learning_rate=0.5", "widths=(8,16,16)", "tta=False",
        "dtype_policy=mixed_bfloat16", "flip=none", "name=my recipe", "small_size=24",
        "activation='relu'",
    ])
    assert settings == {"epochs": 3, "learning_rate": 0.5, "widths": (8, 16, 16), "tta": False,
                        "dtype_policy": "mixed_bfloat16", "flip": "none", "name": "my recipe",
                        "small_size": 24, "activation": "relu"}
    assert type(settings["epochs"]) is int and type(settings["learning_rate"]) is float
    assert train_speed.parse_settings([]) == {}
    assert train_speed.parse_settings(["epochs=2", "epochs=5"]) == {"epochs": 5}  # last wins
    from cifar_helpers.recipes import CONFIGS  # the settings make a valid recipe

    config = dataclasses.replace(CONFIGS["fast-90"], **train_speed.parse_settings(
        ["small_size=24", "small_epochs=6", "dtype_policy=auto"]))
    assert (config.small_size, config.small_epochs, config.dtype_policy) == (24, 6, "auto")


@pytest.mark.parametrize(
    "settings, epochs, expected",
    [
        ({}, None, (11, 20, 2)),                      # fast-90 as it is
        ({"epochs": 22}, None, (22, 20, 4)),          # --set epochs keeps the small share
        ({"epochs": 1}, None, (1, 0, 0)),             # one epoch: whole images
        ({}, 5, (5, 20, 1)),                          # --epochs does the same
        ({"epochs": 11, "small_size": 24, "small_epochs": 3}, None, (11, 24, 3)),  # as given
        ({"small_epochs": 0, "small_size": 0}, None, (11, 0, 0)),
    ],
)
def test_fast_config_scales_progressive_resizing_with_the_epochs(train_speed, settings, epochs,
                                                                 expected):
    config = train_speed.fast_config("fast-90", settings, epochs)
    assert (config.epochs, config.small_size, config.small_epochs) == expected


@pytest.mark.parametrize("pair", ["nope=1", "epochs", "Epochs=3", "=3", ""])
def test_parse_settings_refuses_unknown_fields(train_speed, pair):
    with pytest.raises(ValueError, match=r"--set takes FIELD=VALUE with FIELD one of .*'epochs'"
                                         rf".*Received {re.escape(repr(pair))}\."):
        train_speed.parse_settings([pair])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["race", "--validation"], "the race is scored on the test set"),
        (["race", "--set", "nope=3"], "--set takes FIELD=VALUE"),
        (["race", "--fast", "fast-50"], "invalid choice: 'fast-50'"),
        (["race", "--set", "flip=sideways"], "`flip` must be 'alternating', 'random' or 'none'"),
        (["fast-90", "--set", "small_size=4", "--set", "small_epochs=2"],
         "`small_size` must be at least 9"),
        (["race", "--epochs", "3"], "change the fast recipe with --set"),
        (["seed", "--set", "epochs=3"], "the seed recipe has no FastConfig"),
    ],
)
def test_race_refuses_bad_arguments_before_loading_data(train_speed, monkeypatch, capsys,
                                                        argv, message):
    import cifar_helpers.data

    def no_data(data_dir=None):
        raise AssertionError("the arguments should have been refused first")

    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", no_data)
    with pytest.raises(SystemExit) as raised:
        train_speed.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


# --- run_race: how the record is put together ----------------------------------------------

@pytest.mark.parametrize("tta, expected", [(0.91, 0.91), (None, 0.89)])
def test_run_race_combines_the_two_runs(train_speed, monkeypatch, tta, expected):
    calls = []

    def fake_seed(x_train, y_train, x_test, y_test, epochs, seed, dtype_policy=None):
        calls.append(("seed", epochs, seed, dtype_policy))
        return {"accuracy": 0.68, "total_seconds": 400.0}

    def fake_fast(name, x_train, y_train, x_test, y_test, epochs, seed, settings=None):
        calls.append(("fast", name, epochs, seed, settings))
        return {"accuracy": 0.89, "tta_accuracy": tta, "total_seconds": 300.0,
                "recipe": {"epochs": 12}}

    monkeypatch.setattr(train_speed, "run_seed", fake_seed)
    monkeypatch.setattr(train_speed, "run_fast", fake_fast)
    printed = []
    result = train_speed.run_race("fast-94", None, None, None, None, 7, {"epochs": 3},
                                  print_fn=printed.append)
    # The seed recipe first (10 epochs, float32), then the fast one with its own epochs.
    assert calls == [("seed", 10, 7, None), ("fast", "fast-94", None, 7, {"epochs": 3})]
    assert printed == ["seed recipe: test accuracy 68.00% in 400 s"]
    assert result["race"] == {"fast_accuracy": expected, "fast_plain_accuracy": 0.89,
                              "seed_accuracy": 0.68, "fast_seconds": 300.0,
                              "seed_seconds": 400.0, "time_ratio": 0.75}
    assert result["fast"] == "fast-94" and result["recipe"] == {"epochs": 12}
    assert "recipe" not in result["fast_run"] and result["fast_run"]["accuracy"] == 0.89


# --- the race on a tiny data set ---------------------------------------------------------

def test_race_prints_its_line_and_records_it(train_speed, tiny_cifar10, tmp_path, capsys):
    record = tmp_path / "results" / "race.jsonl"  # a missing folder is created
    train_speed.main(["race", "--record", str(record), "--set", "epochs=1",
                      "--set", "widths=(8,16,16)", "--set", "dtype_policy=mixed_bfloat16"])
    lines = capsys.readouterr().out.strip().splitlines()
    described = train_speed.machine()
    assert lines[0] == f"machine: {described}"
    # Ten seed epochs, its result, one fast epoch (--set epochs=1), the race line.
    assert [line.split()[1] for line in lines[1:11]] == [f"{e}/10" for e in range(1, 11)]
    assert re.fullmatch(r"seed recipe: test accuracy \d+\.\d\d% in \d+ s", lines[11])
    assert lines[12].startswith("epoch 1/1 ") and len(lines) == 14
    match = RACE_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    assert match.group(6) == described

    (run,) = [json.loads(line) for line in record.read_text().splitlines()]
    race = run["race"]
    assert set(race) == {"fast_accuracy", "fast_plain_accuracy", "seed_accuracy",
                         "fast_seconds", "seed_seconds", "time_ratio"}
    for key in ("fast_accuracy", "fast_plain_accuracy", "seed_accuracy"):
        assert 0.0 <= race[key] <= 1.0, key
    assert race["fast_seconds"] > 0 and race["seed_seconds"] > 0
    assert race["time_ratio"] == race["fast_seconds"] / race["seed_seconds"]
    # The printed line shows the recorded numbers.
    assert match.groups()[:5] == (f"{100 * race['fast_accuracy']:.2f}",
                                  f"{race['fast_seconds']:.0f}",
                                  f"{100 * race['seed_accuracy']:.2f}",
                                  f"{race['seed_seconds']:.0f}", f"{race['time_ratio']:.2f}")
    assert run["config"] == "race" and run["split"] == "test" and run["seed"] == 0
    assert run["fast"] == "fast-90" and run["machine"] == described
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", run["date"])
    # fast-90 reports its test-time-augmented accuracy; the seed recipe ran 10 epochs.
    assert race["fast_accuracy"] == run["fast_run"]["tta_accuracy"]
    assert race["fast_plain_accuracy"] == run["fast_run"]["accuracy"]
    assert race["seed_accuracy"] == run["seed_run"]["accuracy"]
    assert run["seed_run"]["epochs"] == 10 and run["seed_run"]["dtype_policy"] == "float32"
    # --set changed the fast recipe, and nothing else in it.
    from cifar_helpers.recipes import CONFIGS, with_epochs

    # --set epochs=1 keeps the recipe's share of small-image epochs (none in 1 epoch).
    expected = dataclasses.asdict(with_epochs(dataclasses.replace(
        CONFIGS["fast-90"], widths=(8, 16, 16), dtype_policy="mixed_bfloat16"), 1))
    expected = {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()}
    assert run["recipe"] == expected
    assert run["fast_run"]["epochs"] == 1 and run["fast_run"]["widths"] == [8, 16, 16]
    # Trained and scored in bfloat16; the saved float32 model's own scores come after the clock.
    assert run["fast_run"]["dtype_policy"] == "mixed_bfloat16"
    for key in ("float32_accuracy", "float32_tta_accuracy"):
        assert 0.0 <= run["fast_run"][key] <= 1.0, key
    assert "model" not in run["fast_run"]


# --- benchmarks/ablation.py ----------------------------------------------------------------

@pytest.fixture
def ablation(monkeypatch, load_benchmark):
    """The script, with benchmarks/ on sys.path for its ``from train_speed import machine``."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    had_train_speed = "train_speed" in sys.modules
    yield load_benchmark("ablation")
    if not had_train_speed:
        sys.modules.pop("train_speed", None)


def test_every_ablation_setting_is_a_valid_one_change_recipe(ablation):
    base = ablation.base_recipe()
    assert (base.widths, base.epochs, base.batch_size, base.lookahead_every) == (
        (16, 64, 64), 6, 512, 5)
    assert ablation.base_recipe(2).epochs == 2
    assert ablation.SETTINGS["full"] == {}
    for setting, changes in ablation.SETTINGS.items():
        config = dataclasses.replace(base, **changes)
        changed = {f.name for f in dataclasses.fields(config)
                   if getattr(config, f.name) != getattr(base, f.name)}
        assert changed == set(changes), setting


def test_ablation_runs_and_records_two_settings(ablation, tiny_cifar10, monkeypatch, tmp_path,
                                                capsys):
    import cifar_helpers.recipes

    real_split = cifar_helpers.recipes.train_validation_split
    splits = []

    def smaller_split(images, labels, validation_size=5000, seed=0):
        # The script holds out 5,000 images; the tiny data set has 500 in all.
        splits.append((len(images), validation_size, seed))
        return real_split(images, labels, 100, seed=seed)

    monkeypatch.setattr(cifar_helpers.recipes, "train_validation_split", smaller_split)
    record = tmp_path / "ablation.jsonl"
    ablation.main(["--settings", "full", "no BatchNorm", "--seeds", "0", "--epochs", "1",
                   "--record", str(record)])
    assert splits == [(500, 5000, 0)]
    lines = capsys.readouterr().out.strip().splitlines()
    from train_speed import machine

    described = machine()
    assert lines[0] == f"machine: {described}" and len(lines) == 3
    runs = [json.loads(line) for line in record.read_text().splitlines()]
    assert [run["setting"] for run in runs] == ["full", "no BatchNorm"]
    base = {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(ablation.base_recipe(1)).items()}
    for line, run in zip(lines[1:], runs, strict=True):
        assert set(run) == {"setting", "seed", "split", "diverged", "accuracy", "tta_accuracy",
                            "train_accuracy", "seconds", "recipe", "machine", "date"}
        assert run["seed"] == 0 and run["split"] == "validation"
        assert run["machine"] == described and re.fullmatch(r"\d{4}-\d{2}-\d{2}", run["date"])
        assert run["seconds"] > 0
        if run["diverged"]:
            assert run["accuracy"] is None and line.endswith(" s") and "diverged" in line
        else:
            for key in ("accuracy", "tta_accuracy", "train_accuracy"):
                assert 0.0 <= run[key] <= 1.0, key
            assert line.startswith(f"{run['setting']:24s} seed 0: validation "
                                   f"{run['accuracy']:.2%} (TTA {run['tta_accuracy']:.2%}), "
                                   f"training images {run['train_accuracy']:.2%}; ")
    assert runs[0]["recipe"] == base
    assert runs[1]["recipe"] == {**base, "batch_norm": False}


# --- cifar-course train --model fast ---------------------------------------------------------

@pytest.fixture(scope="module")
def fast_model_file(cifar10_dir, tmp_path_factory):
    """One quick fast-recipe training run through the command line; its file and output."""
    out = tmp_path_factory.mktemp("fast") / "fast.keras"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIFAR10_DIR", str(cifar10_dir))
        if "TF_ENABLE_ONEDNN_OPTS" in os.environ:  # restored afterwards
            patch.setenv("TF_ENABLE_ONEDNN_OPTS", os.environ["TF_ENABLE_ONEDNN_OPTS"])
        else:
            patch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
        with contextlib.redirect_stdout(printed):
            status = cli_main(["train", "--model", "fast", "--quick", "--out", str(out)])
    assert status == 0
    return out, printed.getvalue().splitlines()


@pytest.fixture
def tta_calls(monkeypatch):
    """Count the calls of predict_tta while letting them through."""
    import cifar_helpers.predict

    real, calls = cifar_helpers.predict.predict_tta, []

    def counting(*args, **kwargs):
        calls.append(args[1].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(cifar_helpers.predict, "predict_tta", counting)
    return calls


def test_train_fast_quick_prints_and_saves_a_fast_model(fast_model_file):
    from cifar_helpers.recipes import CONFIGS, resolved_dtype_policy

    out, lines = fast_model_file
    policy = resolved_dtype_policy(CONFIGS["fast-90"])  # bfloat16 where the CPU has it
    batch = CONFIGS["fast-90"].batch_size
    assert lines[0] == ("training the fast model (fast-90 recipe) on 900 images (quick run, "
                        f"1 epoch, batch {batch}, {policy}, seed 0, validation: split)")
    assert re.fullmatch(r"epoch 1/1  [\d.]+ s  loss [\d.]+  accuracy [\d.]+  lr [\d.]+",
                        lines[1]), lines[1]
    assert lines[2] == f"saved {out}"
    assert re.fullmatch(r"validation accuracy [\d.]+%, with test-time augmentation [\d.]+% "
                        r"\(100 validation images\)", lines[3]), lines[3]
    assert re.fullmatch(r"test accuracy [\d.]+%, with test-time augmentation [\d.]+% "
                        r"\(1,000 test images\)", lines[4]), lines[4]
    assert len(lines) == 5

    from cifar_helpers.models import FAST_MODEL_NAME
    from cifar_helpers.saving import load_model

    model = load_model(out)
    assert model.name == FAST_MODEL_NAME and model.input_shape == (None, 32, 32, 3)
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}


def test_evaluate_a_fast_model_adds_test_time_augmentation(fast_model_file, cifar10_dir,
                                                           monkeypatch, capsys, tta_calls):
    out, lines = fast_model_file
    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    assert cli_main(["evaluate", str(out), "--quick"]) == 0
    evaluated = capsys.readouterr().out
    # The same model on the same 1,000 test images: the numbers the training run printed.
    assert evaluated == f"fast.keras: {lines[4]}\n"
    assert "with test-time augmentation" in evaluated and tta_calls == [(1000, 32, 32, 3)]

    assert cli_main(["evaluate", str(out), "--quick", "--no-tta"]) == 0
    plain = capsys.readouterr().out
    trained = re.match(r"test accuracy ([\d.]+)%", lines[4]).group(1)
    assert plain == f"fast.keras: test accuracy {trained}% (1,000 test images)\n"
    assert len(tta_calls) == 1  # no new call


def _expected_guesses(model_file, photo, tta):
    from cifar_helpers.predict import predict_image
    from cifar_helpers.saving import load_model

    guesses = predict_image(load_model(model_file), photo, top_k=3, tta=tta)
    return f"{photo.name}: " + ", ".join(f"{n} {p:.1%}" for n, p in guesses)


def test_predict_with_a_fast_model_uses_test_time_augmentation(fast_model_file, capsys,
                                                                tta_calls):
    out, _ = fast_model_file
    assert cli_main(["predict", str(out), str(PHOTO), str(PHOTO)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(tta_calls) == 2 and tta_calls[0] == (1, 32, 32, 3)  # one per photo
    assert lines == [_expected_guesses(out, PHOTO, tta=True)] * 2
    del tta_calls[:]

    assert cli_main(["predict", str(out), str(PHOTO), "--no-tta"]) == 0
    assert capsys.readouterr().out.splitlines() == [_expected_guesses(out, PHOTO, tta=False)]
    assert tta_calls == []


def test_only_a_model_named_like_the_fast_model_gets_test_time_augmentation(tmp_path, capsys,
                                                                           tta_calls):
    import keras

    from cifar_helpers.models import FAST_MODEL_NAME, build_fast_model
    from cifar_helpers.saving import save_model

    keras.utils.set_random_seed(0)
    fast = save_model(build_fast_model(widths=(4, 8, 8)), tmp_path / "fast.keras")
    other = save_model(build_fast_model(widths=(4, 8, 8), name="my_cnn"), tmp_path / "my.keras")
    assert cli_main(["predict", str(other), str(PHOTO)]) == 0
    assert tta_calls == []
    assert cli_main(["predict", str(fast), str(PHOTO)]) == 0
    assert len(tta_calls) == 1
    out = capsys.readouterr().out
    assert out.count("truck_1.jpg: ") == 2 and out.count("%") == 6
    assert FAST_MODEL_NAME == "fast_cnn"


def _fake_result(seen):
    """A stand-in for train_fast: records its arguments, returns an untrained tiny model."""
    from cifar_helpers.models import build_fast_model
    from cifar_helpers.recipes import FastResult

    def fake_train_fast(config, x_train, y_train, x_eval=None, y_eval=None, seed=0,
                        print_fn=print):
        seen.update(config=config, n_train=len(x_train), y_train=y_train,
                    n_eval=None if x_eval is None else len(x_eval), seed=seed)
        return FastResult(config, build_fast_model(widths=(4, 8, 8)), {}, 1.0,
                          accuracy=0.5, tta_accuracy=0.625)

    return fake_train_fast


@pytest.mark.parametrize(
    "argv, header, n_train, n_eval, fields, report",
    [
        (["--validation", "none", "--epochs", "3", "--batch-size", "256", "--mixed-precision",
          "--seed", "2"],
         "on 1,000 images (quick run, 3 epochs, batch 256, mixed_bfloat16, seed 2, "
         "validation: none)", 1000, None,
         {"epochs": 3, "batch_size": 256, "dtype_policy": "mixed_bfloat16"}, None),
        (["--validation", "test"],
         "on 1,000 images (quick run, 1 epoch, batch {batch}, {policy}, seed 0, validation: test)",
         1000, 1000, {"epochs": 1, "batch_size": "{batch}", "dtype_policy": "auto"},
         "test accuracy 50.00%, with test-time augmentation 62.50% (1,000 test images)"),
        ([],
         "on 900 images (quick run, 1 epoch, batch {batch}, {policy}, seed 0, validation: split)",
         900, 100, {"epochs": 1, "batch_size": "{batch}", "dtype_policy": "auto"},
         "validation accuracy 50.00%, with test-time augmentation 62.50% "
         "(100 validation images)"),
    ],
    ids=["none", "test", "split"],
)
def test_train_fast_options_reach_the_recipe(cifar10_dir, tmp_path, monkeypatch, capsys, argv,
                                             header, n_train, n_eval, fields, report):
    import cifar_helpers.recipes
    from cifar_helpers.recipes import CONFIGS, resolved_dtype_policy

    recipe = CONFIGS["fast-90"]  # the recipe's own batch size and dtype, unless overridden
    header = header.replace("{policy}", resolved_dtype_policy(recipe)).replace(
        "{batch}", str(recipe.batch_size))
    fields = {key: recipe.batch_size if value == "{batch}" else value
              for key, value in fields.items()}
    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    seen = {}
    monkeypatch.setattr(cifar_helpers.recipes, "train_fast", _fake_result(seen))
    out = tmp_path / "fast.keras"
    assert cli_main(["train", "--model", "fast", "--quick", "--out", str(out), *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"training the fast model (fast-90 recipe) {header}"
    assert seen["n_train"] == n_train and seen["n_eval"] == n_eval
    assert seen["y_train"].ndim == 1  # integer labels, not one-hot
    config = seen["config"]
    assert {key: getattr(config, key) for key in fields} == fields
    assert config.name == "fast-90" and config.widths == CONFIGS["fast-90"].widths
    assert lines[1] == f"saved {out}" and out.is_file()
    tests = [line for line in lines if line.startswith("test accuracy")]
    if report is not None:
        assert report in lines
    if argv[:2] == ["--validation", "test"]:
        assert tests == [report]  # the test set was the held-out set: reported once
    else:
        assert len(tests) == 1 and tests[0].endswith("(1,000 test images)")
        assert "with test-time augmentation" in tests[0]


def test_restart_is_refused_for_the_fast_model(tmp_path, capsys):
    out = tmp_path / "fast.keras"
    assert cli_main(["train", "--model", "fast", "--restart", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("cifar-course train: error: --restart is for the seed model")
    assert "--model fast" in captured.err and not out.exists()
