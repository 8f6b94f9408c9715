"""Tests for cifar_helpers.training: the input pipeline, compact logs, checkpoints, resuming."""

import json
import os
import re

import numpy as np
import pytest

from cifar_helpers.training import (
    BackupError,
    BestModelCheckpoint,
    EpochLogger,
    epoch_order,
    format_epoch_log,
    make_dataset,
    remove_backup,
    train,
)

keras = pytest.importorskip("keras")


def tiny_model(seed=0):
    """A small CNN (same kind of layers and loss as the seed model) that trains in a blink."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, (3, 3), padding="same", activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        metrics=["accuracy"],
    )
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(96, 8, 8, 3), dtype=np.uint8)
    labels = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=96)]
    return images, labels


# --- format_epoch_log --------------------------------------------------------------------


@pytest.mark.parametrize(
    "epoch, epochs, logs, seconds, rate, expected",
    [
        (0, 1, {"loss": 2.0}, None, None, "epoch 1/1  loss 2.0000"),
        (9, 10, {"accuracy": 0.5, "loss": 1.0}, 3.0, None,
         "epoch 10/10  3.0 s  loss 1.0000  accuracy 0.5000"),
        (2, 10, {"val_loss": 1.1, "loss": 1.2, "val_accuracy": 0.6, "accuracy": 0.55}, 41.25,
         0.00716, "epoch  3/10  41.2 s  loss 1.2000  accuracy 0.5500  val_loss 1.1000  "
         "val_accuracy 0.6000  lr 0.00716"),
    ],
)
def test_format_epoch_log(epoch, epochs, logs, seconds, rate, expected):
    assert format_epoch_log(epoch, epochs, logs, seconds, rate) == expected


# --- make_dataset ------------------------------------------------------------------------


def test_dataset_scales_uint8_and_keeps_labels(data):
    images, labels = data
    batches = list(make_dataset(images, labels, batch_size=40))
    assert [len(x) for x, _ in batches] == [40, 40, 16]
    x = np.concatenate([np.asarray(b[0]) for b in batches])
    y = np.concatenate([np.asarray(b[1]) for b in batches])
    np.testing.assert_allclose(x, images.astype(np.float32) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_dataset_passes_floats_through(data):
    images, labels = data
    floats = images.astype(np.float32) / 255.0
    x, _ = next(iter(make_dataset(floats, labels, batch_size=96)))
    np.testing.assert_array_equal(np.asarray(x), floats)


def test_dataset_shuffles_each_epoch_by_seed_and_epoch(data):
    images, labels = data
    index_images = np.arange(96, dtype=np.float32).reshape(96, 1, 1, 1)

    def orders(seed, epochs=2, initial_epoch=0):
        dataset = make_dataset(index_images, labels, batch_size=96, shuffle=True, seed=seed,
                               epochs=epochs, initial_epoch=initial_epoch)
        return [np.asarray(x).ravel().astype(int) for x, _ in dataset]

    first, second = orders(5)
    assert sorted(first) == list(range(96)) and sorted(second) == list(range(96))
    assert not np.array_equal(first, second)  # a new order every epoch
    np.testing.assert_array_equal(first, epoch_order(96, 5, 0))
    np.testing.assert_array_equal(second, epoch_order(96, 5, 1))
    # A dataset that starts at epoch 1 (a resumed run) shows epoch 1's order.
    (resumed,) = orders(5, initial_epoch=1)
    np.testing.assert_array_equal(resumed, second)
    assert not np.array_equal(orders(6)[0], first)


def test_dataset_batches_do_not_cross_epochs(data):
    images, labels = data
    sizes = [len(x) for x, _ in make_dataset(images[:10], labels[:10], batch_size=4,
                                             shuffle=True, seed=0, epochs=3)]
    assert sizes == [4, 4, 2] * 3


@pytest.mark.parametrize(
    "images, labels, batch_size, message",
    [
        (np.zeros((4, 8, 8)), np.zeros((4, 3)), 2, r"shape \(N, H, W, C\)"),
        (np.zeros((4, 8, 8, 3)), np.zeros((3, 3)), 2, "one row per image"),
        (np.zeros((4, 8, 8, 3)), np.zeros((4, 3)), 0, "`batch_size` must be a positive int"),
    ],
)
def test_dataset_errors(images, labels, batch_size, message):
    with pytest.raises(ValueError, match=message):
        make_dataset(images, labels, batch_size)


# --- train -------------------------------------------------------------------------------


def test_train_logs_one_line_per_epoch(data, capsys):
    images, labels = data
    history = train(tiny_model(), images, labels, epochs=2, batch_size=16, seed=0,
                    validation_data=(images[:32], labels[:32]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2") and lines[1].startswith("epoch 2/2")
    assert "val_accuracy" in lines[1] and "lr 0.05000" in lines[1]
    assert "\r" not in "".join(lines)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1]


def test_train_quietly(data, capsys):
    images, labels = data
    train(tiny_model(), images, labels, epochs=1, verbose=False)
    assert capsys.readouterr().out == ""


def test_validation_split_holds_out_the_last_fraction(data):
    images, labels = data
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    history = train(tiny_model(), images, labels, epochs=1, batch_size=8,
                    validation_split=0.25, verbose=False, callbacks=[Count()])
    assert len(seen) == 72 // 8  # 96 images, the last 24 held out
    assert "val_loss" in history.history


def test_seed_gives_identical_first_epoch_numbers(data):
    images, labels = data

    def first_epoch(seed):
        history = train(tiny_model(seed), images, labels, epochs=1, batch_size=16, seed=seed,
                        verbose=False)
        return history.history["loss"][0], history.history["accuracy"][0]

    assert first_epoch(3) == first_epoch(3)
    assert first_epoch(3) != first_epoch(4)


def test_seed_model_is_reproducible(data):
    from cifar_helpers.data import one_hot
    from cifar_helpers.models import build_seed_model

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(64, 32, 32, 3), dtype=np.uint8)
    labels = one_hot(rng.integers(0, 10, size=64))

    def first_epoch():
        keras.utils.set_random_seed(0)
        model = build_seed_model()
        history = train(model, images, labels, epochs=1, seed=0, verbose=False)
        return history.history["loss"][0], history.history["accuracy"][0]

    assert first_epoch() == first_epoch()


def test_best_model_checkpoint(data, tmp_path):
    images, labels = data
    path = tmp_path / "best.keras"
    model = tiny_model()
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs["val_accuracy"])

    train(model, images, labels, epochs=3, batch_size=16, checkpoint_path=path,
          validation_data=(images[:48], labels[:48]), verbose=False, callbacks=[Watch()])
    assert path.is_file()
    best = keras.models.load_model(path)
    x, y = images[:48].astype(np.float32) / 255.0, labels[:48]
    accuracy = np.mean(np.argmax(best.predict(x, verbose=0), 1) == np.argmax(y, 1))
    assert accuracy == pytest.approx(max(seen), abs=1e-6)


def test_checkpoint_on_an_unknown_metric(data, tmp_path):
    images, labels = data
    with pytest.raises(ValueError, match="`monitor`='val_auc' is not among"):
        train(tiny_model(), images, labels, epochs=1, checkpoint_path=tmp_path / "m.keras",
              monitor="val_auc", verbose=False)


def test_best_checkpoint_mode_error(tmp_path):
    with pytest.raises(ValueError, match="`mode` must be 'max' or 'min'"):
        BestModelCheckpoint(tmp_path / "m.keras", monitor="loss", mode="up")


def test_interrupted_training_resumes_where_it_stopped(data, tmp_path, capsys):
    images, labels = data
    backup = tmp_path / "backup"
    steps_per_epoch = 96 // 16
    saved = {}

    class Crash(keras.callbacks.Callback):
        """Kill the run right after epoch 1 (after the backup was written)."""

        def on_epoch_end(self, epoch, logs=None):
            saved["weights"] = [w.copy() for w in self.model.get_weights()]
            saved["logs"] = dict(logs)
            raise KeyboardInterrupt("killed after epoch 1")

    with pytest.raises(KeyboardInterrupt):
        train(tiny_model(seed=0), images, labels, epochs=3, batch_size=16, seed=0,
              backup_dir=backup, callbacks=[Crash()])
    assert (backup / "latest.weights.h5").is_file()
    assert json.loads((backup / "history.json").read_text())["loss"] == [saved["logs"]["loss"]]
    capsys.readouterr()

    started = {}

    class Check(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            started["weights"] = self.model.get_weights()
            started["iterations"] = int(self.model.optimizer.iterations)

        def on_epoch_begin(self, epoch, logs=None):
            started.setdefault("epochs", []).append(epoch)

    # A fresh model with other initial weights, as after a crash: the backup wins.
    resumed = tiny_model(seed=99)
    history = train(resumed, images, labels, epochs=3, batch_size=16, seed=0,
                    backup_dir=backup, callbacks=[Check()])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "resuming after epoch 1/3 from the backup"
    assert [line.split()[1] for line in out[1:]] == ["2/3", "3/3"]
    assert started["epochs"] == [1, 2]
    assert started["iterations"] == steps_per_epoch
    for restored, expected in zip(started["weights"], saved["weights"], strict=True):
        np.testing.assert_array_equal(restored, expected)
    assert int(resumed.optimizer.iterations) == 3 * steps_per_epoch
    assert len(history.history["loss"]) == 3 and history.epoch == [0, 1, 2]
    assert history.history["loss"][0] == pytest.approx(saved["logs"]["loss"])
    assert not backup.exists()  # cleaned up once training completed


def test_completed_run_starts_afresh(data, tmp_path, capsys):
    images, labels = data
    model = tiny_model()
    train(model, images, labels, epochs=1, backup_dir=tmp_path / "b")
    history = train(model, images, labels, epochs=2, backup_dir=tmp_path / "b")
    assert len(history.history["loss"]) == 2
    assert "resuming" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "`epochs` must be a positive int"),
        ({"validation_split": 1.0}, r"`validation_split` must lie in \[0, 1\)"),
    ],
)
def test_train_argument_errors(data, kwargs, message):
    images, labels = data
    with pytest.raises(ValueError, match=message):
        train(tiny_model(), images, labels, **kwargs)


def test_train_length_mismatch(data):
    images, labels = data
    with pytest.raises(ValueError, match="same length"):
        train(tiny_model(), images, labels[:10])


def test_train_needs_a_compiled_model(data):
    images, labels = data
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="must be compiled first"):
        train(model, images, labels)


def test_epoch_logger_prints_through_print_fn():
    lines = []
    logger = EpochLogger(2, print_fn=lines.append, show_learning_rate=False)
    logger.set_model(tiny_model())
    logger.on_epoch_begin(0)
    logger.on_epoch_end(0, {"loss": 1.5})
    assert len(lines) == 1 and lines[0].startswith("epoch 1/2") and lines[0].endswith("loss 1.5000")


# --- resuming: exact, never wedged, never lying -------------------------------------------


class _StopAfter(keras.callbacks.Callback):
    """Interrupt the run at the end of epoch `epoch` (after its backup was written)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"stopped after epoch {epoch + 1}")


def _interrupted(data, backup, stop_after=0, epochs=3, **kwargs):
    """Train tiny_model() with a backup and stop it after epoch `stop_after` + 1."""
    images, labels = data
    with pytest.raises(KeyboardInterrupt):
        train(tiny_model(), images, labels, epochs=epochs, batch_size=16, seed=0,
              backup_dir=backup, callbacks=[_StopAfter(stop_after)], verbose=False, **kwargs)


def _resume(data, backup, epochs=3, **kwargs):
    images, labels = data
    model = tiny_model(seed=99)  # other initial weights, as after a crash: the backup wins
    history = train(model, images, labels, epochs=epochs, batch_size=16, seed=0,
                    backup_dir=backup, **kwargs)
    return model, history


def _assert_same_weights(model, other):
    for mine, theirs in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("stop_after", [0, 1])
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(data, tmp_path,
                                                                      stop_after):
    # tiny_model() has a Dropout layer: its random state is backed up too, and each
    # epoch's order depends only on (seed, epoch), so nothing differs after a resume.
    images, labels = data
    uninterrupted = tiny_model()
    expected = train(uninterrupted, images, labels, epochs=3, batch_size=16, seed=0,
                     verbose=False)
    _interrupted(data, tmp_path / "b", stop_after=stop_after)
    resumed, history = _resume(data, tmp_path / "b", verbose=False)
    _assert_same_weights(resumed, uninterrupted)
    assert history.history["loss"] == pytest.approx(expected.history["loss"], rel=1e-6)
    assert not (tmp_path / "b").exists()


def test_a_kill_between_the_backup_files_loses_at_most_that_epoch(data, tmp_path,
                                                                   monkeypatch):
    from cifar_helpers import training

    _interrupted(data, tmp_path / "b", stop_after=0)  # epoch 1 backed up
    real_replace, calls = os.replace, []

    def killed_after_the_weights(source, target):
        calls.append(target)
        if len(calls) == 3:  # epoch 2: weights moved to .bkp and replaced, then killed
            raise KeyboardInterrupt("killed while writing the backup")
        real_replace(source, target)

    monkeypatch.setattr(training.os, "replace", killed_after_the_weights)
    images, labels = data
    with pytest.raises(KeyboardInterrupt):
        train(tiny_model(), images, labels, epochs=3, batch_size=16, seed=0,
              backup_dir=tmp_path / "b", verbose=False)
    monkeypatch.setattr(training.os, "replace", real_replace)
    lines = []
    _resume(data, tmp_path / "b", print_fn=lines.append)
    assert lines[0] == "resuming after epoch 1/3 from the backup"


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: (b / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 91),
        lambda b: (b / "training_metadata.json").write_text(""),
        lambda b: (b / "history.json").write_text((b / "history.json").read_text()[:10]),
        lambda b: (b / "latest.weights.h5").unlink(),
    ],
    ids=["truncated weights", "empty metadata", "truncated history", "missing weights"],
)
def test_a_damaged_backup_falls_back_to_the_epoch_before(data, tmp_path, damage):
    backup = tmp_path / "b"
    _interrupted(data, backup, stop_after=1)  # epochs 1 and 2 backed up (2 latest, 1 .bkp)
    damage(backup)
    lines = []
    model, history = _resume(data, backup, print_fn=lines.append)
    assert lines[0] == "resuming after epoch 1/3 from the backup"
    assert [line.split()[1] for line in lines[1:]] == ["2/3", "3/3"]
    assert len(history.history["loss"]) == 3


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: (b / "latest.weights.h5").write_bytes(b"\x89HDF\r\n"), "damaged"),
        (lambda b: (b / "training_metadata.json").write_text(""), "damaged.*JSONDecodeError"),
        (lambda b: (b / "history.json").write_text('{"loss": [1.'), "damaged.*history.json"),
        (lambda b: (b / "training_metadata.json").write_text('{"epoch": 99, "batch": 0}'),
         "says 99 epochs were done, but this run has epochs=3"),
        (lambda b: (b / "training_metadata.json").unlink(), "holds weights but no "
         "training_metadata.json"),
    ],
    ids=["truncated weights", "empty metadata", "truncated history", "epoch 99 of 3",
         "weights without metadata"],
)
def test_an_unusable_backup_is_refused_with_the_way_out(data, tmp_path, damage, message):
    backup = tmp_path / "b"
    _interrupted(data, backup, stop_after=0)  # only epoch 1: no earlier copy to fall back on
    damage(backup)
    with pytest.raises(BackupError, match=message) as excinfo:
        _resume(data, backup, verbose=False)
    assert f"'{backup}'" in str(excinfo.value) and "restart=True" in str(excinfo.value)
    assert "--restart" in str(excinfo.value)
    # restart=True starts over: epoch 1 of 3, and the backup is replaced.
    lines = []
    _, history = _resume(data, backup, restart=True, print_fn=lines.append)
    assert lines[0].startswith("epoch 1/3") and len(history.history["loss"]) == 3
    assert not backup.exists()


@pytest.mark.parametrize(
    "change, message",
    [({"images": 64}, "made with images=96; this run has images=64"),
     ({"batch_size": 8}, "made with batch_size=16"),
     ({"seed": 1}, "made with seed=0; this run has seed=1")],
)
def test_a_backup_of_another_run_is_refused(data, tmp_path, change, message):
    images, labels = data
    _interrupted(data, tmp_path / "b", stop_after=0)
    n = change.get("images", 96)
    with pytest.raises(BackupError, match=message):
        train(tiny_model(), images[:n], labels[:n], epochs=3,
              batch_size=change.get("batch_size", 16), seed=change.get("seed", 0),
              backup_dir=tmp_path / "b", verbose=False)


def test_a_backup_made_by_keras_backup_and_restore_still_resumes(data, tmp_path):
    images, labels = data
    backup = tmp_path / "b"
    model = tiny_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(images / 255.0, labels, batch_size=16, epochs=3, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
            _StopAfter(0)])
    (backup / "history.json").write_text(json.dumps({"loss": [1.0], "accuracy": [0.5]}))
    lines = []
    _, history = _resume(data, backup, print_fn=lines.append)
    assert lines[0] == "resuming after epoch 1/3 from the backup"
    assert history.history["loss"][0] == 1.0 and len(history.history["loss"]) == 3


def test_a_finished_backup_kept_for_saving_trains_nothing_more(data, tmp_path):
    images, labels = data
    backup = tmp_path / "b"
    model = tiny_model()
    first = train(model, images, labels, epochs=2, batch_size=16, seed=0, backup_dir=backup,
                  delete_backup=False, verbose=False)
    assert (backup / "latest.weights.h5").is_file()
    lines = []
    again, history = _resume(data, backup, epochs=2, print_fn=lines.append)
    assert lines == ["resuming after epoch 2/2 from the backup"]
    assert history.history == first.history
    _assert_same_weights(again, model)
    assert not backup.exists()


def test_remove_backup_keeps_files_that_are_not_its_own(data, tmp_path):
    backup = tmp_path / "b"
    _interrupted(data, backup, stop_after=0)
    (backup / "notes.txt").write_text("mine")
    remove_backup(backup)
    assert sorted(p.name for p in backup.iterdir()) == ["notes.txt"]
    remove_backup(tmp_path / "never-made")  # nothing to do: no error


# --- nothing trained is lost ---------------------------------------------------------------


class _Count(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda t: {"checkpoint_path": t / "folder.keras"}, ValueError, "is a folder"),
        (lambda t: {"checkpoint_path": t / "file" / "m.keras"}, OSError,
         "Cannot save a model in '.*file'"),
        (lambda t: {"backup_dir": t / "file"}, OSError,
         "Cannot write the training backup in '.*file'"),
        (lambda t: {"backup_dir": t / "file" / "b"}, OSError, "Cannot write the training backup"),
    ],
)
def test_outputs_that_cannot_be_written_fail_before_the_first_epoch(data, tmp_path, make, error,
                                                                    message):
    images, labels = data
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "file").write_text("in the way")
    count = _Count()
    with pytest.raises(error, match=message):
        train(tiny_model(), images, labels, epochs=2, verbose=False, callbacks=[count],
              **make(tmp_path))
    assert count.epochs == 0


def test_a_checkpoint_path_with_missing_folders_is_created(data, tmp_path):
    images, labels = data
    path = tmp_path / "new" / "sub" / "best.keras"
    train(tiny_model(), images, labels, epochs=1, checkpoint_path=path, verbose=False)
    assert path.is_file()


def test_a_failed_checkpoint_save_rescues_the_model_and_keeps_the_backup(data, tmp_path):
    images, labels = data
    backup, path = tmp_path / "run.backup", tmp_path / "best.keras"

    class InTheWay(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:  # after the pre-flight check: a folder appears where the file goes
                path.unlink()
                path.mkdir()

    with pytest.raises(OSError, match="Could not save the best model") as excinfo:
        train(tiny_model(), images, labels, epochs=3, batch_size=16, seed=0,
              checkpoint_path=path, monitor="loss", backup_dir=backup, verbose=False,
              callbacks=[InTheWay()])
    message = str(excinfo.value)
    rescued = re.search(r"saved to '([^']+)' instead", message).group(1)
    assert rescued.startswith(str(tmp_path)) and keras.models.load_model(rescued)
    assert f"backup in '{backup}' is kept" in message
    assert (backup / "latest.weights.h5").is_file()


def test_a_resumed_run_keeps_the_best_checkpoint_of_the_epochs_before(tmp_path):
    path = tmp_path / "best.keras"
    checkpoint = BestModelCheckpoint(path, monitor="val_accuracy")
    checkpoint.set_model(tiny_model())
    checkpoint.restore({"val_accuracy": [0.4, 0.7]})  # no file yet: nothing to keep
    assert checkpoint.best == -np.inf
    path.write_bytes(b"the best model of epoch 2")
    checkpoint.restore({"val_accuracy": [0.4, 0.7]})
    assert (checkpoint.best, checkpoint.best_epoch) == (0.7, 1)
    checkpoint.on_epoch_end(2, {"val_accuracy": 0.6})  # worse than epoch 2: kept
    assert path.read_bytes() == b"the best model of epoch 2"
    checkpoint.on_epoch_end(3, {"val_accuracy": 0.8})
    assert keras.models.load_model(path) and checkpoint.best_epoch == 3
