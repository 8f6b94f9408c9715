"""Tests for cifar_helpers.training: the input pipeline, compact logs, checkpoints, resuming."""

import json

import numpy as np
import pytest

from cifar_helpers.training import (
    BestModelCheckpoint,
    EpochLogger,
    format_epoch_log,
    make_dataset,
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


def test_dataset_shuffles_each_epoch_reproducibly(data):
    images, labels = data
    index_images = np.arange(96, dtype=np.float32).reshape(96, 1, 1, 1)

    def orders(seed):
        dataset = make_dataset(index_images, labels, batch_size=96, shuffle=True, seed=seed)
        return [np.asarray(next(iter(dataset))[0]).ravel() for _ in range(2)]

    first, second = orders(5)
    assert sorted(first) == list(range(96)) and sorted(second) == list(range(96))
    assert not np.array_equal(first, second)  # a new order every epoch
    again = orders(5)
    np.testing.assert_array_equal(first, again[0])
    np.testing.assert_array_equal(second, again[1])


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
