"""Train a Keras model the course's way: compact logs, best-model checkpoint, resume.

`train` wraps ``model.fit`` with what a long CPU run needs:

- a one-line-per-epoch log (`EpochLogger`) instead of Keras' ``\\r`` progress
  bar, which fills stored notebook outputs and CI logs with noise;
- a fast input pipeline (`make_dataset`: uint8 images kept in memory, shuffled,
  batched, scaled to [0, 1] and prefetched by ``tf.data``);
- the best model so far saved atomically (`BestModelCheckpoint`), its folder
  checked before the first epoch, and a rescue copy if a save fails anyway;
- resuming an interrupted run from a backup folder written atomically after
  every epoch (weights, optimizer, dropout random state, logs), with a
  fallback to the previous epoch's copy when the latest is damaged;
- reproducibility: ``seed=`` seeds Keras, NumPy, Python and the shuffling, and
  the order of epoch ``e`` is `epoch_order` ``(n, seed, e)``: a run resumed
  after an interruption ends with the weights of an uninterrupted one.

This module imports Keras (it defines Keras callbacks); ``tf.data`` is
imported when `make_dataset` first runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from ._validation import check_int
from .saving import check_folder, check_output_path, save_model

__all__ = [
    "BackupError",
    "BestModelCheckpoint",
    "EpochLogger",
    "epoch_order",
    "format_epoch_log",
    "make_dataset",
    "remove_backup",
    "save_or_rescue",
    "train",
]

# The backup folder: Keras' BackupAndRestore names, plus the logs. Each file has a
# ".bkp" copy of the epoch before; the metadata names the weights it goes with.
_WEIGHTS = "latest.weights.h5"
_METADATA = "training_metadata.json"
_HISTORY = "history.json"
_PREVIOUS = ".bkp"
_INCOMING = ".incoming"  # temporary files of a backup being written
_BACKUP_FILES = tuple(
    name + suffix for name in (_WEIGHTS, _METADATA, _HISTORY) for suffix in ("", _PREVIOUS)
) + tuple(_INCOMING + end for end in (".weights.h5", "-restore.weights.h5", "-" + _METADATA,
                                          "-" + _HISTORY))


class BackupError(ValueError):
    """A training backup folder cannot be used to resume (damaged, or from another run)."""


def _start_over(folder):
    return (
        f" To start over, delete '{folder}' or call train(..., restart=True) "
        "(`cifar-course train --restart`)."
    )


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
    """Print one line per epoch (see `format_epoch_log`)."""

    def __init__(self, epochs, print_fn=print, show_learning_rate=True):
        super().__init__()
        self.epochs = epochs
        self.print_fn = print_fn
        self.show_learning_rate = show_learning_rate
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start if self._start is not None else None
        rate = _learning_rate(self.model) if self.show_learning_rate else None
        self.print_fn(format_epoch_log(epoch, self.epochs, logs or {}, seconds, rate))


def _rescue(model, path, backup_dir):
    """Save `model` somewhere else after a failed save to `path`; return where, or None."""
    name = f"{Path(path).stem}.rescued-{time.strftime('%Y%m%d-%H%M%S')}.keras"
    places = [Path(backup_dir).parent, Path(backup_dir)] if backup_dir is not None else []
    for folder in [*places, Path(tempfile.gettempdir())]:
        try:
            return save_model(model, folder / name)
        except (OSError, ValueError):
            continue
    return None


def save_or_rescue(model, path, backup_dir=None, what="the model"):
    """`save_model(model, path)`; if that fails, save a rescue copy and raise an error naming both.

    The rescue copy goes beside `backup_dir` (else in it, else in the system's
    temporary folder), so that a failed save never loses a trained model.
    """
    try:
        return save_model(model, path)
    except (OSError, ValueError) as exc:
        rescued = _rescue(model, path, backup_dir)
        kept = f" The training backup in '{backup_dir}' is kept." if backup_dir else ""
        where = (f"It was saved to '{rescued}' instead." if rescued is not None
                 else "No other folder could take it either.")
        raise OSError(
            f"Could not save {what} to '{path}' ({' '.join(str(exc).split())}). {where}{kept}"
        ) from None


class BestModelCheckpoint(keras.callbacks.Callback):
    """Save the model (atomically) whenever `monitor` improves at an epoch's end.

    If a save fails (disk full, folder removed…), the model goes to a rescue
    file (see `save_or_rescue`) and training stops with an error naming both.
    """

    def __init__(self, path, monitor="val_accuracy", mode=None, backup_dir=None):
        super().__init__()
        if mode is None:
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("max", "min"):
            raise ValueError(f"`mode` must be 'max' or 'min'. Received mode={mode!r}.")
        self.path = Path(path)
        self.monitor = monitor
        self.mode = mode
        self.backup_dir = backup_dir
        self.best = -math.inf if mode == "max" else math.inf
        self.best_epoch = None

    def restore(self, history):
        """Continue after the epochs of a resumed run: their best model is already saved."""
        values = [v for v in history.get(self.monitor, []) if not math.isnan(v)]
        if values and self.path.is_file():
            best = max(values) if self.mode == "max" else min(values)
            self.best, self.best_epoch = best, history[self.monitor].index(best)

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
            save_or_rescue(self.model, self.path, self.backup_dir,
                           f"the best model (epoch {epoch + 1})")


# --------------------------------------------------------------------------- #
# The backup folder
# --------------------------------------------------------------------------- #
def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _seed_states(model):
    """The dropout layers' random states: Keras' weight files do not hold them."""
    return [v for v in model.non_trainable_variables if v.name == "seed_generator_state"]


def remove_backup(backup_dir):
    """Delete a training backup's files, and its folder if nothing else is in it."""
    folder = Path(backup_dir)
    for name in _BACKUP_FILES:
        (folder / name).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # missing, or holds other files (e.g. a rescued model): leave it


class _TrainingBackup(keras.callbacks.Callback):
    """Back up the training state after every epoch, atomically, keeping the one before.

    New files are written under temporary names and flushed; then each one
    moves the previous copy to ``.bkp`` and takes its place, the metadata
    last, which records the SHA-256 of the weights it belongs to. A kill at
    any moment leaves a complete, matching state: the latest or the one before.
    """

    def __init__(self, folder, run, history):
        super().__init__()
        self.folder, self.run, self.history = Path(folder), run, history

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, [math.nan] * epoch).append(float(value))
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        incoming = folder / (_INCOMING + ".weights.h5")
        self.model.save_weights(incoming)
        metadata = {
            "epoch": epoch + 1, "batch": 0, **self.run, "weights_sha256": _sha256(incoming),
            "seed_generators": [np.asarray(v).tolist() for v in _seed_states(self.model)],
        }
        _write(folder / (_INCOMING + "-" + _HISTORY), json.dumps(self.history))
        _write(folder / (_INCOMING + "-" + _METADATA), json.dumps(metadata))
        for name, new in ((_WEIGHTS, incoming.name), (_HISTORY, _INCOMING + "-" + _HISTORY),
                          (_METADATA, _INCOMING + "-" + _METADATA)):
            if (folder / name).exists():
                os.replace(folder / name, folder / (name + _PREVIOUS))
            os.replace(folder / new, folder / name)


def _read_json(path, problems):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        problems.append(f"{path.name}: missing")
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name}: unreadable ({type(exc).__name__}: {exc})")
    return None


def _restore(folder, model, epochs, run):
    """Load the latest usable backup in `folder` into `model`.

    Tries the latest state, then the one before (``.bkp``). Returns (epochs
    done, their logs, the seed of the backed-up run); (0, {}, None) without a
    backup. Raises BackupError naming the folder when there is a backup but
    none of it can be used, or it is from another run (see `run`).
    """
    present = [name for name in _BACKUP_FILES[:6] if (folder / name).is_file()]
    if not present:
        return 0, {}, None
    problems = []
    for suffix in ("", _PREVIOUS):
        metadata = _read_json(folder / (_METADATA + suffix), problems)
        epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
        if metadata is not None and type(epoch) is not int:
            problems.append(f"{_METADATA + suffix}: no epoch count in it")
        if type(epoch) is not int:
            continue
        if not 1 <= epoch <= epochs:
            raise BackupError(
                f"The training backup in '{folder}' says {epoch} epochs were done, but this "
                f"run has epochs={epochs}: it must be from another run." + _start_over(folder)
            )
        for key, value in run.items():
            if value is not None and metadata.get(key, value) != value:
                raise BackupError(
                    f"The training backup in '{folder}' was made with {key}="
                    f"{metadata[key]!r}; this run has {key}={value!r}. Resume with the same "
                    "data and settings." + _start_over(folder)
                )
        if not _load_weights(folder, model, metadata, suffix, problems):
            continue
        history = _usable_history(folder, epoch, problems)
        if history is None:
            continue
        states, variables = metadata.get("seed_generators", []), _seed_states(model)
        if len(states) == len(variables):
            for variable, state in zip(variables, states, strict=True):
                variable.assign(np.asarray(state, dtype=variable.dtype))
        return epoch, history, metadata.get("seed")
    if not any(name.startswith(_METADATA) for name in present) and any(
        name.startswith(_WEIGHTS) for name in present
    ):
        raise BackupError(
            f"The training backup in '{folder}' holds weights but no {_METADATA}, so the "
            "number of epochs done is unknown; it is not resumed." + _start_over(folder)
        )
    raise BackupError(
        f"The training backup in '{folder}' is damaged and cannot be resumed "
        f"({'; '.join(problems)})." + _start_over(folder)
    )


def _load_weights(folder, model, metadata, suffix, problems):
    """Load the weights that go with `metadata` (by checksum); True on success."""
    checksum = metadata.get("weights_sha256")
    # Keras' own backups have no checksum: each metadata goes with its own weights.
    candidates = (_WEIGHTS, _WEIGHTS + _PREVIOUS) if checksum else (_WEIGHTS + suffix,)
    for name in candidates:
        path = folder / name
        if not path.is_file() or (checksum and _sha256(path) != checksum):
            continue
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        readable = path  # Keras reads only names ending in ".weights.h5"
        try:
            if not name.endswith(".weights.h5"):
                readable = folder / (_INCOMING + "-restore.weights.h5")
                shutil.copyfile(path, readable)
            model.load_weights(readable)
            return True
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            problems.append(f"{name}: unreadable ({type(exc).__name__}: {first})")
        finally:
            if readable != path:
                readable.unlink(missing_ok=True)
    problems.append(f"{_METADATA + suffix}: no intact weights file goes with it")
    return False


def _usable_history(folder, epoch, problems):
    """The logs of the first `epoch` epochs, from history.json or its .bkp copy."""
    for suffix in ("", _PREVIOUS):
        history = _read_json(folder / (_HISTORY + suffix), problems)
        if isinstance(history, dict) and all(
            isinstance(v, list) and len(v) >= epoch for v in history.values()
        ):
            return {name: [float(x) for x in values[:epoch]] for name, values in history.items()}
        if history is not None:
            problems.append(f"{_HISTORY + suffix}: fewer than {epoch} epochs of logs")
    return None


# --------------------------------------------------------------------------- #
# Input pipeline
# --------------------------------------------------------------------------- #
def epoch_order(n, seed, epoch):
    """The order in which `train` shows `n` images in `epoch`: a function of (seed, epoch).

    Because it depends on nothing else, a run resumed at epoch 5 shows epoch 5's
    images in the order an uninterrupted run would.

    Examples
    --------
    >>> order = epoch_order(5, seed=0, epoch=0)
    >>> sorted(order.tolist()), bool((order == epoch_order(5, 0, 0)).all())
    ([0, 1, 2, 3, 4], True)
    """
    return np.random.default_rng((seed, epoch)).permutation(n)


def make_dataset(images, labels, batch_size=32, shuffle=False, seed=None, epochs=1,
                 initial_epoch=0):
    """A ``tf.data`` pipeline of ``(images, labels)`` batches for training or evaluation.

    The arrays stay in memory as they are (uint8 images take a quarter of the
    memory of float32 ones); the pipeline gathers a batch at a time, scales
    uint8 pixels to [0, 1] and prefetches the next batches while the model
    trains on the current one. It yields the batches of epochs
    ``initial_epoch .. epochs - 1`` one after the other; with ``shuffle``,
    epoch ``e`` comes in the order ``epoch_order(N, seed, e)``.

    Parameters
    ----------
    images : (N, H, W, C) uint8 or float ndarray
        uint8 pixels are divided by 255 in the pipeline; float images are used as given.
    labels : (N, num_classes) or (N,) ndarray
        One-hot rows (for categorical cross-entropy) or integer labels.
    batch_size : int
        Images per batch; the last batch of each epoch may be smaller.
    shuffle : bool
        A new order every epoch (`epoch_order`).
    seed : int, optional
        Seed of the orders (a random one if None).
    epochs, initial_epoch : int
        Which epochs the dataset holds: all of them, for ``model.fit`` with
        ``steps_per_epoch=ceil(N / batch_size)``.

    Returns
    -------
    tf.data.Dataset
        Yields ``(float32 (B, H, W, C), labels (B, ...))`` batches.

    Raises
    ------
    ValueError
        If `images` is not 4-D, the lengths differ, `batch_size` < 1, or
        ``epochs < initial_epoch``.

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
    initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
    epochs = check_int(epochs, "epochs", minimum=initial_epoch)
    from .notebook import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    n, batch_size = len(images), int(batch_size)
    scale = images.dtype == np.uint8
    image_tensor = tf.constant(images)
    label_tensor = tf.constant(labels)
    if shuffle:
        seed = np.random.SeedSequence().entropy if seed is None else seed

        def order(epoch):
            return epoch_order(n, seed, int(epoch)).astype(np.int64)

        def one_epoch(epoch):
            indices = tf.ensure_shape(tf.numpy_function(order, [epoch], tf.int64), [n])
            return tf.data.Dataset.from_tensor_slices(indices).batch(batch_size)

        indices = tf.data.Dataset.range(initial_epoch, epochs).flat_map(one_epoch)
    else:
        indices = tf.data.Dataset.range(n).batch(batch_size).repeat(epochs - initial_epoch)

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
    restart=False,
    delete_backup=True,
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
    seed : int >= 0, optional
        Seed Keras (dropout), NumPy, Python and the shuffling before training.
    checkpoint_path : str or path-like, optional
        Save the best model so far here (``.keras``), judged by `monitor`.
        The folder is checked (and created) before the first epoch.
    monitor : str, optional
        The metric the checkpoint watches; default ``"val_accuracy"`` with
        validation, else ``"accuracy"``.
    backup_dir : str or path-like, optional
        Back up the training state after every epoch; if a run is interrupted
        (even killed), calling `train` again with the same model, data and
        `backup_dir` restores the last backup and trains only the remaining
        epochs, ending with the weights an uninterrupted run would have. The
        backup's files are deleted when training completes.
    restart : bool
        Delete an existing backup in `backup_dir` and start from epoch 1.
    delete_backup : bool
        False keeps the backup after training (`remove_backup` deletes it):
        ``cifar-course train`` deletes it only once the model is saved.
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
        For inconsistent arguments (see the messages), or a `checkpoint_path`
        that is a folder.
    BackupError
        A `ValueError`: the backup in `backup_dir` is damaged beyond its
        previous copy, has weights without metadata, or is from another run
        (other epochs, data or seed). The message names the folder and how to
        start over (``restart=True``).
    OSError
        If the checkpoint or backup folder cannot be created or written,
        before the first epoch; or if a checkpoint save fails later (the model
        then goes to a rescue file, which the message names).

    Notes
    -----
    Resuming is exact: the backup holds the weights, the optimizer's state
    and the dropout layers' random state, and each epoch's order depends only
    on (seed, epoch). On the same machine, a run killed after epoch k and
    resumed ends with the same weights as a run never interrupted.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received epochs={epochs!r}.")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(
            "`validation_split` must lie in [0, 1). "
            f"Received validation_split={validation_split}."
        )
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0)
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ValueError("`model` must be compiled first (model.compile(...)).")
    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    if len(x_train) != len(y_train):
        raise ValueError(
            f"`x_train` and `y_train` must have the same length. Received {len(x_train)} "
            f"images and {len(y_train)} labels."
        )
    # Everything that can fail without training fails now, before the first epoch.
    if checkpoint_path is not None:
        check_output_path(checkpoint_path)
    if backup_dir is not None:
        backup_dir = Path(backup_dir)
        if restart:
            remove_backup(backup_dir)
        check_folder(backup_dir, "write the training backup")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if validation_data is None and validation_split:
        keep = len(x_train) - int(round(len(x_train) * validation_split))
        validation_data = (x_train[keep:], y_train[keep:])
        x_train, y_train = x_train[:keep], y_train[:keep]
    # A resumed run must see the same data, batches and shuffling as the first one.
    run = {"images": len(x_train), "batch_size": int(batch_size), "seed": seed}
    initial_epoch, history_so_far, saved_seed = 0, {}, None
    if backup_dir is not None:
        initial_epoch, history_so_far, saved_seed = _restore(backup_dir, model, int(epochs), run)
    if seed is None:  # a random order, kept in the backup so that a resumed run follows it
        seed = saved_seed if saved_seed is not None else np.random.SeedSequence().entropy % 2**63
    run.update(seed=int(seed), epochs=int(epochs))
    train_set = make_dataset(x_train, y_train, batch_size, shuffle=True, seed=seed,
                             epochs=int(epochs), initial_epoch=initial_epoch)
    validation_set = None
    if validation_data is not None:
        x_val, y_val = validation_data
        validation_set = make_dataset(x_val, y_val, max(batch_size, 256))
    if monitor is None:
        monitor = "val_accuracy" if validation_set is not None else "accuracy"

    all_callbacks = []
    history = {name: list(values) for name, values in history_so_far.items()}
    if backup_dir is not None:
        all_callbacks.append(_TrainingBackup(backup_dir, run, history))
    if checkpoint_path is not None:
        checkpoint = BestModelCheckpoint(checkpoint_path, monitor=monitor, backup_dir=backup_dir)
        checkpoint.restore(history_so_far)
        all_callbacks.append(checkpoint)
    if verbose:
        all_callbacks.append(EpochLogger(epochs, print_fn=print_fn))
        if initial_epoch:
            print_fn(f"resuming after epoch {initial_epoch}/{epochs} from the backup")
    all_callbacks.extend(callbacks)
    if initial_epoch < epochs:
        try:
            result = model.fit(
                train_set,
                epochs=int(epochs),
                initial_epoch=initial_epoch,
                steps_per_epoch=math.ceil(len(x_train) / batch_size),
                validation_data=validation_set,
                callbacks=all_callbacks,
                shuffle=False,  # make_dataset shuffles every epoch itself
                verbose=0,
            )
        except BaseException:
            if backup_dir is not None and not initial_epoch and not history:
                remove_backup(backup_dir)  # no epoch was backed up: leave no empty folder
            raise
    else:  # every epoch was done before: nothing to train, the backup has it all
        result = keras.callbacks.History()
        result.set_model(model)
    if backup_dir is not None:
        result.history = history
        result.epoch = list(range(len(next(iter(history.values()), []))))
        if delete_backup:
            remove_backup(backup_dir)
    return result
