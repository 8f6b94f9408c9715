"""Train a Keras model the course's way: compact logs, best-model checkpoint, resume.

`train` wraps ``model.fit`` with what a long CPU run needs:

- a one-line-per-epoch log (`EpochLogger`) instead of Keras' ``\\r`` progress
  bar, which fills stored notebook outputs and CI logs with noise;
- a fast input pipeline (`make_dataset`: uint8 images kept in memory, shuffled,
  batched, scaled to [0, 1] and prefetched by ``tf.data``);
- the best model so far saved atomically (`BestModelCheckpoint`);
- resuming an interrupted run (``keras.callbacks.BackupAndRestore``), with the
  history of the epochs done before the interruption kept;
- reproducibility: ``seed=`` seeds Keras, NumPy, Python and the shuffling, so two
  runs from the same seed give the same numbers on the same machine.

This module imports Keras (it defines Keras callbacks); ``tf.data`` is
imported when `make_dataset` first runs.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np

from .saving import save_model

__all__ = [
    "BestModelCheckpoint",
    "EpochLogger",
    "format_epoch_log",
    "make_dataset",
    "train",
]

_HISTORY_FILE = "history.json"


def format_epoch_log(epoch, epochs, logs, seconds=None, learning_rate=None):
    """One compact line for one epoch's results.

    Parameters
    ----------
    epoch : int
        Zero-based epoch index (printed one-based, as Keras does).
    epochs : int
        Total number of epochs.
    logs : dict of str -> float
        Keras' epoch logs, e.g. ``{"loss": 1.71, "accuracy": 0.37}``.
    seconds : float, optional
        How long the epoch took.
    learning_rate : float, optional
        The optimizer's learning rate at the end of the epoch.

    Returns
    -------
    str

    Examples
    --------
    >>> format_epoch_log(0, 10, {"loss": 1.71572, "accuracy": 0.37361, "val_loss": 1.3603,
    ...                          "val_accuracy": 0.5186}, seconds=38.21)
    'epoch  1/10  38.2 s  loss 1.7157  accuracy 0.3736  val_loss 1.3603  val_accuracy 0.5186'
    """
    width = len(str(epochs))
    parts = [f"epoch {epoch + 1:>{width}}/{epochs}"]
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    order = sorted(
        logs, key=lambda name: (name.startswith("val_"), name not in ("loss", "val_loss"), name)
    )
    for name in order:
        value = logs[name]
        if isinstance(value, (int, float, np.floating, np.integer)):
            parts.append(f"{name} {float(value):.4f}")
    if learning_rate is not None:
        parts.append(f"lr {learning_rate:.5f}")
    return "  ".join(parts)


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        return float(np.asarray(optimizer.learning_rate))
    except (TypeError, ValueError):
        return None


class EpochLogger(keras.callbacks.Callback):
    """Print one line per epoch (see `format_epoch_log`) and a note on resuming."""

    def __init__(self, epochs, print_fn=print, show_learning_rate=True):
        super().__init__()
        self.epochs = epochs
        self.print_fn = print_fn
        self.show_learning_rate = show_learning_rate
        self._start = None

    def on_train_begin(self, logs=None):
        done = getattr(self.model, "_initial_epoch", None)
        if done:
            self.print_fn(f"resuming after epoch {done}/{self.epochs} from the backup")

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start if self._start is not None else None
        rate = _learning_rate(self.model) if self.show_learning_rate else None
        self.print_fn(format_epoch_log(epoch, self.epochs, logs or {}, seconds, rate))


class BestModelCheckpoint(keras.callbacks.Callback):
    """Save the model (atomically) whenever `monitor` improves at an epoch's end."""

    def __init__(self, path, monitor="val_accuracy", mode=None):
        super().__init__()
        if mode is None:
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("max", "min"):
            raise ValueError(f"`mode` must be 'max' or 'min'. Received mode={mode!r}.")
        self.path = Path(path)
        self.monitor = monitor
        self.mode = mode
        self.best = -math.inf if mode == "max" else math.inf
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"`monitor`={self.monitor!r} is not among this run's metrics "
                f"{sorted(logs)}."
            )
        value = float(logs[self.monitor])
        better = value > self.best if self.mode == "max" else value < self.best
        if better:
            self.best, self.best_epoch = value, epoch
            save_model(self.model, self.path)


class _HistoryKeeper(keras.callbacks.Callback):
    """Keep the epochs' logs in the backup folder so a resumed run reports them all."""

    def __init__(self, folder):
        super().__init__()
        self.path = Path(folder) / _HISTORY_FILE
        self.history = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.history is not None:
            return
        # The first epoch of this run: `epoch` epochs were done before (0 if new).
        saved = json.loads(self.path.read_text()) if epoch and self.path.is_file() else {}
        self.history = {
            name: (values + [math.nan] * epoch)[:epoch] for name, values in saved.items()
        }

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, [math.nan] * epoch).append(float(value))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.history))
        os.replace(temporary, self.path)


def make_dataset(images, labels, batch_size=32, shuffle=False, seed=None):
    """A ``tf.data`` pipeline of ``(images, labels)`` batches for training or evaluation.

    The arrays stay in memory as they are (uint8 images take a quarter of the
    memory of float32 ones); each epoch draws a new random order of indices,
    gathers a batch at a time, scales uint8 pixels to [0, 1] and prefetches the
    next batches while the model trains on the current one.

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray
        uint8 pixels are divided by 255 in the pipeline; float images are used as given.
    labels : (N, num_classes) or (N,) ndarray
        One-hot rows (for categorical cross-entropy) or integer labels.
    batch_size : int
        Images per batch; the last batch may be smaller.
    shuffle : bool
        Draw a new random order every epoch.
    seed : int, optional
        Seed of the shuffling (same seed, same sequence of orders).

    Returns
    -------
    tf.data.Dataset
        Yields ``(float32 (B, H, W, C), labels (B, ...))`` batches.

    Raises
    ------
    ValueError
        If `images` is not 4-D, the lengths differ, or `batch_size` < 1.

    Examples
    --------
    >>> images = np.zeros((5, 2, 2, 3), dtype=np.uint8)
    >>> labels = np.eye(5, dtype=np.float32)
    >>> [tuple(x.shape) for x, _ in make_dataset(images, labels, batch_size=2)]
    [(2, 2, 2, 3), (2, 2, 2, 3), (1, 2, 2, 3)]
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have shape (N, H, W, C). Received shape {images.shape}."
        )
    if len(labels) != len(images):
        raise ValueError(
            "`labels` must have one row per image. "
            f"Received {len(labels)} labels for {len(images)} images."
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received {batch_size!r}.")
    from .notebook import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    scale = images.dtype == np.uint8
    image_tensor = tf.constant(images)
    label_tensor = tf.constant(labels)
    indices = tf.data.Dataset.range(len(images))
    if shuffle:
        indices = indices.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(int(batch_size))

    def gather(index):
        batch = tf.gather(image_tensor, index)
        batch = tf.cast(batch, tf.float32) / 255.0 if scale else tf.cast(batch, tf.float32)
        return batch, tf.gather(label_tensor, index)

    # Gathering a batch takes microseconds, so one map thread and two batches ahead
    # suffice. tf.data's autotuner would add threads and a background tuning loop
    # that compete with training for a laptop's few cores.
    options = tf.data.Options()
    options.autotune.enabled = False
    return indices.map(gather).prefetch(2).with_options(options)


def train(
    model,
    x_train,
    y_train,
    *,
    epochs=10,
    batch_size=32,
    validation_data=None,
    validation_split=0.0,
    seed=None,
    checkpoint_path=None,
    monitor=None,
    backup_dir=None,
    callbacks=(),
    verbose=True,
    print_fn=print,
):
    """Train a compiled model with a compact log, an optional checkpoint and resuming.

    Parameters
    ----------
    model : keras.Model
        Compiled and built (e.g. `cifar_helpers.models.build_seed_model()`).
    x_train : (N, H, W, C) uint8 or float32 ndarray
        uint8 pixels are scaled to [0, 1] on the fly; float images are used as given.
    y_train : (N, num_classes) ndarray
        One-hot labels.
    epochs : int
        Total epochs, counting those done before an interruption.
    batch_size : int
        The tutorial uses 32.
    validation_data : tuple (x_val, y_val), optional
        Evaluated after every epoch (the tutorial passes the test set here).
    validation_split : float in [0, 1)
        Alternatively, hold out the last fraction of the training data
        (as Keras' ``validation_split``). Ignored when `validation_data` is given.
    seed : int, optional
        Seed Keras (dropout), NumPy, Python and the shuffling before training.
    checkpoint_path : str or path-like, optional
        Save the best model so far here (``.keras``), judged by `monitor`.
    monitor : str, optional
        The metric the checkpoint watches; default ``"val_accuracy"`` with
        validation, else ``"accuracy"``.
    backup_dir : str or path-like, optional
        Back up the training state after every epoch; if a run is interrupted,
        calling `train` again with the same model, data and `backup_dir`
        restores the last backup and trains only the remaining epochs. The
        folder is deleted when training completes.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks, run after the course's.
    verbose : bool
        Print one line per epoch through `print_fn`.
    print_fn : callable

    Returns
    -------
    keras.callbacks.History
        ``history.history`` maps each metric to its per-epoch values, including
        the epochs done before an interruption when the run was resumed.

    Raises
    ------
    ValueError
        For inconsistent arguments (see the messages).
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received epochs={epochs!r}.")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(
            "`validation_split` must lie in [0, 1). "
            f"Received validation_split={validation_split}."
        )
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ValueError("`model` must be compiled first (model.compile(...)).")
    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    if len(x_train) != len(y_train):
        raise ValueError(
            f"`x_train` and `y_train` must have the same length. Received {len(x_train)} "
            f"images and {len(y_train)} labels."
        )
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if validation_data is None and validation_split:
        keep = len(x_train) - int(round(len(x_train) * validation_split))
        validation_data = (x_train[keep:], y_train[keep:])
        x_train, y_train = x_train[:keep], y_train[:keep]
    train_set = make_dataset(x_train, y_train, batch_size, shuffle=True, seed=seed)
    validation_set = None
    if validation_data is not None:
        x_val, y_val = validation_data
        validation_set = make_dataset(x_val, y_val, max(batch_size, 256))
    if monitor is None:
        monitor = "val_accuracy" if validation_set is not None else "accuracy"

    all_callbacks = []
    keeper = None
    if backup_dir is not None:
        # The keeper writes an epoch's logs before the backup that marks the epoch done.
        keeper = _HistoryKeeper(backup_dir)
        all_callbacks.append(keeper)
        all_callbacks.append(
            keras.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True)
        )
    if checkpoint_path is not None:
        all_callbacks.append(BestModelCheckpoint(checkpoint_path, monitor=monitor))
    if verbose:
        all_callbacks.append(EpochLogger(epochs, print_fn=print_fn))
    all_callbacks.extend(callbacks)
    try:
        history = model.fit(
            train_set,
            epochs=int(epochs),
            validation_data=validation_set,
            callbacks=all_callbacks,
            shuffle=False,  # make_dataset shuffles every epoch itself
            verbose=0,
        )
    finally:
        # BackupAndRestore leaves the epoch to resume from on the model; a later fit
        # of the same model object must start from 0 again.
        model._initial_epoch = None
    if keeper is not None and keeper.history:
        history.history = {name: list(values) for name, values in keeper.history.items()}
        history.epoch = list(range(len(next(iter(keeper.history.values())))))
    return history
